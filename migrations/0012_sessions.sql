-- Sessions that end when they should (issue 23): each session remembers when it was last used
-- (refreshed at most every few minutes, so an idle one ends after SESSION_IDLE_MINUTES), the
-- daily cron deletes the expired ones through an index, and users record who last changed them.
ALTER TABLE sessions ADD COLUMN last_seen INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET last_seen = created_at;
-- The daily prune (expires_at < now) and the per-user cap (oldest first) both use an index.
CREATE INDEX sessions_expires ON sessions(expires_at);
DROP INDEX sessions_user;
CREATE INDEX sessions_user ON sessions(user_id, created_at);
-- Who made the last change to this account (an admin's edit through the Worker; NULL for the
-- CLI and the seed). The audit log (操作履歴) will keep the full history.
ALTER TABLE users ADD COLUMN updated_by INTEGER REFERENCES users(id) ON DELETE SET NULL;
