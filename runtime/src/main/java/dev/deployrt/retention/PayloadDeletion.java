package dev.deployrt.retention;

import dev.deployrt.async.Failures;
import dev.deployrt.blob.ClaimMark;
import dev.deployrt.deployment.Deployment;
import dev.deployrt.deployment.DeploymentEntity;
import dev.deployrt.deployment.Deployments;
import dev.deployrt.errors.ApiException;
import dev.deployrt.errors.ErrorCode;
import dev.deployrt.peer.BlobReclaimer;
import dev.deployrt.readmodel.DeploymentQueries;
import dev.deployrt.readmodel.History;
import dev.deployrt.release.DesiredRelease;
import dev.deployrt.release.ReleaseRegister;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * Gives up a deployment's payload: {@code DELETE /deployments/{id}/payload} and payload retention
 * both go through here, so they close the same races.
 *
 * <p>Rules: only a terminal deployment; never the active release of its project (409); the record
 * is marked first ({@code payload_present} false, an event in its log naming the user), then the
 * bytes are removed from every node that is up, unless another deployment still needs the same
 * bytes. Two sources say which do: the read model, for every deployment that keeps its payload or
 * still runs, and the release register, for the release each project runs or is being moved to (an
 * identical upload or a rollback in any project, in flight or done). The read model lags the
 * journal by up to a poll, so a deletion first waits until it shows everything the journal holds
 * (at most {@code catchUpLimit}; else 503 and nothing changes), and decides the rest from the
 * record as it is after the wait. A deployment publishes its release right after its payload is
 * stored (a message to its node's register, which writes it to every reachable node at once); this
 * node's replica is read right before the bytes go, after the record was marked. What neither can
 * show yet is covered by the blob stores' claim marks, taken on every holder before the first check
 * ({@link BlobReclaimer}): a copy committed again after its node's mark (a new upload of the same
 * bytes, a replica pushed or fetched) or held by an upload whose record does not name the bytes yet
 * stays, and so does a copy a rollback to this very deployment holds (it reads the record again
 * after taking the hold, so it fails PAYLOAD_PRUNED if the record was marked first; a node without
 * a copy first copies the bytes from a holder under that hold, and fails PAYLOAD_PRUNED if the
 * deletion removed them first). Repeating a deletion changes the record no further and deletes the
 * copies the last one left (nodes that were unreachable or kept a claimed copy), if no deployment
 * needs them; otherwise it frees 0 bytes.
 */
public final class PayloadDeletion {
  private static final Duration CATCH_UP_POLL = Duration.ofMillis(100);

  private final Deployments deployments;
  private final History history;
  private final ActorRef<ReleaseRegister.Command> register;
  private final BlobReclaimer reclaimer;
  private final Scheduler scheduler;
  private final Duration askTimeout;

  public PayloadDeletion(
      Deployments deployments,
      History history,
      ActorRef<ReleaseRegister.Command> register,
      BlobReclaimer reclaimer,
      Scheduler scheduler,
      Duration askTimeout) {
    this.deployments = deployments;
    this.history = history;
    this.register = register;
    this.reclaimer = reclaimer;
    this.scheduler = scheduler;
    this.askTimeout = askTimeout;
  }

  /**
   * Deletes the payload of {@code found} as {@code user}; the bytes freed on the nodes that were
   * up. Fails with an {@link ApiException}: 409 (running, or the active release), 503 (the history
   * could not catch up within {@code catchUpLimit}).
   */
  public CompletionStage<Long> delete(Deployment found, String user, Duration catchUpLimit) {
    requireFinished(found);
    // Marked before anything is checked: a copy committed or held after its node's mark stays (a
    // new upload of the same bytes that the checks below cannot see yet).
    CompletionStage<Map<String, ClaimMark>> marks =
        found.sha256() != null
            ? reclaimer.markEverywhere(found.sha256())
            : CompletableFuture.completedFuture(Map.of());
    // The wait can take seconds: what is decided after it is decided from the record as it is then.
    return marks.thenCompose(
        marked ->
            readModelCaughtUp(catchUpLimit)
                .thenCompose(
                    caughtUp ->
                        deployments
                            .entity(found.deploymentId())
                            .<Deployment>ask(DeploymentEntity.Get::new, askTimeout))
                .thenCompose(d -> markAndReclaim(d, user, marked)));
  }

  /**
   * Deletes the payloads {@code found} (as the read model shows them) as {@code user}, as {@link
   * #delete} does one by one but with one wait for the history: every payload is marked first, then
   * the history caught up once, then each is decided from its record as it is then. The bytes freed
   * per deployment id; a deployment that is running or the active release is left out (kept), a
   * failure of any other kind fails the whole.
   */
  public CompletionStage<Map<String, Long>> deleteAll(
      List<DeploymentQueries.StoredPayload> found, String user, Duration catchUpLimit) {
    Map<String, CompletionStage<Map<String, ClaimMark>>> marks = new LinkedHashMap<>();
    for (DeploymentQueries.StoredPayload p : found) {
      marks.put(p.deploymentId(), reclaimer.markEverywhere(p.sha256()));
    }
    CompletionStage<Map<String, Long>> freed = CompletableFuture.completedFuture(new TreeMap<>());
    for (var entry : marks.entrySet()) {
      freed = freed.thenCombine(entry.getValue(), (sums, marked) -> sums);
    }
    return freed
        .thenCompose(sums -> readModelCaughtUp(catchUpLimit).thenApply(caughtUp -> sums))
        .thenCompose(
            sums -> {
              CompletionStage<Map<String, Long>> each = CompletableFuture.completedFuture(sums);
              for (var entry : marks.entrySet()) {
                String id = entry.getKey();
                each =
                    each.thenCompose(
                        soFar ->
                            entry
                                .getValue()
                                .thenCompose(
                                    marked ->
                                        deployments
                                            .entity(id)
                                            .<Deployment>ask(DeploymentEntity.Get::new, askTimeout)
                                            .thenCompose(d -> markAndReclaim(d, user, marked)))
                                .handle(
                                    (bytes, failure) -> {
                                      if (failure == null) {
                                        soFar.put(id, bytes);
                                      } else if (!(Failures.cause(failure) instanceof ApiException e
                                          && e.code() == ErrorCode.CONFLICT)) {
                                        throw new CompletionException(Failures.cause(failure));
                                      }
                                      return soFar;
                                    }));
              }
              return each;
            });
  }

  private CompletionStage<Long> markAndReclaim(
      Deployment d, String user, Map<String, ClaimMark> marked) {
    requireFinished(d);
    return desiredReleases()
        .thenCompose(
            releases -> {
              requireNotActive(d, releases.get(d.project()));
              return deployments
                  .entity(d.deploymentId())
                  .<Deployment>askWithStatus(
                      replyTo -> new DeploymentEntity.PrunePayload(user, replyTo), askTimeout)
                  // Also on a repeat: copies kept last time (a node that did not answer, a claim
                  // that has ended) go now, unless a deployment needs them.
                  .thenCompose(
                      after ->
                          d.sha256() != null
                              ? reclaim(d, marked)
                              : CompletableFuture.completedFuture(0L));
            });
  }

  private static void requireNotActive(Deployment d, DesiredRelease current) {
    if (current != null
        && current.inUse().stream().anyMatch(r -> r.deploymentId().equals(d.deploymentId()))) {
      throw new ApiException(
              ErrorCode.CONFLICT,
              "deployment "
                  + d.deploymentId()
                  + " is the active release of project '"
                  + d.project()
                  + "': deploy or roll back to another release first")
          .with("deployment_id", d.deploymentId());
    }
  }

  private static void requireFinished(Deployment d) {
    if (!d.isTerminal()) {
      throw new ApiException(
              ErrorCode.CONFLICT,
              "deployment "
                  + d.deploymentId()
                  + " is "
                  + d.status().apiName()
                  + ": its payload can be deleted once it has finished")
          .with("deployment_id", d.deploymentId());
    }
  }

  /**
   * Waits for the read model to show every deployment the journal holds now; 503 if it does not in
   * time or the database cannot say.
   */
  private CompletionStage<Boolean> readModelCaughtUp(Duration limit) {
    return history
        .catchUp()
        .await(CATCH_UP_POLL, limit)
        .handle(
            (caughtUp, failure) -> {
              if (failure != null) {
                Throwable cause = Failures.cause(failure);
                throw ApiException.unavailable(
                        "the deployment history could not be compared with the journal ("
                            + cause.getMessage()
                            + "): nothing was deleted, retry later")
                    .with("retry_after", 10);
              }
              if (!caughtUp) {
                throw ApiException.unavailable(
                        "the deployment history is behind the journal (a projection is paused or "
                            + "its node is down): nothing was deleted, retry later")
                    .with("retry_after", 10);
              }
              return true;
            });
  }

  private CompletionStage<Long> reclaim(Deployment d, Map<String, ClaimMark> marks) {
    return history
        .onDatabase(() -> history.queries().blobStillNeeded(d.sha256(), d.deploymentId()))
        .thenCompose(
            needed ->
                needed
                    ? CompletableFuture.completedFuture(true)
                    : desiredReleases().thenApply(releases -> released(releases, d.sha256())))
        .thenCompose(
            kept ->
                kept
                    ? CompletableFuture.completedFuture(0L)
                    : reclaimer.reclaimEverywhere(d.sha256(), marks));
  }

  private CompletionStage<Map<String, DesiredRelease>> desiredReleases() {
    return AskPattern.ask(register, ReleaseRegister.GetAll::new, askTimeout, scheduler);
  }

  /** Whether some project's current or incoming release uses the bytes {@code sha256}. */
  private static boolean released(Map<String, DesiredRelease> releases, String sha256) {
    return releases.values().stream()
        .flatMap(release -> release.inUse().stream())
        .anyMatch(release -> sha256.equals(release.sha256()));
  }
}
