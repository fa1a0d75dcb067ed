package dev.deployrt.retention;

import dev.deployrt.async.Failures;
import dev.deployrt.deployment.Deployment;
import dev.deployrt.project.ProjectSettingsStore;
import dev.deployrt.readmodel.DeploymentQueries;
import dev.deployrt.readmodel.History;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Payload retention: when a deployment ends, the payloads of its project's deployments past the
 * newest {@code keep_payloads} that stored one are reclaimed cluster-wide through {@link
 * PayloadDeletion} (the same path and races as {@code DELETE /deployments/{id}/payload}), recorded
 * on each as deleted by user {@value #USER}.
 *
 * <p>Runs on the node hosting the ended deployment's record, at most one pass per project at a time
 * on this node (a pass asked for while one runs starts again when it ends, so none is lost). It
 * waits for the history to catch up with the journal, so the deployment that just ended is counted
 * (a history that does not catch up in time fails the pass, which is then retried), reads the
 * payloads past the keep, and deletes them together ({@link PayloadDeletion#deleteAll}: marked
 * first, then one more wait for the history, then decided one by one). A payload that is the active
 * release of its project is never reclaimed (skipped, 409 from the deletion). A pass that cannot
 * finish (the database, a node) is logged and tried again a few times ({@link #retryLater}), then
 * left to the project's next deployment.
 */
public final class PayloadRetention {
  /** The user retention's deletions are recorded as. */
  public static final String USER = "retention";

  private static final Logger log = LoggerFactory.getLogger(PayloadRetention.class);
  private static final int MAX_PER_PASS = 1000;
  private static final int RETRIES = 5;
  private static final Duration CATCH_UP_POLL = Duration.ofMillis(100);

  private final PayloadDeletion deletion;
  private final ProjectSettingsStore settings;
  private final History history;
  private final RetentionSettings timing;
  private final ConcurrentHashMap<String, Boolean> passes = new ConcurrentHashMap<>();
  private final LongConsumer onFreed;
  private final Later later;
  private final ConcurrentHashMap<String, Integer> failedPasses = new ConcurrentHashMap<>();

  /** Runs a task after a delay (the actor system's scheduler: nothing runs once it stopped). */
  @FunctionalInterface
  public interface Later {
    void after(Duration delay, Runnable task);
  }

  public PayloadRetention(
      PayloadDeletion deletion,
      ProjectSettingsStore settings,
      History history,
      RetentionSettings timing,
      LongConsumer onFreed,
      Later later) {
    this.deletion = deletion;
    this.settings = settings;
    this.history = history;
    this.timing = timing;
    this.onFreed = onFreed;
    this.later = later;
  }

  /** A deployment of {@code ended}'s project ended: reclaims what is past the project's keep. */
  public void deploymentEnded(Deployment ended) {
    // A record refused before it had a valid project, or that never stored a payload, frees none.
    if (ended.project() != null && ended.sha256() != null) {
      requestPass(ended.project());
    }
  }

  /**
   * Starts a pass over {@code project}, or, if one runs, has another start when it ends (one is
   * enough for any number of requests meanwhile).
   */
  public void requestPass(String project) {
    // FALSE: a pass runs; TRUE: and another was asked for since it started.
    if (passes.compute(project, (k, v) -> v == null ? Boolean.FALSE : Boolean.TRUE)
        == Boolean.FALSE) {
      pass(project);
    }
  }

  private void pass(String project) {
    settings
        .get(project)
        .thenCompose(
            s ->
                history
                    .catchUp()
                    .await(CATCH_UP_POLL, timing.historyWait())
                    .thenCompose(
                        caughtUp -> {
                          if (!caughtUp) {
                            throw new CompletionException(
                                new IllegalStateException(
                                    "the deployment history is behind the journal"));
                          }
                          return history.onDatabase(
                              () ->
                                  history
                                      .queries()
                                      .payloadsPastKeep(project, s.keepPayloads(), MAX_PER_PASS));
                        }))
        .thenCompose(this::reclaimAll)
        .whenComplete(
            (freed, failure) -> {
              if (Boolean.TRUE.equals(passes.remove(project))) {
                requestPass(project);
              }
              if (failure == null) {
                failedPasses.remove(project);
              } else {
                retryLater(project, Failures.cause(failure));
              }
            });
  }

  /**
   * A pass that failed (the database, a node, a history that did not catch up) runs again after
   * {@code history-wait}, at most {@value #RETRIES} times in a row; after that, with the project's
   * next deployment.
   */
  private void retryLater(String project, Throwable cause) {
    int failures = failedPasses.merge(project, 1, Integer::sum);
    boolean again = failures <= RETRIES;
    log.warn(
        "payload retention of project {} stopped ({}): {}",
        project,
        again
            ? "retried in " + timing.historyWait().toSeconds() + " s"
            : "retried after its next deployment",
        cause.toString());
    if (again) {
      later.after(timing.historyWait(), () -> requestPass(project));
    } else {
      failedPasses.remove(project);
    }
  }

  /**
   * Every payload past the keep, in one {@link PayloadDeletion#deleteAll} (one wait for the
   * history); the deletions themselves run one after another.
   */
  private CompletionStage<Long> reclaimAll(List<DeploymentQueries.StoredPayload> found) {
    return deletion
        .deleteAll(found, USER, timing.historyWait())
        .thenApply(
            freed -> {
              long total = freed.values().stream().mapToLong(Long::longValue).sum();
              onFreed.accept(total);
              return total;
            });
  }
}
