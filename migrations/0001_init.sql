-- Initial schema of the CTI database (D1 / SQLite).
-- Never edit a migration that has been applied anywhere: add a new numbered file instead.

CREATE TABLE stores (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- The dialled number's longest matching prefix names the store. Prefixes are normalised
-- digits and unique: one prefix can never point at two stores.
CREATE TABLE store_prefixes (
  prefix   TEXT PRIMARY KEY CHECK (length(prefix) BETWEEN 2 AND 20 AND prefix NOT GLOB '*[^0-9]*'),
  store_id INTEGER NOT NULL REFERENCES stores(id) ON DELETE CASCADE
);
CREATE INDEX store_prefixes_store ON store_prefixes(store_id);

CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  login_id      TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(login_id) BETWEEN 1 AND 64),
  display_name  TEXT NOT NULL,
  role          TEXT NOT NULL CHECK (role IN ('admin', 'staff')),
  store_id      INTEGER REFERENCES stores(id) ON DELETE SET NULL,
  password_hash TEXT NOT NULL,
  -- Bumped on password reset or disable: every session token carries it, so old ones die.
  token_version INTEGER NOT NULL DEFAULT 0,
  disabled      INTEGER NOT NULL DEFAULT 0,
  created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE TABLE customers (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  kana          TEXT NOT NULL DEFAULT '',
  memo          TEXT NOT NULL DEFAULT '',
  home_store_id INTEGER REFERENCES stores(id) ON DELETE SET NULL,
  customer_type TEXT NOT NULL DEFAULT '新規' CHECK (customer_type IN ('新規', '会員', 'VIP')),
  flag          TEXT CHECK (flag IN ('要注意', 'ブロック')),
  visit_count   INTEGER NOT NULL DEFAULT 0,
  total_spend   INTEGER NOT NULL DEFAULT 0,
  last_visit_at TEXT,
  created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX customers_home_store ON customers(home_store_id);

-- One customer may have several numbers; one number may belong to several customers
-- (a family or office phone), in which case the popup offers a choice.
CREATE TABLE customer_phones (
  phone       TEXT NOT NULL CHECK (length(phone) BETWEEN 2 AND 21),
  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  PRIMARY KEY (phone, customer_id)
);
CREATE INDEX customer_phones_customer ON customer_phones(customer_id);

-- One row per customer call (all Dialpad legs of it share the id: entry point, else master,
-- else the call's own id). Updated as events arrive; `rank` only moves forward so that an
-- out-of-order retry never regresses the state.
CREATE TABLE calls (
  id           TEXT PRIMARY KEY,
  direction    TEXT NOT NULL,
  caller       TEXT NOT NULL DEFAULT '',
  dialled      TEXT NOT NULL DEFAULT '',
  store_id     INTEGER REFERENCES stores(id) ON DELETE SET NULL,
  customer_id  INTEGER REFERENCES customers(id) ON DELETE SET NULL,
  state        TEXT NOT NULL,
  phase        TEXT NOT NULL,
  rank         INTEGER NOT NULL DEFAULT 0,
  -- The `leg:state` event that popped the window: set once, so a retry of that same event
  -- pops again (its first delivery may have failed) and no other event ever does.
  popped_by    TEXT,
  is_test      INTEGER NOT NULL DEFAULT 0,
  started_at   INTEGER NOT NULL,  -- epoch ms
  connected_at INTEGER,
  ended_at     INTEGER,
  duration_ms  INTEGER,
  answered_by  TEXT,
  updated_at   INTEGER NOT NULL
);
CREATE INDEX calls_started ON calls(started_at DESC);
CREATE INDEX calls_caller ON calls(caller, started_at DESC);
CREATE INDEX calls_store ON calls(store_id, started_at DESC);

-- Every accepted webhook event, once: (leg, state) is the idempotency key for Dialpad's
-- retries. `delivered` is set after the hub broadcast succeeded, so a retry of an event whose
-- broadcast failed is broadcast again.
CREATE TABLE call_events (
  call_id     TEXT NOT NULL,
  state       TEXT NOT NULL,
  group_id    TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  event_ts    INTEGER,
  delivered   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (call_id, state)
);
CREATE INDEX call_events_group ON call_events(group_id);
