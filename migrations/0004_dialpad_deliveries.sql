-- Real Dialpad deliveries: where a call came in when its number is hidden, and what arrives
-- after a call (voicemail, recordings, transcripts, AI recaps).

-- A store's Dialpad office: the fallback when the dialled number is blocked or absent.
ALTER TABLE stores ADD COLUMN dialpad_office_id TEXT;
CREATE UNIQUE INDEX IF NOT EXISTS stores_dialpad_office ON stores(dialpad_office_id)
  WHERE dialpad_office_id IS NOT NULL;

-- Filled in by post-call events, whenever they arrive (before or after the hangup).
ALTER TABLE calls ADD COLUMN voicemail_url TEXT;
ALTER TABLE calls ADD COLUMN recording_urls TEXT;   -- JSON array of URLs
ALTER TABLE calls ADD COLUMN transcript TEXT;
ALTER TABLE calls ADD COLUMN summary TEXT;

-- Calls still "live" long after their last event lost their end: the cron closes them.
CREATE INDEX IF NOT EXISTS calls_open ON calls(rank, updated_at);

-- Counts and amounts beyond JavaScript's safe integers cannot come back from D1 exactly;
-- every write path now refuses them, and rows written before are brought into range.
UPDATE customers SET visit_count = 9007199254740991 WHERE visit_count > 9007199254740991;
UPDATE customers SET total_spend = 9007199254740991 WHERE total_spend > 9007199254740991;
UPDATE customers SET visit_count = 0 WHERE visit_count < 0;
UPDATE customers SET total_spend = 0 WHERE total_spend < 0;

-- Each leg's phase rank after the event (1 ringing, 2 talking, 3 over; 0 no change): a leg's
-- end ends the customer's call only while no other leg of it is open.
ALTER TABLE call_events ADD COLUMN rank INTEGER NOT NULL DEFAULT 0;
