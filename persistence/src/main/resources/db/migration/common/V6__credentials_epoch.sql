-- A counter of changes to users and tokens (http-api's auth.UserStore), shared by every node. Each
-- change that can make a cached credential wrong (a password or role changed, a user deleted, a token
-- revoked) adds one to it in the same transaction; every node reads it about once a second and drops
-- its cached credentials when it has moved. One row, id 1.
CREATE TABLE IF NOT EXISTS deploy_credentials_epoch (
  id SMALLINT PRIMARY KEY,
  epoch BIGINT NOT NULL);
INSERT INTO deploy_credentials_epoch (id, epoch)
  SELECT 1, 0 WHERE NOT EXISTS (SELECT 1 FROM deploy_credentials_epoch WHERE id = 1);
