package dev.deployrt.readmodel;

import dev.deployrt.deployment.DeploymentEntity;
import dev.deployrt.persistence.sql.ReadModelSql;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Waits until the read model shows everything the journal held when asked: for each tag, the
 * projection's stored offset has reached the last event of that tag that was in the journal at the
 * call. For decisions that must not miss a deployment only because the read model lags the journal
 * (by up to a poll, or for as long as a projection is paused or its node is down): deleting bytes
 * that no deployment keeps any more.
 *
 * <p>Guarantee: when {@link #await} completes with true, every event committed before the call is
 * in the read model (the projection stores its offset in the same transaction as the rows it
 * wrote); events written after it may not be. Two indexed queries per tag and poll (the offset
 * table, and the journal's tag table from the stored offset on), on the blocking executor, each
 * with a query timeout; never holds a thread while it waits between polls. Reads the tables under
 * the names this project's migrations give them (the projection's and the journal's default names).
 */
public final class ReadModelCatchUp {
  private static final int QUERY_TIMEOUT_SECONDS = 10;

  private final SharedPool pool;
  private final Executor blocking;

  public ReadModelCatchUp(SharedPool pool, Executor blocking) {
    this.pool = pool;
    this.blocking = blocking;
  }

  /**
   * Completes with true once the read model has caught up with the journal as it is now, checking
   * every {@code poll}; with false if it has not within {@code limit}. Fails if the database cannot
   * be read.
   */
  public CompletionStage<Boolean> await(Duration poll, Duration limit) {
    long deadline = System.nanoTime() + limit.toNanos();
    return CompletableFuture.supplyAsync(() -> targets(storedOffsets()), blocking)
        .thenCompose(
            targets ->
                targets.isEmpty()
                    ? CompletableFuture.completedFuture(
                        true) // the usual case: nothing to wait for, no second read
                    : poll(targets, poll, deadline));
  }

  private CompletionStage<Boolean> poll(Map<String, Long> targets, Duration every, long deadline) {
    return CompletableFuture.supplyAsync(this::storedOffsets, blocking)
        .thenCompose(
            stored -> {
              targets
                  .entrySet()
                  .removeIf(
                      target -> stored.getOrDefault(target.getKey(), 0L) >= target.getValue());
              if (targets.isEmpty()) {
                return CompletableFuture.completedFuture(true);
              }
              if (System.nanoTime() - deadline >= 0) {
                return CompletableFuture.completedFuture(false);
              }
              Executor later =
                  CompletableFuture.delayedExecutor(
                      every.toMillis(), TimeUnit.MILLISECONDS, blocking);
              return CompletableFuture.supplyAsync(() -> null, later)
                  .thenCompose(ignored -> poll(targets, every, deadline));
            });
  }

  /**
   * For each tag with events its projection has not stored yet: the journal ordering of its last
   * one now (the offset the projection stores once it has applied that event).
   */
  private Map<String, Long> targets(Map<String, Long> stored) {
    Map<String, Long> targets = new HashMap<>();
    try (Connection c = pool.connection();
        PreparedStatement q = c.prepareStatement(ReadModelSql.LAST_TAGGED_EVENT_AFTER)) {
      q.setQueryTimeout(QUERY_TIMEOUT_SECONDS);
      for (int i = 0; i < DeploymentEntity.TAG_COUNT; i++) {
        String tag = DeploymentEntity.tag(i);
        q.setString(1, tag);
        q.setLong(2, stored.getOrDefault(tag, 0L));
        try (ResultSet rs = q.executeQuery()) {
          if (rs.next() && rs.getObject(1) != null) {
            targets.put(tag, rs.getLong(1));
          }
        }
      }
      return targets;
    } catch (SQLException e) {
      throw new CompletionException(e);
    }
  }

  /** The projection's stored offset per tag (a tag it has not stored one for is absent). */
  private Map<String, Long> storedOffsets() {
    Map<String, Long> offsets = new HashMap<>();
    try (Connection c = pool.connection();
        PreparedStatement q = c.prepareStatement(ReadModelSql.SELECT_PROJECTION_OFFSETS)) {
      q.setQueryTimeout(QUERY_TIMEOUT_SECONDS);
      q.setString(1, DeploymentProjection.NAME);
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          offsets.put(rs.getString(1), Long.parseLong(rs.getString(2)));
        }
      }
      return offsets;
    } catch (SQLException e) {
      throw new CompletionException(e);
    }
  }
}
