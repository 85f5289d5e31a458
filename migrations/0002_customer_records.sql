-- Customer records behind the popup: typed notes, and optimistic concurrency for edits.

-- 一般 (general), 好み (preferences), 苦情 (complaint), 注意 (caution), 重要 (important).
CREATE TABLE customer_notes (
  id          INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  note_type   TEXT NOT NULL CHECK (note_type IN ('一般', '好み', '苦情', '注意', '重要')),
  body        TEXT NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
  author_id   INTEGER REFERENCES users(id) ON DELETE SET NULL,
  author_name TEXT NOT NULL,
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX customer_notes_customer ON customer_notes(customer_id, id DESC);

-- Every edit must name the version it started from; a stale version is refused (409) instead
-- of silently overwriting someone else's text. `edit_token` lets the other statements of the
-- same edit batch (phone list) apply only when the version check passed.
ALTER TABLE customers ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE customers ADD COLUMN edit_token TEXT;

CREATE INDEX customers_kana ON customers(kana);
CREATE INDEX customers_name ON customers(name);
