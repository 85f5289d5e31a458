-- 折り返し as a queue of promises (issue 22): one open item per (number, store) holding every
-- call that asked for it (missed, voicemail, a wrap-up saved with 折り返し予定) and every
-- attempt to call back; an owner and a due time; and wrap-ups carry a version, so two desks
-- cannot overwrite each other's without a word.
--
-- Existing rows become items: the done ones one item each (same id), the open and in-progress
-- ones of one number and store merged into one item (the lowest id; 対応中 when any of them
-- was). Nothing references `callbacks`, so the old table is copied aside and replaced.

CREATE TABLE m0011_callbacks AS SELECT * FROM callbacks;
DROP TABLE callbacks;

CREATE TABLE callbacks (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  store_id       INTEGER REFERENCES stores(id) ON DELETE SET NULL,
  phone          TEXT NOT NULL,
  -- 未対応 (open) → 対応中 (in_progress) → 対応済 (done).
  status         TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_progress', 'done')),
  -- How it was closed: empty by hand, or the automatic close's reason.
  note           TEXT NOT NULL DEFAULT '',
  -- The later answered call (same number, same store) that closed it by itself.
  closed_by_call TEXT,
  -- Who owns the promise, and by when (set by PATCH; the organisation issue builds on them).
  assignee_id    INTEGER REFERENCES users(id) ON DELETE SET NULL,
  due_at         INTEGER,
  created_at     INTEGER NOT NULL,
  updated_by     TEXT,
  updated_at     INTEGER NOT NULL
);
-- One open item per number and store. Items whose store is unknown or deleted (NULL) are
-- kept apart by the writes (`resources::callbacks`), not by the index, so that deleting a
-- store (store_id set to NULL) never collides.
CREATE UNIQUE INDEX callbacks_one_open ON callbacks(phone, store_id) WHERE status != 'done';
CREATE INDEX callbacks_status ON callbacks(status, store_id, created_at);

-- The calls of an item: why each is there (missed, voicemail, wrapup). A call deleted by
-- retention leaves its item.
CREATE TABLE callback_calls (
  callback_id INTEGER NOT NULL REFERENCES callbacks(id) ON DELETE CASCADE,
  call_id     TEXT NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
  reason      TEXT NOT NULL CHECK (reason IN ('missed', 'voicemail', 'wrapup')),
  added_at    INTEGER NOT NULL,
  PRIMARY KEY (callback_id, call_id)
);
CREATE INDEX callback_calls_call ON callback_calls(call_id);

-- Each attempt to call back: 不在 / 伝言 / つながった / その他, a note, who, when.
CREATE TABLE callback_attempts (
  id          INTEGER PRIMARY KEY,
  callback_id INTEGER NOT NULL REFERENCES callbacks(id) ON DELETE CASCADE,
  result      TEXT NOT NULL CHECK (result IN ('不在', '伝言', 'つながった', 'その他')),
  note        TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
  by_user     INTEGER,
  by_name     TEXT NOT NULL,
  at          INTEGER NOT NULL
);
CREATE INDEX callback_attempts_item ON callback_attempts(callback_id, at);

INSERT INTO callbacks (id, store_id, phone, status, note, created_at, updated_by, updated_at)
  SELECT id, store_id, phone, status, note, created_at, updated_by, updated_at
  FROM m0011_callbacks WHERE status = 'done';
INSERT INTO callbacks (id, store_id, phone, status, note, created_at, updated_by, updated_at)
  SELECT min(id), store_id, phone,
         CASE WHEN max(status = 'in_progress') THEN 'in_progress' ELSE 'open' END,
         '', min(created_at), NULL, max(updated_at)
  FROM m0011_callbacks WHERE status != 'done' GROUP BY phone, ifnull(store_id, 0);
UPDATE callbacks SET updated_by = (
    SELECT o.updated_by FROM m0011_callbacks o
    WHERE o.phone = callbacks.phone AND ifnull(o.store_id, 0) = ifnull(callbacks.store_id, 0)
      AND o.status != 'done' AND o.updated_by IS NOT NULL ORDER BY o.updated_at DESC LIMIT 1)
  WHERE status != 'done';

INSERT OR IGNORE INTO callback_calls (callback_id, call_id, reason, added_at)
  SELECT CASE WHEN o.status = 'done' THEN o.id ELSE (
           SELECT min(o2.id) FROM m0011_callbacks o2
           WHERE o2.status != 'done' AND o2.phone = o.phone
             AND ifnull(o2.store_id, 0) = ifnull(o.store_id, 0)) END,
         o.call_id,
         CASE WHEN cl.phase = 'voicemail' THEN 'voicemail' ELSE 'missed' END,
         o.created_at
  FROM m0011_callbacks o JOIN calls cl ON cl.id = o.call_id;

DROP TABLE m0011_callbacks;

-- A wrap-up's version: a save names the version it read; a stale one is refused (409).
ALTER TABLE call_wrapups ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
