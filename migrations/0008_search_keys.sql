-- Search keys (domain::search::key): name and フリガナ folded to one form (hiragana ->
-- katakana, full/half width, spaces removed), written by every write path. Rows from before
-- have NULL and are filled in by the Worker (the first search, and the cron).
ALTER TABLE customers ADD COLUMN name_key TEXT;
ALTER TABLE customers ADD COLUMN kana_key TEXT;
CREATE INDEX IF NOT EXISTS customers_unkeyed ON customers(id) WHERE name_key IS NULL;
