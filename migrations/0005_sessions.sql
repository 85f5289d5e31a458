-- Server-side sessions: a session token names its row here, so a logout ends that token
-- everywhere it was used (not just the cookie in one browser). "Log out everywhere" deletes
-- every row of the user and bumps users.token_version.
CREATE TABLE sessions (
  id          TEXT PRIMARY KEY CHECK (length(id) = 32),
  user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL,
  -- epoch seconds, the token's exp
  expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id, expires_at);
