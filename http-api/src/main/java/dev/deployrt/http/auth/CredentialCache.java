package dev.deployrt.http.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.deployrt.persistence.sql.AccountsSql;
import dev.deployrt.readmodel.SharedPool;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Credentials this node verified recently (a password's user, a token's user), for up to {@link
 * #TTL_MS} (and never past a token's expiry), so a request does not pay a hash or a query each
 * time. At most {@link #MAX_CACHED} entries (Caffeine evicts the least useful).
 *
 * <p>Correctness across nodes: a change that could make a cached credential wrong (a password or
 * role changed, a user deleted, a token revoked) moves the database's credentials epoch in the same
 * transaction ({@link #moveEpoch}); every node reads it every {@code
 * deploy.credentials-check-interval} on a thread of its own and drops its cache when it moved. A
 * node that has not read it for {@link #STALE_AFTER_CHECKS} intervals (the database does not
 * answer) trusts no cached credential. A lookup that overlapped a clearing is not cached ({@link
 * #lookupStarted}).
 */
final class CredentialCache {
  static final long TTL_MS = 30_000;

  /** The cache is trusted only while the epoch was read successfully within this many intervals. */
  static final int STALE_AFTER_CHECKS = 3;

  private static final int MAX_CACHED = 4096;

  /** {@link #knownEpoch} before the first successful read, and after a failed one. */
  private static final long UNKNOWN_EPOCH = -1;

  private static final String NO_EPOCH_ROW =
      "deploy_credentials_epoch has no row 1 (it is created by migration V6)";
  private static final Logger log = LoggerFactory.getLogger(CredentialCache.class);

  private record Cached(User user, long until) {}

  private final SharedPool pool;
  private final Duration checkEvery;
  private final Cache<String, Cached> cache =
      Caffeine.newBuilder()
          .maximumSize(MAX_CACHED)
          .expireAfterWrite(Duration.ofMillis(TTL_MS))
          .build();

  /** Moves on every clearing of the cache; a lookup is cached only if it did not move meanwhile. */
  private final AtomicLong generation = new AtomicLong();

  /**
   * The database's credentials epoch as last read, and when ({@link System#nanoTime}); written by
   * the check only.
   */
  private volatile long knownEpoch = UNKNOWN_EPOCH;

  private volatile long epochReadAt;

  /** Whether the last check could read the epoch (for logging only the changes). */
  private volatile boolean epochReadable = true;

  private final ScheduledExecutorService epochChecker;

  CredentialCache(SharedPool pool, Duration checkEvery) {
    this.pool = pool;
    this.checkEvery = checkEvery;
    // Its own thread: on a shared pool, a burst of work could delay the check until the cache is no
    // longer trusted, sending every request's credentials to the database.
    this.epochChecker =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "credentials-epoch");
              t.setDaemon(true);
              return t;
            });
  }

  /** The thread the epoch is read on. */
  Executor checker() {
    return epochChecker;
  }

  /**
   * Reads the epoch every interval from now on (fixed delay: a check that hangs is not overlapped).
   */
  void startChecking() {
    epochChecker.scheduleWithFixedDelay(
        this::checkEpoch, checkEvery.toMillis(), checkEvery.toMillis(), TimeUnit.MILLISECONDS);
  }

  void shutdown() {
    epochChecker.shutdownNow();
  }

  /** Call before looking a credential up; pass the result to {@link #remember}. */
  long lookupStarted() {
    return generation.get();
  }

  /**
   * A credential verified recently (under {@code key}), while the cache can be trusted; else null.
   */
  User get(String key) {
    Cached c = cache.getIfPresent(key);
    if (c == null || c.until() <= System.currentTimeMillis() || !epochFresh()) {
      return null;
    }
    return c.user();
  }

  /** Whether the epoch was read recently enough for the cache to be trusted. */
  private boolean epochFresh() {
    return knownEpoch != UNKNOWN_EPOCH
        && System.nanoTime() - epochReadAt <= checkEvery.toNanos() * STALE_AFTER_CHECKS;
  }

  /**
   * Caches a verified credential until {@code notAfter} (at most the TTL), unless the cache was
   * cleared since the lookup began ({@code lookedUpIn}: it may have read what the clearing was
   * about) or the node has not read the epoch recently (it could not tell when to clear it).
   */
  User remember(String key, User user, long notAfter, long lookedUpIn) {
    if (!epochFresh() || generation.get() != lookedUpIn) {
      return user;
    }
    Cached entry = new Cached(user, Math.min(notAfter, System.currentTimeMillis() + TTL_MS));
    cache.put(key, entry);
    if (generation.get() != lookedUpIn) {
      // Cleared between the check and the put: take it out again.
      cache.asMap().remove(key, entry);
    }
    return user;
  }

  /** Empties the cache; lookups running meanwhile will not cache their results. */
  void clear() {
    generation.incrementAndGet();
    cache.invalidateAll();
  }

  /**
   * Reads the credentials epoch; clears the cache if it moved, or if it was unknown (a change may
   * have happened while it could not be read).
   */
  void checkEpoch() {
    long epoch;
    try (Connection c = pool.connection();
        PreparedStatement q = c.prepareStatement(AccountsSql.SELECT_CREDENTIALS_EPOCH)) {
      q.setQueryTimeout((int) Math.max(1, checkEvery.toSeconds() * STALE_AFTER_CHECKS));
      try (ResultSet rs = q.executeQuery()) {
        if (!rs.next()) {
          throw new SQLException(NO_EPOCH_ROW);
        }
        epoch = rs.getLong(1);
      }
    } catch (SQLException | RuntimeException e) {
      if (epochReadable) {
        log.warn(
            "cannot read the credentials epoch ({}); every credential is checked against the database "
                + "until it can be read",
            e.toString());
      }
      epochReadable = false;
      knownEpoch = UNKNOWN_EPOCH;
      return;
    }
    if (!epochReadable) {
      log.info("the credentials epoch can be read again; verified credentials are cached again");
      epochReadable = true;
    }
    if (epoch != knownEpoch) {
      clear();
      knownEpoch = epoch;
    }
    epochReadAt = System.nanoTime();
  }

  /**
   * Within the caller's transaction: marks a change every node must drop its cached credentials
   * for.
   */
  static void moveEpoch(Connection c) throws SQLException {
    try (PreparedStatement update = c.prepareStatement(AccountsSql.MOVE_CREDENTIALS_EPOCH)) {
      if (update.executeUpdate() == 0) {
        // Fail the change rather than let other nodes trust credentials it made wrong.
        throw new SQLException(NO_EPOCH_ROW);
      }
    }
  }
}
