package dev.deployrt.readmodel;

import dev.deployrt.deployment.DeploymentEntity;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.Sequence;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * Waits until the read model shows everything the journal held when asked: for each tag, the
 * projection's stored offset has reached the last event of that tag that was in the journal at the
 * call. For decisions that must not miss a deployment only because the read model lags the journal
 * (by up to a poll, or for as long as a projection is paused or its node is down): deleting bytes
 * that no deployment keeps any more.
 *
 * <p>Guarantee: when {@link #await} completes with true, every event written before the call is in
 * the read model; events written after it may not be. Reads the projection's offset table and the
 * journal (through the read journal, as the projection does); never blocks a thread while it waits.
 */
public final class ReadModelCatchUp {
  private final ActorSystem<?> system;
  private final SharedPool pool;
  private final Executor blocking;
  private final JdbcReadJournal journal;

  public ReadModelCatchUp(ActorSystem<?> system, SharedPool pool, Executor blocking) {
    this.system = system;
    this.pool = pool;
    this.blocking = blocking;
    this.journal = PersistenceQuery.get(system)
        .getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());
  }

  /**
   * Completes with true once the read model has caught up with the journal as it is now, checking
   * every {@code poll}; with false if it has not within {@code limit}. Fails if the database cannot
   * be read.
   */
  public CompletionStage<Boolean> await(Duration poll, Duration limit) {
    long deadline = System.nanoTime() + limit.toNanos();
    return CompletableFuture.supplyAsync(this::storedOffsets, blocking)
        .thenCompose(this::targets)
        .thenCompose(targets -> poll(targets, poll, deadline));
  }

  private CompletionStage<Boolean> poll(Map<String, Long> targets, Duration every, long deadline) {
    return CompletableFuture.supplyAsync(this::storedOffsets, blocking).thenCompose(stored -> {
      targets.entrySet().removeIf(target -> stored.getOrDefault(target.getKey(), 0L) >= target.getValue());
      if (targets.isEmpty()) {
        return CompletableFuture.completedFuture(true);
      }
      if (System.nanoTime() - deadline >= 0) {
        return CompletableFuture.completedFuture(false);
      }
      Executor later = CompletableFuture.delayedExecutor(every.toMillis(), TimeUnit.MILLISECONDS, blocking);
      return CompletableFuture.supplyAsync(() -> null, later).thenCompose(ignored -> poll(targets, every, deadline));
    });
  }

  /** For each tag with events its projection has not stored yet: the offset of its last one now. */
  private CompletionStage<Map<String, Long>> targets(Map<String, Long> stored) {
    Map<String, Long> targets = new HashMap<>();
    CompletableFuture<Void> all = CompletableFuture.completedFuture(null);
    for (int i = 0; i < DeploymentEntity.TAG_COUNT; i++) {
      String tag = "deployment-" + i;
      long from = stored.getOrDefault(tag, 0L);
      CompletionStage<Optional<EventEnvelope>> last =
          journal.currentEventsByTag(tag, Offset.sequence(from)).runWith(Sink.lastOption(), system);
      all = all.thenCombine(last, (ignored, envelope) -> {
        envelope.ifPresent(e -> targets.put(tag, ((Sequence) e.offset()).value()));
        return null;
      });
    }
    return all.thenApply(ignored -> targets);
  }

  /** The projection's stored offset per tag (a tag it has not stored one for is absent). */
  private Map<String, Long> storedOffsets() {
    Map<String, Long> offsets = new HashMap<>();
    try (Connection c = pool.connection(); PreparedStatement q = c.prepareStatement(
        "SELECT \"projection_key\", \"current_offset\" FROM \"pekko_projection_offset_store\" "
            + "WHERE \"projection_name\" = ? AND \"manifest\" = 'SEQ'")) {
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
