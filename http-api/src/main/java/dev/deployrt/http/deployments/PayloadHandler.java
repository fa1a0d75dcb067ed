package dev.deployrt.http.deployments;

import dev.deployrt.async.Failures;
import dev.deployrt.blob.BlobStore.ClaimMark;
import dev.deployrt.deployment.Deployment;
import dev.deployrt.deployment.DeploymentEntity;
import dev.deployrt.errors.ApiException;
import dev.deployrt.errors.ErrorCode;
import dev.deployrt.http.ApiJson;
import dev.deployrt.http.auth.User;
import dev.deployrt.node.NodeRuntime;
import dev.deployrt.peer.PeerClient;
import dev.deployrt.peer.PeerPaths;
import dev.deployrt.peer.VerifiedRelay;
import dev.deployrt.release.DesiredRelease;
import dev.deployrt.release.ReleaseRegister;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.javadsl.FileIO;

/**
 * {@code GET /deployments/{id}/payload} (the stored {@code .tar.gz}, from this node's blob store or
 * streamed through from a node that holds it, checked against its digest as it passes: {@link
 * VerifiedRelay}) and {@code DELETE /deployments/{id}/payload} (API.md, "Reading").
 *
 * <p>Delete rules: only a terminal deployment; never the active release of its project (409); the
 * record is marked first ({@code payload_present} false, an event in its log), then the bytes are
 * removed from every node that is up, unless another deployment still needs the same bytes. Two
 * sources say which do: the read model, for every deployment that keeps its payload or still runs,
 * and the release register, for the release each project runs or is being moved to (an identical
 * upload or a rollback in any project, in flight or done). The read model lags the journal by up to
 * a poll, so the delete first waits until it shows everything the journal holds (at most {@code
 * deploy.http.payload-delete-wait}; else 503 and nothing changes), and decides the rest from the
 * record as it is after the wait. A deployment publishes its release right after its payload is
 * stored (a message to its node's register, which writes it to every reachable node at once); this
 * node's replica is read right before the bytes go, after the record was marked. What neither can
 * show yet is covered by the blob stores' claim marks, taken on every holder before the first check
 * ({@link dev.deployrt.peer.BlobReclaimer}): a copy committed again after its node's mark (a new
 * upload of the same bytes, a replica pushed or fetched) or held by an upload whose record does not
 * name the bytes yet stays, and so does a copy a rollback to this very deployment holds (it reads
 * the record again after taking the hold, so it fails PAYLOAD_PRUNED if the record was marked
 * first; a node without a copy first copies the bytes from a holder under that hold, and fails
 * PAYLOAD_PRUNED if the delete removed them first). Repeating the call changes the record no
 * further and deletes the copies the last call left (nodes that were unreachable or kept a claimed
 * copy), if no deployment needs them; otherwise it frees 0 bytes.
 */
final class PayloadHandler {
  private final Duration askTimeout;
  private static final Duration PEER_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration CATCH_UP_POLL = Duration.ofMillis(100);
  private static final ContentType GZIP =
      MediaTypes.applicationBinary("gzip", MediaTypes.NOT_COMPRESSIBLE).toContentType();

  private final NodeRuntime node;
  private final Duration catchUpLimit;

  /**
   * @param catchUpLimit how long a delete waits for the read model to catch up
   */
  PayloadHandler(NodeRuntime node, Duration askTimeout, Duration catchUpLimit) {
    this.node = node;
    this.askTimeout = askTimeout;
    this.catchUpLimit = catchUpLimit;
  }

  CompletionStage<HttpResponse> get(Deployment d, HttpRequest request) {
    requirePayload(d);
    String etag = "\"sha256:" + d.sha256() + "\"";
    boolean unchanged =
        request
            .getHeader("If-None-Match")
            .map(h -> h.value().contains(etag) || h.value().strip().equals("*"))
            .orElse(false);
    List<HttpHeader> headers =
        List.of(
            RawHeader.create("ETag", etag),
            RawHeader.create(
                "Content-Disposition",
                "attachment; filename=\"" + d.project() + "-" + d.deploymentId() + ".tar.gz\""));
    if (unchanged) {
      return CompletableFuture.completedFuture(
          HttpResponse.create().withStatus(304).addHeaders(headers));
    }
    Optional<Path> local = node.blobs().find(d.sha256());
    if (local.isPresent()) {
      try {
        long size = Files.size(local.get());
        return CompletableFuture.completedFuture(
            HttpResponse.create()
                .addHeaders(headers)
                .withEntity(
                    HttpEntities.create(
                        GZIP,
                        size,
                        FileIO.fromPath(local.get(), PeerClient.TRANSFER_CHUNK_BYTES))));
      } catch (java.io.IOException e) {
        // deleted meanwhile: try the peers
      }
    }
    return CompletableFuture.supplyAsync(() -> fromPeer(d, headers), node.blocking());
  }

  private HttpResponse fromPeer(Deployment d, List<HttpHeader> headers) {
    PeerClient peers = node.peers();
    for (String other : node.upNodes()) {
      if (other.equals(node.nodeName())
          || !node.directory().peer(other).blobs().contains(d.sha256())) {
        continue;
      }
      try {
        HttpResponse response =
            peers.send(other, HttpRequest.create(PeerPaths.blob(d.sha256())), PEER_TIMEOUT);
        var length = response.entity().getContentLengthOption();
        if (response.status().isSuccess()
            && length.isPresent()
            && length.getAsLong() == d.payloadSize()) {
          // Checked while relayed: other bytes cut the connection before the body is complete.
          return HttpResponse.create()
              .addHeaders(headers)
              .withEntity(
                  HttpEntities.create(
                      GZIP,
                      d.payloadSize(),
                      VerifiedRelay.of(
                          response.entity().getDataBytes(), d.sha256(), d.payloadSize())));
        }
        response.discardEntityBytes(peers.materializer());
      } catch (Exception e) {
        // next holder
      }
    }
    throw ApiException.unavailable(
            "no node that is up holds the payload of deployment " + d.deploymentId())
        .with("retry_after", 10)
        .with("deployment_id", d.deploymentId());
  }

  CompletionStage<HttpResponse> delete(Deployment found, User user) {
    requireFinished(found);
    // Marked before anything is checked: a copy committed or held after its node's mark stays (a
    // new upload of the same bytes that the checks below cannot see yet).
    CompletionStage<Map<String, ClaimMark>> marks =
        found.sha256() != null
            ? node.reclaimer().markEverywhere(found.sha256())
            : CompletableFuture.completedFuture(Map.of());
    // The wait can take seconds: what is decided after it is decided from the record as it is then.
    return marks
        .thenCompose(
            marked ->
                readModelCaughtUp()
                    .thenCompose(
                        caughtUp ->
                            node.deployment(found.deploymentId())
                                .<Deployment>ask(DeploymentEntity.Get::new, askTimeout))
                    .thenCompose(
                        d -> {
                          requireFinished(d);
                          return desiredReleases()
                              .thenCompose(
                                  releases -> {
                                    DesiredRelease current = releases.get(d.project());
                                    if (current != null
                                        && current.deploymentId().equals(d.deploymentId())) {
                                      throw new ApiException(
                                              ErrorCode.CONFLICT,
                                              "deployment "
                                                  + d.deploymentId()
                                                  + " is the active release of "
                                                  + "project '"
                                                  + d.project()
                                                  + "': deploy or roll back to another release first")
                                          .with("deployment_id", d.deploymentId());
                                    }
                                    return node.deployment(d.deploymentId())
                                        .<Deployment>askWithStatus(
                                            replyTo ->
                                                new DeploymentEntity.PrunePayload(
                                                    user.name(), replyTo),
                                            askTimeout)
                                        // Also on a repeat: copies kept last time (a node that did
                                        // not answer, a claim that
                                        // has ended) go now, unless a deployment needs them.
                                        .thenCompose(
                                            after ->
                                                d.sha256() != null
                                                    ? reclaim(d, marked)
                                                    : CompletableFuture.completedFuture(0L));
                                  });
                        }))
        .thenApply(
            freed ->
                HttpResponse.create()
                    .withEntity(
                        ApiJson.entity(
                            ApiJson.MAPPER
                                .createObjectNode()
                                .put("deployment_id", found.deploymentId())
                                .put("freed_bytes", freed))));
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
  private CompletionStage<Boolean> readModelCaughtUp() {
    return node.history()
        .catchUp()
        .await(CATCH_UP_POLL, catchUpLimit)
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
    return CompletableFuture.supplyAsync(
            () -> {
              try {
                return node.history().queries().blobStillNeeded(d.sha256(), d.deploymentId());
              } catch (Exception e) {
                throw new CompletionException(e);
              }
            },
            node.database())
        .thenCompose(
            needed ->
                needed
                    ? CompletableFuture.completedFuture(true)
                    : desiredReleases().thenApply(releases -> released(releases, d.sha256())))
        .thenCompose(
            kept ->
                kept
                    ? CompletableFuture.completedFuture(0L)
                    : node.reclaimer().reclaimEverywhere(d.sha256(), marks));
  }

  private CompletionStage<Map<String, DesiredRelease>> desiredReleases() {
    return AskPattern.ask(
        node.register(), ReleaseRegister.GetAll::new, askTimeout, node.system().scheduler());
  }

  /** Whether some project's current or incoming release uses the bytes {@code sha256}. */
  private static boolean released(Map<String, DesiredRelease> releases, String sha256) {
    return releases.values().stream().anyMatch(release -> sha256.equals(release.sha256()));
  }

  private static void requirePayload(Deployment d) {
    if (d.sha256() == null) {
      throw ApiException.notFound(
              "deployment "
                  + d.deploymentId()
                  + " has no payload: it ended before one was "
                  + "stored")
          .with("deployment_id", d.deploymentId());
    }
    if (!d.payloadPresent()) {
      throw new ApiException(
              ErrorCode.PAYLOAD_PRUNED,
              "the payload of deployment " + d.deploymentId() + " was deleted")
          .with("deployment_id", d.deploymentId());
    }
  }
}
