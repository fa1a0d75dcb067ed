package dev.deployrt.http.auth;

import dev.deployrt.errors.ApiException;
import dev.deployrt.errors.ErrorCode;
import dev.deployrt.node.NodeRuntime;
import dev.deployrt.persistence.sql.AccountsSql;
import dev.deployrt.readmodel.SharedPool;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Users and API tokens, kept in the shared database ({@code deploy_users}, {@code deploy_tokens}),
 * so every node of a cluster knows the same ones.
 *
 * <p>Guarantees: passwords are stored only as Argon2id hashes ({@link PasswordHashing}); a token's
 * secret is shown once, when it is created, and stored only as its SHA-256 (it is 256 random bits,
 * so a fast hash is enough). The user a request acts as always comes from its credentials. The last
 * admin can be neither deleted nor demoted. A deleted user's tokens are revoked with it.
 *
 * <p>Verified credentials are cached ({@link CredentialCache}: by a SHA-256 of name and password,
 * or the token's SHA-256, at most 30 s); a change that can make one wrong clears this node's cache
 * at once and moves the credentials epoch in the same transaction, so every node drops its copy
 * within about a second. A token is created, and a user deleted, with the user's row locked, so no
 * token can be created for a user being deleted and outlive it. Passwords are checked by a {@link
 * PasswordVerifier} (two threads, a short queue, 429 past it). The first admin is created by {@link
 * AdminBootstrap}; until it exists, sign-ins answer 503.
 */
public final class UserStore {

  private static final Logger log = LoggerFactory.getLogger(UserStore.class);
  public static final Pattern NAME = Pattern.compile("^[a-z0-9][a-z0-9._-]{0,63}$");
  public static final int MIN_PASSWORD = 12;
  public static final int MAX_PASSWORD = 1024;
  static final String TOKEN_PREFIX = "dpt_";

  public record UserInfo(
      String name, Role role, Instant createdAt, String createdBy, Instant updatedAt) {}

  private final SharedPool pool;
  private final Executor blocking;
  private final PasswordVerifier verifier = new PasswordVerifier();
  private final AccountsDatabase database;
  private final TokenStore tokens;
  private final CredentialCache credentials;
  private final CompletableFuture<Void> bootstrapped;

  private UserStore(NodeRuntime node, String adminPassword) {
    this.pool = node.sharedPool();
    this.blocking = node.database();
    this.database = new AccountsDatabase(blocking);
    this.credentials =
        new CredentialCache(
            pool,
            node.system().settings().config().getDuration("deploy.credentials-check-interval"));
    node.system()
        .getWhenTerminated()
        .thenRun(
            () -> {
              verifier.shutdown();
              credentials.shutdown();
            });
    // Lookups wait for this, so the first of them already knows the epoch and can be cached.
    this.bootstrapped =
        new AdminBootstrap(
                pool,
                node.settings().dataDir(),
                adminPassword,
                node.nodeName(),
                blocking,
                credentials::checkEpoch,
                credentials.checker(),
                node.system().getWhenTerminated())
            .startAfter(node.journalReady());
    bootstrapped.thenRun(credentials::startChecking);
    this.tokens = new TokenStore(pool, database, credentials);
  }

  /** The API tokens, in the same database. */
  public TokenStore tokenStore() {
    return tokens;
  }

  /**
   * The node's user store; creates {@code admin} in the background once the database is ready.
   *
   * @throws IllegalArgumentException if {@code adminPassword} is set but not a valid password
   */
  public static UserStore start(NodeRuntime node, String adminPassword) {
    checkAdminPassword(adminPassword);
    return new UserStore(node, adminPassword);
  }

  /**
   * Refuses a {@code DEPLOY_ADMIN_PASSWORD} (deploy.admin-password) that the API would refuse for
   * any user: a clear start-up error, not a weak admin.
   */
  public static void checkAdminPassword(String adminPassword) {
    AdminBootstrap.checkAdminPassword(adminPassword);
  }

  /** Completes once the initial admin exists (or the database already had users). */
  public CompletionStage<Void> ready() {
    return bootstrapped;
  }

  // ---- authentication
  // ----------------------------------------------------------------------------

  /** The user, or a failed stage with 401 (wrong credentials), 429 (too many at once) or 503. */
  public CompletionStage<User> authenticatePassword(String name, String password) {
    String key = "p:" + sha256(name + "\u0000" + password);
    User known = credentials.get(key);
    if (known != null) {
      return CompletableFuture.completedFuture(known);
    }
    long lookedUpIn = credentials.lookupStarted();
    return matchingRow(name, password)
        .thenApply(
            row -> {
              if (row == null) {
                throw Authentication.unauthorized("wrong user name or password");
              }
              return credentials.remember(
                  key, new User(name, row.role()), Long.MAX_VALUE, lookedUpIn);
            });
  }

  /**
   * Whether {@code password} is {@code name}'s (hashed on the verifiers: 429 when they are busy).
   */
  public CompletionStage<Boolean> passwordMatches(String name, String password) {
    return matchingRow(name, password).thenApply(row -> row != null);
  }

  /**
   * {@code name}'s row if {@code password} is its password, else null (also when there is no such
   * user).
   */
  private CompletionStage<PasswordRow> matchingRow(String name, String password) {
    return whenBootstrapped(() -> passwordRow(name))
        .thenCompose(
            row ->
                verifier
                    .verify(password, row == null ? null : row.hash())
                    .thenApply(ok -> ok ? row : null));
  }

  private record PasswordRow(Role role, String hash) {}

  private CompletionStage<PasswordRow> passwordRow(String name) {
    return database.supply(
        () -> {
          try (Connection c = pool.connection();
              PreparedStatement q = c.prepareStatement(AccountsSql.SELECT_PASSWORD_BY_NAME)) {
            q.setString(1, name);
            try (ResultSet rs = q.executeQuery()) {
              return rs.next()
                  ? new PasswordRow(Role.valueOf(rs.getString(1)), rs.getString(2))
                  : null;
            }
          }
        });
  }

  /**
   * Runs {@code work} once the initial admin exists; until then (a database that is not reachable
   * yet, a bootstrap being retried) answers 503 at once instead of making the request wait.
   */
  private <T> CompletionStage<T> whenBootstrapped(
      java.util.function.Supplier<CompletionStage<T>> work) {
    if (!bootstrapped.isDone() || bootstrapped.isCompletedExceptionally()) {
      return CompletableFuture.failedFuture(
          ApiException.unavailable(
                  "the user store is not ready yet (the database is not reachable, or the first admin is being created)")
              .with("retry_after", ApiException.RETRY_AFTER_SECONDS));
    }
    return work.get();
  }

  /** The token's user if it was verified recently (no database query, no limit spent). */
  public Optional<User> knownToken(String token) {
    return Optional.ofNullable(credentials.get("t:" + sha256(token)));
  }

  /** The token's user, or a failed stage with 401 (unknown, revoked, expired) or 503. */
  public CompletionStage<User> authenticateToken(String token) {
    String digest = sha256(token);
    String key = "t:" + digest;
    User known = credentials.get(key);
    if (known != null) {
      return CompletableFuture.completedFuture(known);
    }
    long lookedUpIn = credentials.lookupStarted();
    return whenBootstrapped(
        () ->
            database.supply(
                () -> {
                  try (Connection c = pool.connection();
                      PreparedStatement q =
                          c.prepareStatement(AccountsSql.SELECT_TOKEN_USER_BY_SHA256)) {
                    q.setString(1, digest);
                    try (ResultSet rs = q.executeQuery()) {
                      if (!rs.next()) {
                        throw Authentication.unauthorized("unknown token");
                      }
                      long expires = rs.getLong(3);
                      boolean expiring = !rs.wasNull();
                      rs.getLong(4);
                      if (!rs.wasNull()) {
                        throw Authentication.unauthorized("the token was revoked");
                      }
                      if (expiring && expires <= System.currentTimeMillis()) {
                        throw Authentication.unauthorized("the token has expired");
                      }
                      User user = new User(rs.getString(1), Role.valueOf(rs.getString(2)));
                      // An expiring token is cached no longer than it lives.
                      return credentials.remember(
                          key, user, expiring ? expires : Long.MAX_VALUE, lookedUpIn);
                    }
                  }
                }));
  }

  /** Passwords hashed for checking so far (every check hashes, also for an unknown user). */
  public long passwordChecks() {
    return verifier.checks();
  }

  // ---- users
  // -------------------------------------------------------------------------------------

  public CompletionStage<List<UserInfo>> users() {
    return database.supply(
        () -> {
          try (Connection c = pool.connection();
              PreparedStatement q = c.prepareStatement(AccountsSql.SELECT_USERS);
              ResultSet rs = q.executeQuery()) {
            List<UserInfo> out = new ArrayList<>();
            while (rs.next()) {
              out.add(userInfo(rs));
            }
            return out;
          }
        });
  }

  public CompletionStage<UserInfo> createUser(String name, Role role, String password, User by) {
    checkName(name);
    checkPassword(password);
    return hashPassword(password)
        .thenCompose(
            hash ->
                database.supply(
                    () -> {
                      long now = System.currentTimeMillis();
                      try (Connection c = pool.connection()) {
                        if (userRow(c, name) != null) {
                          throw new ApiException(
                                  ErrorCode.CONFLICT, "user '" + name + "' already exists")
                              .with("user", name);
                        }
                        try (PreparedStatement insert =
                            c.prepareStatement(AccountsSql.INSERT_USER)) {
                          insert.setString(1, name);
                          insert.setString(2, role.name());
                          insert.setString(3, hash);
                          insert.setLong(4, now);
                          insert.setString(5, by.name());
                          insert.setLong(6, now);
                          insert.executeUpdate();
                        } catch (SQLException e) {
                          if (userRow(c, name) != null) {
                            throw new ApiException(
                                    ErrorCode.CONFLICT, "user '" + name + "' already exists")
                                .with("user", name);
                          }
                          throw e;
                        }
                        log.info(
                            "user {} (role {}) created by {}", name, role.apiName(), by.name());
                        return userRow(c, name);
                      }
                    }));
  }

  /** Changes a user's role and/or password (null: unchanged). */
  public CompletionStage<UserInfo> updateUser(String name, Role role, String password, User by) {
    if (password != null) {
      checkPassword(password);
    }
    CompletionStage<String> hash =
        password == null ? CompletableFuture.completedFuture(null) : hashPassword(password);
    return hash.thenCompose(
            newHash ->
                database.supply(
                    () -> {
                      try (Connection c = pool.connection()) {
                        c.setAutoCommit(false);
                        try {
                          UserInfo current =
                              role == null
                                  ? existingUser(c, name)
                                  : existingUserAdminsLockedFirst(c, name);
                          if (role != null && current.role() == Role.ADMIN && role != Role.ADMIN) {
                            requireAnotherAdmin(c, name);
                          }
                          try (PreparedStatement update =
                              c.prepareStatement(AccountsSql.UPDATE_USER)) {
                            update.setString(1, role == null ? null : role.name());
                            update.setString(2, newHash);
                            update.setLong(3, System.currentTimeMillis());
                            update.setString(4, name);
                            update.executeUpdate();
                          }
                          CredentialCache.moveEpoch(c);
                          c.commit();
                          log.info(
                              "user {} changed by {}{}{}",
                              name,
                              by.name(),
                              role == null ? "" : ": role " + role.apiName(),
                              newHash == null ? "" : ": new password");
                          return userRow(c, name);
                        } catch (SQLException | RuntimeException e) {
                          c.rollback();
                          throw e;
                        }
                      }
                    }))
        .thenApply(this::changed);
  }

  /**
   * Within the caller's transaction: the user's row, locked until the transaction ends (so a
   * delete, an update and a token's creation for one user run one after another), or 404 when there
   * is none.
   */
  static UserInfo existingUser(Connection c, String name) throws SQLException {
    try (PreparedStatement q = c.prepareStatement(AccountsSql.SELECT_USER_BY_NAME_FOR_UPDATE)) {
      q.setString(1, name);
      try (ResultSet rs = q.executeQuery()) {
        if (!rs.next()) {
          throw new ApiException(ErrorCode.NOT_FOUND, "no user '" + name + "'").with("user", name);
        }
        return userInfo(rs);
      }
    }
  }

  /**
   * Within the caller's transaction: locks every admin's row, in name order, and then returns the
   * user's row as {@link #existingUser} does. For changes that can take away an admin (a delete, a
   * role change): they all take the admins' locks first and in one order, so two of them run one
   * after the other instead of each holding the row the other's last-admin check needs (two admins
   * deleted at once deadlocked in the database before, and one of the two got 503).
   */
  private static UserInfo existingUserAdminsLockedFirst(Connection c, String name)
      throws SQLException {
    try (PreparedStatement q = c.prepareStatement(AccountsSql.LOCK_ADMINS);
        ResultSet rs = q.executeQuery()) {
      while (rs.next()) {
        // Reading every row takes every lock.
      }
    }
    return existingUser(c, name);
  }

  /** Deletes a user and revokes their tokens. */
  public CompletionStage<Void> deleteUser(String name, User by) {
    return database
        .supply(
            () -> {
              try (Connection c = pool.connection()) {
                c.setAutoCommit(false);
                try {
                  UserInfo current = existingUserAdminsLockedFirst(c, name);
                  if (current.role() == Role.ADMIN) {
                    requireAnotherAdmin(c, name);
                  }
                  try (PreparedStatement revoke =
                          c.prepareStatement(AccountsSql.REVOKE_USER_TOKENS);
                      PreparedStatement delete = c.prepareStatement(AccountsSql.DELETE_USER)) {
                    revoke.setLong(1, System.currentTimeMillis());
                    revoke.setString(2, by.name());
                    revoke.setString(3, name);
                    revoke.executeUpdate();
                    delete.setString(1, name);
                    delete.executeUpdate();
                  }
                  CredentialCache.moveEpoch(c);
                  c.commit();
                  log.info("user {} deleted by {} (their tokens revoked)", name, by.name());
                  return (Void) null;
                } catch (SQLException | RuntimeException e) {
                  c.rollback();
                  throw e;
                }
              }
            })
        .thenApply(this::changed);
  }

  /**
   * Within the caller's transaction, after {@link #existingUserAdminsLockedFirst}: fails with 409
   * unless an admin other than {@code name} exists. The admins' rows are locked, so two concurrent
   * demotions or deletes cannot both pass.
   */
  private static void requireAnotherAdmin(Connection c, String name) throws SQLException {
    try (PreparedStatement q = c.prepareStatement(AccountsSql.SELECT_OTHER_ADMINS)) {
      q.setString(1, name);
      try (ResultSet rs = q.executeQuery()) {
        if (!rs.next()) {
          throw new ApiException(
                  ErrorCode.CONFLICT,
                  "'" + name + "' is the last admin: create another admin first")
              .with("user", name);
        }
      }
    }
  }

  // ---- helpers
  // -----------------------------------------------------------------------------------

  /**
   * Clears this node's cache now; the others clear theirs when they see the epoch the change moved.
   */
  private <T> T changed(T result) {
    credentials.clear();
    return result;
  }

  private CompletionStage<String> hashPassword(String password) {
    return CompletableFuture.supplyAsync(() -> PasswordHashing.hash(password), blocking);
  }

  private static void checkName(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw ApiException.invalid("name: must match " + NAME.pattern()).with("field", "name");
    }
  }

  private static void checkPassword(String password) {
    if (password == null || password.length() < MIN_PASSWORD || password.length() > MAX_PASSWORD) {
      throw ApiException.invalid(
              "password: " + MIN_PASSWORD + " to " + MAX_PASSWORD + " characters")
          .with("field", "password");
    }
  }

  static UserInfo userRow(Connection c, String name) throws SQLException {
    try (PreparedStatement q = c.prepareStatement(AccountsSql.SELECT_USER_BY_NAME)) {
      q.setString(1, name);
      try (ResultSet rs = q.executeQuery()) {
        return rs.next() ? userInfo(rs) : null;
      }
    }
  }

  private static UserInfo userInfo(ResultSet rs) throws SQLException {
    return new UserInfo(
        rs.getString(1),
        Role.valueOf(rs.getString(2)),
        AccountsDatabase.instant(rs, 3),
        rs.getString(4),
        AccountsDatabase.instant(rs, 5));
  }

  static String sha256(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
