package dev.deployrt.http.health;

import dev.deployrt.persistence.sql.JournalSql;
import dev.deployrt.readmodel.SharedPool;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;

/**
 * Readiness check (loaded by Pekko Management from {@code pekko.management.health-checks}): the
 * journal's table answers a query on a connection from the node's shared pool. Fails while the
 * database is unreachable or its schema is not created yet. The query runs on the database
 * dispatcher.
 */
public final class JournalReadinessCheck implements Supplier<CompletionStage<Boolean>> {
  private final SharedPool pool;
  private final Executor blocking;

  public JournalReadinessCheck(ActorSystem system) {
    this.pool = SharedPool.of(Adapter.toTyped(system));
    this.blocking = system.dispatchers().lookup("deploy.database-dispatcher");
  }

  /**
   * This check's failure: {@link HealthRoutes} names the check by it and logs, never shows, its
   * text.
   */
  static final class NotReady extends IllegalStateException {
    NotReady(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** Less than {@code check-timeout} (3 s), so a hanging pool gives this check's own message. */
  private static final long ANSWER_WITHIN_MS = 2500;

  @Override
  public CompletionStage<Boolean> get() {
    CompletableFuture<Boolean> answer =
        CompletableFuture.supplyAsync(
            () -> {
              try (Connection c = pool.connection();
                  Statement query = c.createStatement()) {
                query.setQueryTimeout(2);
                query.execute(JournalSql.PROBE_JOURNAL);
                return true;
              } catch (SQLException e) {
                throw new CompletionException(
                    new NotReady("the journal is not reachable: " + e.getMessage(), e));
              }
            },
            blocking);
    return answer
        .completeOnTimeout(null, ANSWER_WITHIN_MS, TimeUnit.MILLISECONDS)
        .thenApply(
            ok -> {
              if (ok == null) {
                throw new NotReady(
                    "the journal did not answer within " + ANSWER_WITHIN_MS + " ms", null);
              }
              return ok;
            });
  }
}
