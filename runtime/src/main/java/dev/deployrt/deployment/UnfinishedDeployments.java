package dev.deployrt.deployment;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Keeps the record of every unfinished deployment running: once the read model can be queried and
 * then every {@code deploy.deployment.wake-interval}, this node reads the ids of the deployments
 * still pending or distributing and sends each record a {@link DeploymentEntity.Wake}, which starts
 * it where sharding now places it. A started record recovers from the journal and re-arms its
 * upload lease and distribution deadline from its state, and a distributing one publishes its
 * release again.
 *
 * <p>It replaces sharding's remember-entities, which wrote two journal events (start and stop) for
 * every deployment and read the shard's entity list back before the first one could start. The
 * guarantee it gives instead: after a crash, a full-cluster restart, a rebalance or a passivation,
 * an unfinished deployment's record runs again within one interval of the read model showing it
 * (the projection's lag: a poll, or until it catches up after a start). Every node does this; a
 * record that is running already ignores the message, so the cost is one indexed query per node and
 * interval and one message per unfinished deployment.
 */
public final class UnfinishedDeployments {
  /** More than a cluster has unfinished at once; the oldest come first. */
  public static final int MAX_PER_PASS = 10_000;

  private final ActorSystem<?> system;
  private final Deployments deployments;
  private final Callable<List<String>> unfinishedIds;
  private final Executor database;
  private final AtomicBoolean running = new AtomicBoolean();

  private UnfinishedDeployments(
      ActorSystem<?> system,
      Deployments deployments,
      Callable<List<String>> unfinishedIds,
      Executor database) {
    this.system = system;
    this.deployments = deployments;
    this.unfinishedIds = unfinishedIds;
    this.database = database;
  }

  /**
   * Wakes the unfinished deployments once {@code queryable} completes, then every {@code interval}.
   *
   * @param unfinishedIds the ids of the deployments that are pending or distributing (at most
   *     {@link #MAX_PER_PASS}); runs on {@code database}
   */
  public static void start(
      ActorSystem<?> system,
      Deployments deployments,
      Duration interval,
      CompletionStage<?> queryable,
      Callable<List<String>> unfinishedIds,
      Executor database) {
    UnfinishedDeployments wake =
        new UnfinishedDeployments(system, deployments, unfinishedIds, database);
    queryable.whenComplete(
        (ready, notQueryable) -> {
          if (notQueryable != null) {
            system
                .log()
                .error(
                    "the read model did not start: the records of unfinished deployments are not"
                        + " started again by this node ({})",
                    notQueryable.toString());
            return;
          }
          system
              .scheduler()
              .scheduleWithFixedDelay(interval, interval, wake::pass, system.executionContext());
          wake.pass();
        });
  }

  /**
   * One pass; skipped while the previous one still runs (a slow database). Never throws: a failed
   * pass is logged and the next one runs as usual.
   */
  private void pass() {
    if (!running.compareAndSet(false, true)) {
      return;
    }
    try {
      CompletableFuture.supplyAsync(this::read, database)
          .whenComplete(
              (ids, e) -> {
                running.set(false);
                if (ids != null) {
                  ids.forEach(this::wake);
                }
              });
    } catch (RuntimeException refused) { // the executor refused it: the node is stopping
      running.set(false);
      system
          .log()
          .warn("could not start a pass over unfinished deployments: {}", refused.toString());
    }
  }

  private void wake(String id) {
    try {
      deployments.entity(id).tell(DeploymentEntity.Wake.INSTANCE);
    } catch (RuntimeException e) {
      system.log().warn("could not wake deployment {}: {}", id, e.toString());
    }
  }

  private List<String> read() {
    try {
      return unfinishedIds.call();
    } catch (Exception e) {
      system
          .log()
          .warn(
              "could not read the unfinished deployments (their records are started at the next pass): {}",
              e.toString());
      return List.of();
    }
  }
}
