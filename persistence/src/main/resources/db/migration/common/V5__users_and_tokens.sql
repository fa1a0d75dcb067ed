-- Users and API tokens (http-api's auth.UserStore), shared by every node of a cluster.
-- password_hash is a PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash); a token is stored only
-- as the SHA-256 of its secret. Revoked tokens are kept (revoked_at_ms, revoked_by) for the audit.
CREATE TABLE IF NOT EXISTS deploy_users (
  name VARCHAR(64) PRIMARY KEY,
  role VARCHAR(16) NOT NULL,
  password_hash VARCHAR(512) NOT NULL,
  created_at_ms BIGINT NOT NULL,
  created_by VARCHAR(64) NOT NULL,
  updated_at_ms BIGINT NOT NULL);

CREATE TABLE IF NOT EXISTS deploy_tokens (
  token_id VARCHAR(36) PRIMARY KEY,
  token_sha256 VARCHAR(64) NOT NULL UNIQUE,
  user_name VARCHAR(64) NOT NULL,
  description VARCHAR(512),
  created_at_ms BIGINT NOT NULL,
  created_by VARCHAR(64) NOT NULL,
  expires_at_ms BIGINT,
  revoked_at_ms BIGINT,
  revoked_by VARCHAR(64));
CREATE INDEX IF NOT EXISTS deploy_tokens_user ON deploy_tokens (user_name);
