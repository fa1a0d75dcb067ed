package dev.deployrt.deploy;

import dev.deployrt.archive.PreExtraction;
import dev.deployrt.async.Failures;
import dev.deployrt.blob.BlobStore;
import dev.deployrt.deployment.Deployment;
import dev.deployrt.deployment.DeploymentEntity;
import dev.deployrt.errors.ApiException;
import dev.deployrt.errors.ErrorCode;
import dev.deployrt.metrics.NodeMetrics;
import dev.deployrt.node.NodeRuntime;
import dev.deployrt.project.ProjectSettings;
import dev.deployrt.upload.DiskGuard;
import dev.deployrt.upload.PayloadUpload;
import dev.deployrt.upload.StagedPayload;
import dev.deployrt.upload.UploadFailure;
import dev.deployrt.upload.UploadSettings;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A deploy on this node, from its record to its outcome, for each form the API takes (an upload,
 * raw or multipart, and a rollback, in {@link RollbackCopies}); the HTTP layer only parses requests
 * and turns {@link Outcome}s into answers.
 *
 * <p>Guarantees:
 *
 * <ul>
 *   <li>The record is created before any byte is read ({@link #record}); if it cannot be, nothing
 *       else happens and the caller gets {@code UNAVAILABLE}.
 *   <li>Every step that fails ends the record {@code failed} with the code the client gets ({@link
 *       #fail}); the upload lease is renewed while bytes arrive, so a node that dies mid-upload
 *       leaves a record that ends by itself.
 *   <li>The payload is committed under a hold until the record names it ({@link #whileHeld}), so a
 *       payload delete running meanwhile cannot reclaim bytes a deployment is about to need; a node
 *       that stops before the record names them settles that at its next start ({@code
 *       StartupSweep}).
 *   <li>The answer waits for {@code deploy.distribution.min-copies - 1} replicas to be pushed, so
 *       an acknowledged payload survives the loss of this node when enough nodes are up.
 * </ul>
 */
public final class DeployWorkflow {
  private static final Logger log = LoggerFactory.getLogger(DeployWorkflow.class);

  /**
   * How a deploy ended for its client: the deployment as it stands, {@code complete} if the deploy
   * waited for it and it reached a terminal status; or the error it failed with (its record says
   * the same).
   */
  public record Outcome(
      String deploymentId, Deployment deployment, boolean complete, ApiException error) {
    static Outcome of(Deployment d, boolean complete) {
      return new Outcome(d.deploymentId(), d, complete, null);
    }

    static Outcome failed(String id, ApiException error) {
      return new Outcome(id, null, false, error);
    }
  }

  private final NodeRuntime node;
  private final Materializer mat;
  private final Duration askTimeout;
  private final Function<Throwable, ApiException> errors;
  private final RollbackCopies rollbacks;
  private final UploadCommit commits;

  /** Deploys answered with an event stream, by id: completed once their record exists. */
  private final Map<String, CompletableFuture<Deployment>> streamed = new ConcurrentHashMap<>();

  /**
   * @param askTimeout how long an ask of a deployment entity may take
   * @param errors how a failed step becomes the error the record ends with and the client gets
   */
  public DeployWorkflow(
      NodeRuntime node, Duration askTimeout, Function<Throwable, ApiException> errors) {
    this.node = node;
    this.mat = Materializer.matFromSystem(node.system());
    this.askTimeout = askTimeout;
    this.errors = errors;
    this.rollbacks = new RollbackCopies(node, this);
    this.commits = new UploadCommit(node, this);
  }

  Duration askTimeout() {
    return askTimeout;
  }

  /** Completes with deployment {@code id}'s record as soon as {@link #record} created it. */
  public CompletableFuture<Deployment> whenRecorded(String id) {
    CompletableFuture<Deployment> recorded = new CompletableFuture<>();
    streamed.put(id, recorded);
    return recorded;
  }

  /** Stops waiting for {@code id}'s record (the deploy ended); a waiter that got none is failed. */
  public void forgetRecorded(String id, CompletableFuture<Deployment> recorded) {
    streamed.remove(id, recorded);
    recorded.completeExceptionally(new IllegalStateException("not recorded"));
  }

  /** Creates the record; if that fails nothing else may happen, and the client gets 503. */
  public CompletionStage<Deployment> record(
      String id, DeployRequest params, String user, String rollbackOf) {
    return node.deployment(id)
        .<Deployment>askWithStatus(
            replyTo ->
                new DeploymentEntity.Create(
                    params.project(),
                    params.description(),
                    user,
                    node.nodeName(),
                    rollbackOf,
                    replyTo),
            askTimeout)
        .whenComplete(
            (created, e) -> {
              if (created != null) {
                node.history().queries().answered(created);
              }
              CompletableFuture<Deployment> waiting = created == null ? null : streamed.remove(id);
              if (waiting != null) {
                waiting.complete(created);
              }
            })
        .exceptionally(
            e -> {
              Throwable cause = Failures.cause(e);
              log.error("could not record deployment {}: {}", id, cause.toString());
              if (cause instanceof TimeoutException) {
                // The Create may still be delivered once the shard has moved (sharding buffers it).
                // This follows it in order and ends such a late record failed at once, saying what
                // the client was told, instead of leaving it pending until its upload lease runs
                // out. With no record the entity ignores it.
                node.deployment(id)
                    .tell(
                        new DeploymentEntity.FailUpload(
                            ErrorCode.UNAVAILABLE.name(),
                            "not recorded in time (a node or the journal did not answer); the client was told to retry",
                            "upload",
                            node.system().ignoreRef()));
              }
              // A timeout: the entity's shard is on a node that does not answer (cut off, until the
              // split-brain resolver decides) or the journal hangs; a refusal: the journal failed
              // the write.
              throw ApiException.unavailable(
                      cause instanceof TimeoutException
                          ? "the deployment could not be recorded in time: a node or the journal does not answer"
                          : "the deployment could not be recorded: the journal refused or failed the write")
                  .with("retry_after", ApiException.RETRY_AFTER_SECONDS);
            });
  }

  /**
   * Why a body that declares {@code length} bytes is refused before any of it is read: over {@code
   * deploy.upload.max-bytes}, or it would leave less than {@code deploy.storage.min-free-bytes}
   * free on the blob store's volume.
   */
  public Optional<UploadFailure> refuseDeclaredLength(long length) {
    UploadSettings upload = node.settings().upload();
    if (length > upload.maxBytes()) {
      return Optional.of(UploadFailure.tooLarge(upload.maxBytes()));
    }
    return new DiskGuard(node.blobs().stagingDirectory(), upload.minFreeBytes()).refuse(length);
  }

  /**
   * Runs the upload graph while renewing the pending deployment's upload lease with the bytes so
   * far.
   *
   * @param abort receives a switch that fails the upload (its staging file is then deleted), for a
   *     caller whose request can fail while the upload still waits for bytes that will never come
   */
  public CompletionStage<StagedPayload> upload(
      String id,
      Source<ByteString, ?> bytes,
      DeployRequest params,
      AtomicReference<UniqueKillSwitch> abort) {
    AtomicLong received = new AtomicLong();
    var ref = node.deployment(id);
    PreExtraction extraction =
        node.settings().upload().extractWhileUploading()
            ? ExtractWhileUploading.start(
                node.releases(), params.project(), id, node.settings().upload().minFreeBytes())
            : null;
    Cancellable heartbeat = renewLease(id, received::get);
    NodeMetrics.UploadInFlight inFlight = node.metrics().uploadStarted();
    Pair<UniqueKillSwitch, CompletionStage<StagedPayload>> running =
        bytes
            .map(
                chunk -> {
                  inFlight.received(chunk.size());
                  return chunk;
                })
            .viaMat(KillSwitches.single(), Keep.right())
            .toMat(
                PayloadUpload.sink(
                    node.blobs(),
                    node.settings().upload(),
                    params.sha256(),
                    received,
                    node.uploads(),
                    extraction),
                Keep.both())
            .run(mat);
    abort.set(running.first());
    return running
        .second()
        .whenComplete(
            (staged, e) -> {
              inFlight.close();
              heartbeat.cancel();
            });
  }

  /** Commits the payload and marks it stored, which starts distribution ({@link UploadCommit}). */
  public CompletionStage<Outcome> storeAndDistribute(
      String id, StagedPayload staged, DeployRequest params) {
    return commits.storeAndDistribute(id, staged, params);
  }

  /**
   * A rollback: deploys the stored payload of the deployment {@code params.rollbackOf()} again
   * under the already recorded deployment {@code id} ({@link RollbackCopies}).
   *
   * @param bytesHere run once this node holds the bytes and the record names them, or the rollback
   *     failed
   */
  public CompletionStage<Outcome> rollback(String id, DeployRequest params, Runnable bytesHere) {
    return rollbacks.rollback(id, params, bytesHere);
  }

  /**
   * Runs {@code naming} (the steps until deployment {@code id}'s record names the bytes {@code
   * sha256}), then {@code rest}; a failure of either ends the record failed. Until the record names
   * the bytes, a payload delete's checks cannot see that this deployment needs them, so this node
   * holds them (BlobStore, "claims"): until {@code naming} completes or, if it fails, until {@code
   * fail()} was answered (the entity handles that after a MarkPayloadStored whose ask timed out but
   * which still arrives, so the record then names them or never will).
   */
  <T> CompletionStage<Outcome> whileHeld(
      String id,
      String sha256,
      Supplier<CompletionStage<T>> naming,
      Function<T, CompletionStage<Outcome>> rest) {
    BlobStore.Hold hold = node.blobs().hold(sha256);
    try {
      CompletionStage<T> named = naming.get();
      named.thenRun(hold::close);
      return named
          .thenCompose(rest)
          .exceptionallyCompose(e -> fail(id, e))
          .whenComplete((outcome, e) -> hold.close());
    } catch (RuntimeException e) {
      hold.close(); // e.g. the executor refused the commit (the node is stopping)
      throw e;
    }
  }

  /**
   * Marks the payload stored, which starts distribution to {@code targets}, rolling out as the
   * project's settings say now (fixed on the deployment from here).
   */
  CompletionStage<Deployment> markStored(
      String id, String project, String sha256, long size, List<String> targets) {
    return markStored(id, node.projectSettings().get(project), sha256, size, targets, 0, null);
  }

  /**
   * Marks the payload stored, rolling out as {@code settings} (the project's, read during the step
   * before) say. The upload's final byte count ({@code bytesReceived}, 0 for none) and {@code
   * notes} go into the record in the same write.
   */
  CompletionStage<Deployment> markStored(
      String id,
      CompletionStage<ProjectSettings> settings,
      String sha256,
      long size,
      List<String> targets,
      long bytesReceived,
      List<DeploymentEntity.AppendLog> notes) {
    return settings.thenCompose(
        project ->
            node.deployment(id)
                .askWithStatus(
                    replyTo ->
                        new DeploymentEntity.MarkPayloadStored(
                            sha256,
                            size,
                            targets,
                            project.rollout(),
                            bytesReceived,
                            notes,
                            replyTo),
                    askTimeout));
  }

  /**
   * The outcome once the payload is stored: at once, or when the deployment ends (or the wait times
   * out). The record is distributing by then and can no longer fail its upload, so a record that
   * does not answer after the wait gives the stored deployment as it was (202), not an error.
   */
  CompletionStage<Outcome> outcome(String id, Deployment stored, DeployRequest params) {
    if (!params.waitForResult()) {
      node.history().queries().answered(stored);
      return CompletableFuture.completedFuture(Outcome.of(stored, false));
    }
    return node.deployment(id)
        .<Deployment>ask(DeploymentEntity.AwaitTerminal::new, params.timeout())
        .handle((terminal, e) -> terminal)
        .thenCompose(
            terminal ->
                terminal != null
                    ? CompletableFuture.completedFuture(terminal)
                    : get(id).exceptionally(unanswered -> stored))
        .thenApply(
            d -> {
              node.history().queries().answered(d);
              return Outcome.of(d, d.isTerminal());
            });
  }

  CompletionStage<Deployment> get(String id) {
    return node.deployment(id).ask(DeploymentEntity.Get::new, askTimeout);
  }

  /**
   * Ends the record as failed with the error the failure maps to; the outcome carries that error.
   */
  public CompletionStage<Outcome> fail(String id, Throwable failure) {
    ApiException error = errors.apply(failure).with("deployment_id", id);
    return node.deployment(id)
        .<Deployment>askWithStatus(
            replyTo ->
                new DeploymentEntity.FailUpload(
                    error.code().name(), error.getMessage(), "upload", replyTo),
            askTimeout)
        .handle(
            (d, e) -> {
              if (e != null) {
                log.warn("could not mark deployment {} failed ({})", id, error.code(), e);
              } else {
                node.history().queries().answered(d);
              }
              return Outcome.failed(id, error);
            });
  }

  /**
   * Renews pending deployment {@code id}'s upload lease every progress interval, reporting {@code
   * bytesSoFar} (a count no higher than the last one only renews), until cancelled.
   */
  Cancellable renewLease(String id, LongSupplier bytesSoFar) {
    var ref = node.deployment(id);
    Duration every = node.settings().progressInterval();
    return node.system()
        .scheduler()
        .scheduleAtFixedRate(
            every,
            every,
            () -> ref.tell(new DeploymentEntity.RecordUploadProgress(bytesSoFar.getAsLong())),
            node.system().executionContext());
  }
}
