package dev.deployrt.http.auth;

import dev.deployrt.persistence.sql.AccountsSql;
import dev.deployrt.readmodel.SharedPool;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The web console's sign-in sessions, in the shared database ({@code deploy_sessions}), so a
 * session opened on one node is good on every node.
 *
 * <p>Guarantees: a session's secret is {@code dps_} and 32 random bytes; it lives only in the
 * browser's {@code HttpOnly} cookie and is stored only as its SHA-256. A session ends at its expiry
 * ({@code deploy.http.session-ttl} after sign-in, not extended by use), when its user signs out,
 * changes their password (or an admin sets it) or is deleted: those delete its row and move the
 * credentials epoch in the same transaction, so every node stops accepting it within about a second
 * ({@link CredentialCache}). The session's role is read from the user's row, so a role change
 * applies to open sessions too.
 */
public final class SessionStore {
  private static final Logger log = LoggerFactory.getLogger(SessionStore.class);
  static final String PREFIX = "dps_";

  /** An open session: its secret (the cookie's value, never stored), user and expiry. */
  public record Session(String secret, User user, Instant expiresAt) {}

  private final SharedPool pool;
  private final AccountsDatabase database;
  private final CredentialCache credentials;
  private final Duration ttl;

  SessionStore(
      SharedPool pool, AccountsDatabase database, CredentialCache credentials, Duration ttl) {
    this.pool = pool;
    this.database = database;
    this.credentials = credentials;
    this.ttl = ttl;
  }

  /** How long a session lasts from sign-in. */
  public Duration ttl() {
    return ttl;
  }

  /**
   * Opens a session for the user whose password was just checked, if that password is still the
   * stored one: the check and this run one after the other, and a new password committed between
   * them must not leave a session made with the old one (401 then). Sweeps expired sessions on the
   * way.
   */
  public CompletionStage<Session> open(UserStore.VerifiedPassword verified) {
    String name = verified.user().name();
    String secret = UserStore.newSecret(PREFIX);
    long now = System.currentTimeMillis();
    long expires = now + ttl.toMillis();
    return database
        .transaction(
            c -> {
              try (PreparedStatement sweep =
                  c.prepareStatement(AccountsSql.DELETE_EXPIRED_SESSIONS)) {
                sweep.setLong(1, now);
                sweep.executeUpdate();
              }
              // The user's row stays locked until the session is in: a concurrent delete or
              // password change waits, then ends it with the others.
              Role role;
              try (PreparedStatement lock =
                  c.prepareStatement(AccountsSql.SELECT_PASSWORD_BY_NAME_FOR_UPDATE)) {
                lock.setString(1, name);
                try (ResultSet rs = lock.executeQuery()) {
                  if (!rs.next() || !rs.getString(2).equals(verified.hash())) {
                    throw Authentication.signInRequired(
                        "the user was changed or deleted while signing in: sign in again");
                  }
                  role = Role.valueOf(rs.getString(1));
                }
              }
              try (PreparedStatement insert = c.prepareStatement(AccountsSql.INSERT_SESSION)) {
                insert.setString(1, UserStore.sha256(secret));
                insert.setString(2, name);
                insert.setLong(3, now);
                insert.setLong(4, expires);
                insert.executeUpdate();
              }
              return new Session(secret, new User(name, role), Instant.ofEpochMilli(expires));
            })
        .thenApply(
            session -> {
              log.info("console session opened for user {}", name);
              return session;
            });
  }

  /** The session's user if this node verified it recently (no database query). */
  Optional<User> known(String secret) {
    return Optional.ofNullable(credentials.get("s:" + UserStore.sha256(secret)));
  }

  /**
   * The session's user, from the cache when it was verified recently, or a failed stage with 401
   * (no such session: signed out, revoked, expired) or 503.
   */
  CompletionStage<User> authenticate(String secret) {
    String key = "s:" + UserStore.sha256(secret);
    User known = credentials.get(key);
    if (known != null) {
      return CompletableFuture.completedFuture(known);
    }
    long lookedUpIn = credentials.lookupStarted();
    return find(secret)
        .thenApply(
            found -> {
              Session session =
                  found.orElseThrow(() -> Authentication.signInRequired("the session has ended"));
              // Cached no longer than it lives.
              return credentials.remember(
                  key, session.user(), session.expiresAt().toEpochMilli(), lookedUpIn);
            });
  }

  /** The open session with this secret, read from the database (empty if it has ended). */
  public CompletionStage<Optional<Session>> find(String secret) {
    if (!secret.startsWith(PREFIX)) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    return database.supply(
        () -> {
          try (Connection c = pool.connection();
              PreparedStatement q = c.prepareStatement(AccountsSql.SELECT_SESSION_USER_BY_SHA256)) {
            q.setString(1, UserStore.sha256(secret));
            try (ResultSet rs = q.executeQuery()) {
              if (!rs.next()) {
                return Optional.empty();
              }
              long expires = rs.getLong(3);
              if (expires <= System.currentTimeMillis()) {
                return Optional.empty();
              }
              return Optional.of(
                  new Session(
                      secret,
                      new User(rs.getString(1), Role.valueOf(rs.getString(2))),
                      Instant.ofEpochMilli(expires)));
            }
          }
        });
  }

  /** Ends the session (signing out); ending one that has already ended changes nothing. */
  public CompletionStage<Void> close(String secret) {
    return database
        .transaction(
            c -> {
              try (PreparedStatement delete = c.prepareStatement(AccountsSql.DELETE_SESSION)) {
                delete.setString(1, UserStore.sha256(secret));
                if (delete.executeUpdate() > 0) {
                  CredentialCache.moveEpoch(c);
                }
              }
              return (Void) null;
            })
        .thenApply(
            done -> {
              credentials.clear(); // this node at once; the others when they see the epoch move
              return done;
            });
  }

  /**
   * Within the caller's transaction (which moves the credentials epoch): ends every session of the
   * user.
   */
  static void closeAllOf(Connection c, String userName) throws SQLException {
    try (PreparedStatement delete = c.prepareStatement(AccountsSql.DELETE_USER_SESSIONS)) {
      delete.setString(1, userName);
      delete.executeUpdate();
    }
  }
}
