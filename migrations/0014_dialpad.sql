-- Dialpad's API (issue 26): the settings of its features, accounts linked to Dialpad users,
-- the gap filler's last run, and recording share links already made.
-- The contacts sync's queue lives in its own Durable Object (DialpadSync), not here.

-- One document (JSON): which features are on, recording privacy, 用件 / 対応結果 → labels.
CREATE TABLE IF NOT EXISTS dialpad_settings (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  body       TEXT NOT NULL,
  updated_by TEXT,
  updated_at INTEGER NOT NULL
);

-- An account's Dialpad user: 発信 through the API rings that user's devices.
CREATE TABLE IF NOT EXISTS dialpad_user_links (
  user_id         INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  dialpad_user_id TEXT NOT NULL CHECK (length(dialpad_user_id) BETWEEN 1 AND 32),
  dialpad_name    TEXT NOT NULL DEFAULT '',
  updated_at      INTEGER NOT NULL
);

-- Small state of the Dialpad jobs (the gap filler's last run).
CREATE TABLE IF NOT EXISTS dialpad_state (
  key        TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);

-- A recording's or voicemail's share link, made once per call and kind.
CREATE TABLE IF NOT EXISTS dialpad_share_links (
  call_id    TEXT NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('recording', 'voicemail')),
  url        TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (call_id, kind)
);
