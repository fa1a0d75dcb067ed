package dev.deployrt.http.deployments;

import dev.deployrt.blob.BlobStore;
import dev.deployrt.deployment.Deployment;
import dev.deployrt.errors.ApiException;
import dev.deployrt.errors.ErrorCode;
import dev.deployrt.http.ApiJson;
import dev.deployrt.http.auth.User;
import dev.deployrt.peer.PeerClient;
import dev.deployrt.peer.PeerPaths;
import dev.deployrt.peer.Transfers;
import dev.deployrt.peer.VerifiedRelay;
import dev.deployrt.retention.PayloadDeletion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
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
 * VerifiedRelay}) and {@code DELETE /deployments/{id}/payload} (API.md, "Reading"), whose rules and
 * races are {@link dev.deployrt.retention.PayloadDeletion}'s: the delete waits at most {@code
 * deploy.http.payload-delete-wait} for the history to catch up with the journal.
 */
final class PayloadHandler {
  private static final Duration PEER_TIMEOUT = Duration.ofSeconds(30);
  private static final ContentType GZIP =
      MediaTypes.applicationBinary("gzip", MediaTypes.NOT_COMPRESSIBLE).toContentType();

  private final BlobStore blobs;
  private final Transfers transfers;
  private final PayloadDeletion deletion;
  private final Executor blocking;
  private final Duration catchUpLimit;

  /**
   * @param catchUpLimit how long a delete waits for the read model to catch up
   */
  PayloadHandler(
      BlobStore blobs,
      Transfers transfers,
      PayloadDeletion deletion,
      Executor blocking,
      Duration catchUpLimit) {
    this.blobs = blobs;
    this.transfers = transfers;
    this.deletion = deletion;
    this.blocking = blocking;
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
    Optional<Path> local = blobs.find(d.sha256());
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
    return CompletableFuture.supplyAsync(() -> fromPeer(d, headers), blocking);
  }

  private HttpResponse fromPeer(Deployment d, List<HttpHeader> headers) {
    PeerClient peers = transfers.client();
    for (String other : transfers.otherHolders(d.sha256())) {
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
    return deletion
        .delete(found, user.name(), catchUpLimit)
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
