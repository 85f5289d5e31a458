-- 操作履歴 (issue 23): one row per access to personal data through the console — a popup or
-- customer page opened, an edit, merge, delete, note, wrap-up, export, import, an account or
-- settings change, a login and a failed login. Written after the answer (never on a pop's
-- path); deleted by the daily cron after AUDIT_RETENTION_DAYS (default 3 years).
-- No foreign keys: a row outlives the customer, call, store or account it names (a deleted
-- customer's history is the point), so the user's login id is kept as it was at the time.
CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  at          INTEGER NOT NULL,              -- epoch ms
  user_id     INTEGER,                       -- users.id of who did it (NULL: a failed login)
  login_id    TEXT,                          -- their login id at the time
  action      TEXT NOT NULL,                 -- domain::audit::Action::code
  customer_id INTEGER,
  call_id     TEXT,                          -- the call a popup was opened from, a wrap-up's call
  store_id    INTEGER,                       -- the user's store at the time (NULL: admins)
  count       INTEGER,                       -- rows exported / imported
  detail      TEXT                           -- JSON: what changed, pseudonyms of a failed login
);
-- Newest first, and each filter of the page (user, customer, action) within a time range.
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_user ON audit_log(user_id, at);
CREATE INDEX audit_log_customer ON audit_log(customer_id, at);
CREATE INDEX audit_log_action ON audit_log(action, at);
