package dev.deployrt.http.auth;

import dev.deployrt.errors.ApiException;
import dev.deployrt.readmodel.SharedPool;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the accounts' JDBC work (users, tokens, sessions) on the database dispatcher, alone or in
 * one transaction, and turns a database failure into the API's 503: a collision with a concurrent
 * change (retry it at once) or an unreachable database.
 */
final class AccountsDatabase {
  private static final Logger log = LoggerFactory.getLogger(AccountsDatabase.class);

  /**
   * SQLSTATEs that mean a concurrent transaction was in the way and nothing was changed:
   * serialization failure and deadlock (40001, 40P01), a lock not obtained in time (PostgreSQL
   * 55P03, H2 HYT00).
   */
  private static final Set<String> CONCURRENCY_STATES = Set.of("40001", "40P01", "55P03", "HYT00");

  private final SharedPool pool;
  private final Executor blocking;

  AccountsDatabase(SharedPool pool, Executor blocking) {
    this.pool = pool;
    this.blocking = blocking;
  }

  interface Sql<T> {
    T run() throws SQLException;
  }

  interface Transaction<T> {
    T run(Connection c) throws SQLException;
  }

  /**
   * Runs {@code work} in one transaction, as {@link #supply} runs work: committed when it returns,
   * rolled back when it throws.
   */
  <T> CompletionStage<T> transaction(Transaction<T> work) {
    return supply(
        () -> {
          try (Connection c = pool.connection()) {
            c.setAutoCommit(false);
            try {
              T result = work.run(c);
              c.commit();
              return result;
            } catch (SQLException | RuntimeException e) {
              c.rollback();
              throw e;
            }
          }
        });
  }

  /** Runs blocking JDBC work on the blocking dispatcher; a database failure becomes 503. */
  <T> CompletionStage<T> supply(Sql<T> work) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return work.run();
          } catch (SQLException e) {
            log.warn("user store: {}", e.toString());
            if (CONCURRENCY_STATES.contains(String.valueOf(e.getSQLState()))) {
              throw new CompletionException(
                  ApiException.unavailable(
                          "the change collided with a concurrent one and was not made: retry it")
                      .with("retry_after", 1));
            }
            throw new CompletionException(
                ApiException.unavailable("the user store (database) is not reachable")
                    .with("retry_after", ApiException.RETRY_AFTER_SECONDS));
          }
        },
        blocking);
  }

  static Instant instant(ResultSet rs, int column) throws SQLException {
    long ms = rs.getLong(column);
    return rs.wasNull() ? null : Instant.ofEpochMilli(ms);
  }
}
