-- Store ids are never reused. `INTEGER PRIMARY KEY` hands a new row max(id)+1, so deleting the
-- newest store and creating another gave the new store the deleted one's id, and anything
-- still tagged with that id (a console socket's room `store:<id>`, a cached session) would
-- hear the new store's calls. AUTOINCREMENT never reuses an id. SQLite cannot ALTER a
-- primary key, so the table is rebuilt with the same ids.
--
-- D1 runs migrations with foreign keys enforced and cannot turn them off; deferring them lets
-- the table be swapped. Dropping the old table still runs its ON DELETE actions (prefixes
-- would be deleted, users', customers' and calls' store set to NULL), so those references
-- are copied aside first and put back after the swap.
PRAGMA defer_foreign_keys = on;

CREATE TABLE stores_new (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  name       TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
INSERT INTO stores_new (id, name, created_at) SELECT id, name, created_at FROM stores;

CREATE TABLE m0006_prefixes AS SELECT prefix, store_id FROM store_prefixes;
CREATE TABLE m0006_users AS SELECT id, store_id FROM users WHERE store_id IS NOT NULL;
CREATE TABLE m0006_customers AS SELECT id, home_store_id FROM customers WHERE home_store_id IS NOT NULL;
CREATE TABLE m0006_calls AS SELECT id, store_id FROM calls WHERE store_id IS NOT NULL;

DROP TABLE stores;
ALTER TABLE stores_new RENAME TO stores;

INSERT INTO store_prefixes (prefix, store_id) SELECT prefix, store_id FROM m0006_prefixes;
UPDATE users SET store_id = (SELECT b.store_id FROM m0006_users b WHERE b.id = users.id)
  WHERE id IN (SELECT id FROM m0006_users);
UPDATE customers SET home_store_id = (SELECT b.home_store_id FROM m0006_customers b WHERE b.id = customers.id)
  WHERE id IN (SELECT id FROM m0006_customers);
UPDATE calls SET store_id = (SELECT b.store_id FROM m0006_calls b WHERE b.id = calls.id)
  WHERE id IN (SELECT id FROM m0006_calls);

DROP TABLE m0006_prefixes;
DROP TABLE m0006_users;
DROP TABLE m0006_customers;
DROP TABLE m0006_calls;

-- Per-user rate limits (e.g. CSV exports per minute): one row per counted action.
CREATE TABLE rate_events (
  key TEXT NOT NULL,
  at  INTEGER NOT NULL -- epoch ms
);
CREATE INDEX rate_events_key ON rate_events(key, at);
