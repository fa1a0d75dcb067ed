package dev.deployrt.node;

import dev.deployrt.async.Failures;
import dev.deployrt.blob.BlobStore;
import dev.deployrt.blob.ClaimMark;
import dev.deployrt.deployment.Deployment;
import dev.deployrt.deployment.DeploymentEntity;
import dev.deployrt.errors.ErrorCode;
import dev.deployrt.peer.BlobReclaimer;
import dev.deployrt.readmodel.DeploymentQueries;
import dev.deployrt.readmodel.ReadModelCatchUp;
import dev.deployrt.release.DesiredRelease;
import dev.deployrt.release.ReleaseStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.pattern.Patterns;
import org.apache.pekko.pattern.StatusReply;

/**
 * What a node settles at start, before it trusts its blob store again: it ends the records of the
 * uploads it was committing when it stopped (their notes under {@code blobs/pending-names/}), waits
 * until the read model shows the journal as it was, then deletes the local blobs no deployment
 * keeps (payloads deleted while it was down, uploads cut before a record named them). A blob
 * committed or held after the mark taken at the start stays; so does any blob no deployment names
 * and no upload noted (the database may not be the one it was recorded in). Afterwards the blobs
 * whose payloads were deleted are swept again periodically ({@link #repeatEvery}).
 */
final class StartupSweep {
  /** Asks to end an interrupted upload's record: about a minute, then the next start. */
  private static final int INTERRUPTED_UPLOAD_ATTEMPTS = 10;

  private final ActorSystem<?> system;
  private final BlobStore blobs;
  private final DeploymentQueries queries;
  private final BlobReclaimer reclaimer;
  private final ReleaseStore releaseStore;
  private final ReadModelCatchUp readModelCatchUp;
  private final Function<String, EntityRef<DeploymentEntity.Command>> deployment;
  private final Executor blocking;

  StartupSweep(
      ActorSystem<?> system,
      BlobStore blobs,
      DeploymentQueries queries,
      BlobReclaimer reclaimer,
      ReleaseStore releaseStore,
      ReadModelCatchUp readModelCatchUp,
      Function<String, EntityRef<DeploymentEntity.Command>> deployment,
      Executor blocking) {
    this.system = system;
    this.blobs = blobs;
    this.queries = queries;
    this.reclaimer = reclaimer;
    this.releaseStore = releaseStore;
    this.readModelCatchUp = readModelCatchUp;
    this.deployment = deployment;
    this.blocking = blocking;
  }

  /**
   * Runs once {@code readModelReady} completes; the result completes when the sweep ran, and fails
   * if the node stopped before the read model had caught up (nothing was swept).
   */
  CompletionStage<Done> startAfter(CompletionStage<Done> readModelReady) {
    // Marked before the checks: bytes an upload or a fetch claims meanwhile are not swept.
    ClaimMark beforeSweep = blobs.mark();
    return readModelReady
        .thenCompose(ready -> endInterruptedUploads())
        .thenCompose(interrupted -> readModelCaughtUp().thenApply(caughtUp -> interrupted))
        .thenApplyAsync(
            interrupted -> {
              reclaimUnneededBlobs(beforeSweep, interrupted);
              return Done.getInstance();
            },
            blocking);
  }

  /**
   * Completes once the read model shows every event the journal held when this was called, however
   * long that takes (a paused projection, a database that does not answer), saying so every minute.
   */
  private CompletionStage<Done> readModelCaughtUp() {
    return readModelCatchUp
        .await(Duration.ofSeconds(1), Duration.ofMinutes(1))
        .exceptionallyCompose(
            e -> {
              system
                  .log()
                  .warn(
                      "the start-up sweep could not compare the read model with the journal: {}",
                      e.toString());
              // A database that fails at once would otherwise be asked again at once, in a tight
              // loop.
              Executor later = CompletableFuture.delayedExecutor(10, TimeUnit.SECONDS, blocking);
              return CompletableFuture.supplyAsync(() -> false, later);
            })
        .thenCompose(
            caughtUp -> {
              if (system.getWhenTerminated().toCompletableFuture().isDone()) {
                // Not caught up for sure: the sweep must not run (the dispatchers still take work).
                return CompletableFuture.failedFuture(
                    new CancellationException("the node stopped before the sweep"));
              }
              if (caughtUp) {
                return CompletableFuture.completedFuture(Done.getInstance());
              }
              system
                  .log()
                  .info(
                      "the start-up sweep of deleted payloads waits for the read model to catch up with the journal");
              return readModelCaughtUp();
            });
  }

  /** The uploads this node was committing when it last stopped, by what their records say now. */
  private record InterruptedUploads(
      List<BlobStore.PendingName> unnamed, List<BlobStore.PendingName> named) {
    static final InterruptedUploads NONE = new InterruptedUploads(List.of(), List.of());
  }

  /**
   * From now on, every {@code interval}: deletes the local blobs whose every deployment gave its
   * payload up (a delete or retention pass that could not reach this node, a node cut off at the
   * time), with the same checks as at start but without touching pending names (those belong to
   * uploads running now). Skipped while the read model cannot be shown to have caught up.
   */
  void repeatEvery(Duration interval) {
    AtomicBoolean running = new AtomicBoolean();
    system
        .scheduler()
        .scheduleWithFixedDelay(
            interval,
            interval,
            () -> {
              if (running.compareAndSet(false, true)) {
                sweepPruned().whenComplete((done, e) -> running.set(false));
              }
            },
            system.executionContext());
  }

  private CompletionStage<Void> sweepPruned() {
    ClaimMark before = blobs.mark();
    return readModelCatchUp
        .await(Duration.ofSeconds(1), Duration.ofMinutes(1))
        .thenAcceptAsync(
            caughtUp -> {
              if (caughtUp) {
                reclaimUnneededBlobs(before, InterruptedUploads.NONE);
              }
            },
            blocking)
        .exceptionally(
            e -> {
              system.log().warn("the periodic sweep of deleted payloads failed: {}", e.toString());
              return null;
            });
  }

  /**
   * Ends failed ({@code UPLOAD_ABORTED}) each deployment whose upload this node had committed or
   * was committing, but whose record did not yet name the bytes, when it last stopped ({@link
   * BlobStore#pendingNames}): that upload cannot go on, so its record need not wait for the upload
   * lease, and once it has ended no late step can name the bytes. A record that did name them (the
   * node stopped just after) is left as it is. A record that does not answer keeps its note for the
   * next start.
   */
  private CompletionStage<InterruptedUploads> endInterruptedUploads() {
    List<CompletableFuture<Map.Entry<BlobStore.PendingName, Boolean>>> each = new ArrayList<>();
    for (BlobStore.PendingName note : blobs.pendingNames()) {
      CompletionStage<StatusReply<Deployment>> ended =
          Patterns.retry(
              () ->
                  deployment
                      .apply(note.deploymentId())
                      .<StatusReply<Deployment>>ask(
                          replyTo ->
                              new DeploymentEntity.FailUpload(
                                  ErrorCode.UPLOAD_ABORTED.name(),
                                  "the upload stopped without "
                                      + "completing: the node receiving it restarted before the payload was recorded as stored",
                                  "upload",
                                  replyTo),
                          Duration.ofSeconds(5)),
              INTERRUPTED_UPLOAD_ATTEMPTS,
              Duration.ofSeconds(2),
              system.classicSystem().scheduler(),
              system.executionContext());
      each.add(
          ended
              .handle(
                  (reply, e) -> {
                    if (reply == null) {
                      system
                          .log()
                          .warn(
                              "could not end deployment {}, whose upload was interrupted ({}): blob {} is "
                                  + "checked again at the next start",
                              note.deploymentId(),
                              Failures.cause(e).toString(),
                              note.sha256());
                      return null;
                    }
                    boolean named =
                        reply.isError() || note.sha256().equals(reply.getValue().sha256());
                    return Map.entry(note, named);
                  })
              .toCompletableFuture());
    }
    return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
        .thenApply(
            all -> {
              List<BlobStore.PendingName> unnamed = new ArrayList<>();
              List<BlobStore.PendingName> named = new ArrayList<>();
              for (CompletableFuture<Map.Entry<BlobStore.PendingName, Boolean>> f : each) {
                Map.Entry<BlobStore.PendingName, Boolean> settled = f.join();
                if (settled != null) {
                  (settled.getValue() ? named : unnamed).add(settled.getKey());
                }
              }
              return new InterruptedUploads(unnamed, named);
            });
  }

  /**
   * Deletes local blobs that no deployment keeps any more: those whose every deployment gave its
   * payload up while this node was down, and those of {@code interrupted} uploads that no
   * deployment named. Runs once the read model has caught up with the journal as it was at start,
   * so no deployment that still keeps the bytes is missing from it. Any other blob no deployment
   * names stays (the database may not be the one these bytes were recorded in), and so does one
   * that a project's stored desired release uses, and one committed or held after {@code since}.
   */
  private void reclaimUnneededBlobs(ClaimMark since, InterruptedUploads interrupted) {
    Set<String> released;
    try {
      released =
          releaseStore.loadAll().stream()
              .flatMap(release -> release.inUse().stream())
              .map(DesiredRelease::sha256)
              .collect(Collectors.toSet());
    } catch (Exception e) {
      system
          .log()
          .warn(
              "could not read the desired releases ({}): no blob is deleted at this start",
              e.toString());
      return;
    }
    Set<String> uploadsCut =
        interrupted.unnamed().stream()
            .map(BlobStore.PendingName::sha256)
            .collect(Collectors.toSet());
    Set<String> unsettled = new HashSet<>();
    for (String sha : blobs.all()) {
      try {
        DeploymentQueries.BlobUse use = queries.blobUse(sha);
        boolean cut = uploadsCut.contains(sha) && use.unkept();
        if (!released.contains(sha) && (use.pruned() || cut)) {
          long freed = reclaimer.reclaimLocally(sha, since).orElse(0);
          if (freed > 0) {
            system
                .log()
                .info(
                    use.pruned()
                        ? "deleted blob {} ({} bytes): its payload was deleted while this node was not reachable"
                        : "deleted blob {} ({} bytes): its upload stopped before a deployment named it",
                    sha,
                    freed);
          }
        }
      } catch (Exception e) {
        system.log().warn("could not check or delete blob {}: {}", sha, e.toString());
        unsettled.add(sha);
      }
    }
    for (BlobStore.PendingName note : interrupted.named()) {
      blobs.forgetPendingName(note.sha256(), note.deploymentId());
    }
    for (BlobStore.PendingName note : interrupted.unnamed()) {
      if (!unsettled.contains(note.sha256())) {
        blobs.forgetPendingName(note.sha256(), note.deploymentId());
      }
    }
  }
}
