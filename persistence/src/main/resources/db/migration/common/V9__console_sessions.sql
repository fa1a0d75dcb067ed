-- Web console sessions (http-api's auth.SessionStore), shared by every node so a session opened on one
-- node works on all of them. A session is stored only as the SHA-256 of its secret (the cookie's
-- value). Rows are deleted when the user signs out, changes their password or is deleted; expired rows
-- are swept when sessions are opened.
CREATE TABLE IF NOT EXISTS deploy_sessions (
  session_sha256 VARCHAR(64) PRIMARY KEY,
  user_name VARCHAR(64) NOT NULL,
  created_at_ms BIGINT NOT NULL,
  expires_at_ms BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS deploy_sessions_user ON deploy_sessions (user_name);
