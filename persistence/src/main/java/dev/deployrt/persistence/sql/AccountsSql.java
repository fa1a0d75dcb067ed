package dev.deployrt.persistence.sql;

/**
 * SQL of the users, API tokens and credentials epoch (http-api's {@code auth} package): tables
 * {@code deploy_users} and {@code deploy_tokens}, created by {@code
 * db/migration/common/V5__users_and_tokens.sql}, and {@code deploy_credentials_epoch} (one row, id
 * 1), created by {@code db/migration/common/V6__credentials_epoch.sql}, and {@code
 * deploy_sessions}, created by {@code db/migration/common/V9__console_sessions.sql}.
 */
public final class AccountsSql {
  // ---- deploy_users

  public static final String COUNT_USERS = "SELECT COUNT(*) FROM deploy_users";

  public static final String SELECT_USERS =
      "SELECT name, role, created_at_ms, created_by, updated_at_ms FROM deploy_users ORDER BY name";

  public static final String SELECT_USER_BY_NAME =
      "SELECT name, role, created_at_ms, created_by, updated_at_ms "
          + "FROM deploy_users WHERE name = ?";

  /** {@link #SELECT_USER_BY_NAME}, locking the row until the transaction ends. */
  public static final String SELECT_USER_BY_NAME_FOR_UPDATE =
      "SELECT name, role, created_at_ms, created_by, updated_at_ms "
          + "FROM deploy_users WHERE name = ? FOR UPDATE";

  public static final String SELECT_PASSWORD_BY_NAME =
      "SELECT role, password_hash FROM deploy_users WHERE name = ?";

  /** {@link #SELECT_PASSWORD_BY_NAME}, locking the row until the transaction ends. */
  public static final String SELECT_PASSWORD_BY_NAME_FOR_UPDATE =
      SELECT_PASSWORD_BY_NAME + " FOR UPDATE";

  /** Locks every admin's row, in name order. */
  public static final String LOCK_ADMINS =
      "SELECT name FROM deploy_users WHERE role = 'ADMIN' ORDER BY name FOR UPDATE";

  /** The admins other than the one named. */
  public static final String SELECT_OTHER_ADMINS =
      "SELECT name FROM deploy_users WHERE role = 'ADMIN' AND name <> ?";

  public static final String INSERT_USER =
      "INSERT INTO deploy_users "
          + "(name, role, password_hash, created_at_ms, created_by, updated_at_ms) "
          + "VALUES (?, ?, ?, ?, ?, ?)";

  /** Sets the role and/or the password hash (a null argument leaves it) and updated_at_ms. */
  public static final String UPDATE_USER =
      "UPDATE deploy_users SET role = COALESCE(?, role), "
          + "password_hash = COALESCE(?, password_hash), updated_at_ms = ? WHERE name = ?";

  public static final String DELETE_USER = "DELETE FROM deploy_users WHERE name = ?";

  // ---- deploy_tokens

  /** The token's user, role, expiry and revocation, by the SHA-256 of its secret. */
  public static final String SELECT_TOKEN_USER_BY_SHA256 =
      "SELECT u.name, u.role, t.expires_at_ms, t.revoked_at_ms "
          + "FROM deploy_tokens t JOIN deploy_users u ON u.name = t.user_name "
          + "WHERE t.token_sha256 = ?";

  /** Every token, newest first. */
  public static final String SELECT_TOKENS =
      "SELECT token_id, user_name, description, created_at_ms, "
          + "created_by, expires_at_ms, revoked_at_ms, revoked_by FROM deploy_tokens "
          + "ORDER BY created_at_ms DESC, token_id";

  public static final String TOKEN_EXISTS = "SELECT 1 FROM deploy_tokens WHERE token_id = ?";

  public static final String INSERT_TOKEN =
      "INSERT INTO deploy_tokens (token_id, token_sha256, "
          + "user_name, description, created_at_ms, created_by, expires_at_ms) "
          + "VALUES (?, ?, ?, ?, ?, ?, ?)";

  /** Revokes one token unless it is revoked already. */
  public static final String REVOKE_TOKEN =
      "UPDATE deploy_tokens SET revoked_at_ms = ?, "
          + "revoked_by = ? WHERE token_id = ? AND revoked_at_ms IS NULL";

  /** Revokes every token of a user that is not revoked already. */
  public static final String REVOKE_USER_TOKENS =
      "UPDATE deploy_tokens SET revoked_at_ms = ?, "
          + "revoked_by = ? WHERE user_name = ? AND revoked_at_ms IS NULL";

  // ---- deploy_sessions

  public static final String INSERT_SESSION =
      "INSERT INTO deploy_sessions (session_sha256, user_name, created_at_ms, expires_at_ms) "
          + "VALUES (?, ?, ?, ?)";

  /** The session's user, role and expiry, by the SHA-256 of its secret. */
  public static final String SELECT_SESSION_USER_BY_SHA256 =
      "SELECT u.name, u.role, s.expires_at_ms "
          + "FROM deploy_sessions s JOIN deploy_users u ON u.name = s.user_name "
          + "WHERE s.session_sha256 = ?";

  public static final String DELETE_SESSION =
      "DELETE FROM deploy_sessions WHERE session_sha256 = ?";

  /** Ends every session of a user (a new password, the user deleted). */
  public static final String DELETE_USER_SESSIONS =
      "DELETE FROM deploy_sessions WHERE user_name = ?";

  public static final String DELETE_EXPIRED_SESSIONS =
      "DELETE FROM deploy_sessions WHERE expires_at_ms <= ?";

  // ---- deploy_credentials_epoch

  public static final String SELECT_CREDENTIALS_EPOCH =
      "SELECT epoch FROM deploy_credentials_epoch WHERE id = 1";

  /** Updates no row if the epoch row is missing. */
  public static final String MOVE_CREDENTIALS_EPOCH =
      "UPDATE deploy_credentials_epoch SET epoch = epoch + 1 WHERE id = 1";

  private AccountsSql() {}
}
