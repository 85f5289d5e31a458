-- The front desk: settings for the popup's next steps, wrap-ups on calls, and the callback
-- list (折り返し) of missed calls.

-- One settings document (action buttons, 用件 list, click-to-call), checked by
-- `domain::front_desk::settings` before it is stored.
CREATE TABLE front_desk_settings (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  body       TEXT NOT NULL,
  updated_by TEXT,
  updated_at INTEGER NOT NULL
);

-- A call's wrap-up: on the call, not on the customer. Deleted with the call (retention).
CREATE TABLE call_wrapups (
  call_id    TEXT PRIMARY KEY REFERENCES calls(id) ON DELETE CASCADE,
  category   TEXT NOT NULL DEFAULT '',
  outcome    TEXT NOT NULL DEFAULT '',
  note       TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
  updated_by TEXT,
  updated_at INTEGER NOT NULL
);
CREATE INDEX call_wrapups_category ON call_wrapups(category);
CREATE INDEX call_wrapups_outcome ON call_wrapups(outcome);

-- One row per missed or voicemail call: 未対応 (open) → 対応中 (in_progress) → 対応済 (done).
-- A later answered call from the same number resolves it (`note` says so).
CREATE TABLE callbacks (
  id          INTEGER PRIMARY KEY,
  call_id     TEXT NOT NULL UNIQUE REFERENCES calls(id) ON DELETE CASCADE,
  store_id    INTEGER REFERENCES stores(id) ON DELETE SET NULL,
  phone       TEXT NOT NULL,
  status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_progress', 'done')),
  note        TEXT NOT NULL DEFAULT '',
  created_at  INTEGER NOT NULL,
  updated_by  TEXT,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX callbacks_status ON callbacks(status, store_id, created_at DESC);
CREATE INDEX callbacks_phone ON callbacks(phone, status);
