-- Business hours (issue 25): per store weekly hours and holidays (a JSON document validated
-- by `domain::hours`), the store's required wrap-up, and the organisation's hours settings:
-- the business-day cutoff (営業日切替), a callback's default due time and whether an item needs
-- an attempt with an outcome before it can be closed. 時間外 is decided when a call is read
-- (from its start and its store's hours), so the hub and the pop are untouched.
CREATE TABLE store_hours (
  store_id       INTEGER PRIMARY KEY REFERENCES stores(id) ON DELETE CASCADE,
  body           TEXT NOT NULL DEFAULT '{}',
  -- An answered call must have a 用件 before its popup is closed (a reminder).
  require_wrapup INTEGER NOT NULL DEFAULT 0 CHECK (require_wrapup IN (0, 1)),
  updated_by     TEXT,
  updated_at     INTEGER NOT NULL
);

CREATE TABLE hours_settings (
  id                       INTEGER PRIMARY KEY CHECK (id = 1),
  -- Minutes after local (JST) midnight at which the business day changes.
  cutoff_min               INTEGER NOT NULL DEFAULT 0 CHECK (cutoff_min BETWEEN 0 AND 1439),
  callback_due_min         INTEGER NOT NULL DEFAULT 30 CHECK (callback_due_min BETWEEN 1 AND 10080),
  callback_require_outcome INTEGER NOT NULL DEFAULT 0 CHECK (callback_require_outcome IN (0, 1)),
  updated_by               TEXT,
  updated_at               INTEGER NOT NULL
);
