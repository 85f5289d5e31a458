-- A customer card's "missed in 30 days" counts the caller's missed calls: an index of the
-- missed calls alone, so a frequent caller's other calls are not read for it. The card's
-- query names it (INDEXED BY): without statistics SQLite would prefer calls_caller_usage and
-- read every call of the last 30 days.
CREATE INDEX IF NOT EXISTS calls_caller_missed ON calls(caller, started_at, store_id)
  WHERE is_test = 0 AND phase IN ('missed', 'voicemail');
