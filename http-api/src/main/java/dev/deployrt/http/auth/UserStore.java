package dev.deployrt.http.auth;

import dev.deployrt.errors.ApiException;
import dev.deployrt.node.NodeRuntime;
import dev.deployrt.persistence.sql.AccountsSql;
import dev.deployrt.readmodel.SharedPool;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
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

  /** Whether a password has a length every user's password must have. */
  static boolean validPasswordLength(String password) {
    return password.length() >= MIN_PASSWORD && password.length() <= MAX_PASSWORD;
  }

  static final String TOKEN_PREFIX = "dpt_";

  public record UserInfo(
      String name, Role role, Instant createdAt, String createdBy, Instant updatedAt) {}

  private final SharedPool pool;
  private final Executor blocking;
  private final PasswordVerifier verifier = new PasswordVerifier();
  private final AccountsDatabase database;
  private final TokenStore tokens;
  private final SessionStore sessions;
  private final UserAccounts accounts;
  private final CredentialCache credentials;
  private final CompletableFuture<Void> bootstrapped;

  private UserStore(NodeRuntime node, AccountSettings settings) {
    this.pool = node.sharedPool();
    this.blocking = node.database();
    this.database = new AccountsDatabase(pool, blocking);
    this.credentials = new CredentialCache(pool, settings.credentialsCheckInterval());
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
                settings.adminPassword(),
                node.nodeName(),
                blocking,
                credentials::checkEpoch,
                credentials.checker(),
                node.system().getWhenTerminated())
            .startAfter(node.journalReady());
    bootstrapped.thenRun(credentials::startChecking);
    this.tokens = new TokenStore(pool, database, credentials);
    this.sessions = new SessionStore(pool, database, credentials, settings.sessionTtl());
    this.accounts = new UserAccounts(pool, database, credentials, blocking);
  }

  /** The API tokens, in the same database. */
  public TokenStore tokenStore() {
    return tokens;
  }

  /** The web console's sessions, in the same database. */
  public SessionStore sessionStore() {
    return sessions;
  }

  /** The users: listed, created, changed and deleted by admins. */
  public UserAccounts accounts() {
    return accounts;
  }

  /** The node's user store; creates {@code admin} in the background once the database is ready. */
  public static UserStore start(NodeRuntime node, AccountSettings settings) {
    return new UserStore(node, settings);
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

  /** A user whose password was just checked against {@code hash}, the stored hash it matched. */
  public record VerifiedPassword(User user, String hash) {}

  /**
   * Checks the password against the database, never the cache (for opening a session, which then
   * makes sure the hash is still the stored one): 401 when it is wrong, 429 or 503 as {@link
   * #authenticatePassword}.
   */
  public CompletionStage<VerifiedPassword> verifyPassword(String name, String password) {
    return matchingRow(name, password)
        .thenApply(
            row -> {
              if (row == null) {
                throw Authentication.unauthorized("wrong user name or password");
              }
              return new VerifiedPassword(new User(name, row.role()), row.hash());
            });
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

  /** A new secret (an API token, a console session): {@code prefix} and 32 random bytes. */
  static String newSecret(String prefix) {
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    return prefix + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
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
