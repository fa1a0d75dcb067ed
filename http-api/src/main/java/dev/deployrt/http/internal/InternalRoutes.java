package dev.deployrt.http.internal;

import static org.apache.pekko.http.javadsl.server.PathMatchers.integerSegment;
import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import dev.deployrt.blob.BlobStore;
import dev.deployrt.blob.ClaimMark;
import dev.deployrt.deploy.DeployRequest;
import dev.deployrt.errors.ApiException;
import dev.deployrt.errors.ErrorCode;
import dev.deployrt.fanout.PieceServer;
import dev.deployrt.http.ApiErrors;
import dev.deployrt.http.ApiJson;
import dev.deployrt.peer.BlobReclaimer;
import dev.deployrt.peer.PeerClient;
import dev.deployrt.peer.PeerPaths;
import dev.deployrt.peer.RelayingPushReceiver;
import dev.deployrt.upload.PayloadUpload;
import dev.deployrt.upload.UploadSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.HttpCredentials;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.FileIO;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * Node-to-node endpoints, authenticated with the cluster secret only ({@code Authorization: Cluster
 * <secret>}): user credentials are refused here, and the secret is refused by every user endpoint.
 *
 * <ul>
 *   <li>{@code GET /internal/blobs/{sha256}[?wait=S]}: a verified payload, streamed from the blob
 *       store; with {@code wait}, a node that does not hold it yet answers once it does (within S
 *       seconds), which lets a fan-out child ask its parent before the parent has it.
 *   <li>{@code PUT /internal/blobs/{sha256}}: a replica pushed by the origin; answered only after
 *       the bytes matched the digest and were committed (201), or were already there (200).
 *   <li>{@code GET /internal/blobs/{sha256}/manifest[?wait=S]} and {@code
 *       /internal/blobs/{sha256}/pieces/{n}[?wait=S]}: the payload's piece manifest and its pieces,
 *       from the blob store or from a fetch in pieces still under way ({@link PieceServer}).
 *   <li>{@code GET /internal/blobs/{sha256}/claim-mark}: this node's blob store claim mark ({@code
 *       mark}), taken by a payload delete before it checks that no deployment needs the bytes.
 *   <li>{@code DELETE /internal/blobs/{sha256}[?unclaimed_since=MARK]}: the payload was deleted;
 *       answers {@code freed_bytes} (0 if this node held no copy) and {@code kept} (true if the
 *       bytes were committed or held here after the mark, so they stay). Without a mark only an
 *       open hold keeps the copy.
 * </ul>
 */
public final class InternalRoutes extends AllDirectives {
  private static final long MAX_WAIT_SECONDS = 600;

  private final String nodeName;
  private final BlobStore blobs;
  private final UploadSettings upload;
  private final BlobReclaimer reclaimer;
  private final PieceServer pieces;
  private final RelayingPushReceiver pushReceiver;
  private final CompletionStage<String> clusterSecret;
  private final Executor blocking;
  private final Materializer mat;

  /**
   * @param upload the limits a pushed replica is copied under
   * @param clusterSecret the secret every call must present (the node is not ready until it is
   *     known)
   * @param blocking where the blob store is read and written
   */
  public InternalRoutes(
      ActorSystem<?> system,
      String nodeName,
      BlobStore blobs,
      UploadSettings upload,
      BlobReclaimer reclaimer,
      PieceServer pieces,
      RelayingPushReceiver pushReceiver,
      CompletionStage<String> clusterSecret,
      Executor blocking) {
    this.pieces = pieces;
    this.pushReceiver = pushReceiver;
    this.nodeName = nodeName;
    this.blobs = blobs;
    this.upload = upload;
    this.reclaimer = reclaimer;
    this.clusterSecret = clusterSecret;
    this.blocking = blocking;
    this.mat = Materializer.matFromSystem(system);
  }

  public Route route() {
    return pathPrefix(
        PeerPaths.INTERNAL,
        () ->
            extractCredentials(
                credentials -> {
                  requireClusterSecret(credentials);
                  return pathPrefix(PeerPaths.BLOBS, () -> pathPrefix(segment(), this::blob));
                }));
  }

  /** The routes of one blob: its claim mark, and the blob itself (read, push, reclaim). */
  private Route blob(String sha) {
    if (!BlobStore.isValidDigest(sha)) {
      throw ApiException.notFound("no blob " + DeployRequest.printable(sha));
    }
    return concat(
        path(PeerPaths.CLAIM_MARK, () -> get(() -> complete(claimMark(sha)))),
        path(
            PeerPaths.MANIFEST,
            () ->
                get(
                    () ->
                        parameterOptional(
                            PeerPaths.WAIT,
                            wait -> completeWithFuture(manifest(sha, waitSeconds(wait)))))),
        path(
            segment(PeerPaths.PIECES).slash(integerSegment()),
            piece ->
                get(
                    () ->
                        parameterOptional(
                            PeerPaths.WAIT,
                            wait -> completeWithFuture(piece(sha, piece, waitSeconds(wait)))))),
        pathEnd(
            () ->
                concat(
                    get(
                        () ->
                            parameterOptional(
                                PeerPaths.WAIT, wait -> serve(sha, waitSeconds(wait)))),
                    put(
                        () ->
                            parameterOptional(
                                PeerPaths.FROM,
                                origin ->
                                    withoutSizeLimit(
                                        () ->
                                            extractRequestEntity(
                                                entity ->
                                                    completeWithFuture(
                                                        receive(
                                                            sha,
                                                            origin,
                                                            entity.getDataBytes())))))),
                    delete(
                        () ->
                            parameterOptional(
                                PeerPaths.UNCLAIMED_SINCE,
                                since -> completeWithFuture(reclaim(sha, since)))))));
  }

  private HttpResponse claimMark(String sha) {
    return HttpResponse.create()
        .withEntity(
            ApiJson.entity(
                ApiJson.MAPPER
                    .createObjectNode()
                    .put("sha256", sha)
                    .put("mark", blobs.mark().token())));
  }

  private void requireClusterSecret(Optional<HttpCredentials> credentials) {
    if (credentials.isEmpty()) {
      throw new ApiException(
          ErrorCode.UNAUTHORIZED, "node-to-node endpoint: the cluster secret is required");
    }
    HttpCredentials c = credentials.get();
    if (!c.scheme().equalsIgnoreCase(PeerClient.SCHEME)) {
      throw new ApiException(
          ErrorCode.FORBIDDEN, "node-to-node endpoint: user credentials are not accepted here");
    }
    CompletableFuture<String> secret = clusterSecret.toCompletableFuture();
    if (!secret.isDone() || secret.isCompletedExceptionally()) {
      throw ApiException.unavailable("the node is not ready for node-to-node calls")
          .with("retry_after", ApiException.RETRY_AFTER_SECONDS);
    }
    byte[] expected = secret.join().getBytes(StandardCharsets.UTF_8);
    byte[] given = c.token().getBytes(StandardCharsets.UTF_8);
    if (!MessageDigest.isEqual(expected, given)) {
      throw new ApiException(ErrorCode.UNAUTHORIZED, "node-to-node endpoint: wrong cluster secret");
    }
  }

  private static long waitSeconds(Optional<String> wait) {
    if (wait.isEmpty()) {
      return 0;
    }
    try {
      long s = Long.parseLong(wait.get());
      if (s >= 0 && s <= MAX_WAIT_SECONDS) {
        return s;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw ApiException.invalid("'wait' must be whole seconds between 0 and " + MAX_WAIT_SECONDS);
  }

  private Route serve(String sha, long waitSeconds) {
    Optional<Path> held = blobs.find(sha);
    if (held.isPresent()) {
      return complete(stream(held.get()));
    }
    if (waitSeconds == 0) {
      throw notHeld(sha);
    }
    CompletionStage<HttpResponse> later =
        blobs
            .whenPresent(sha)
            .toCompletableFuture()
            .orTimeout(waitSeconds, TimeUnit.SECONDS)
            .handle(
                (path, e) -> {
                  if (e != null) {
                    throw notHeld(sha);
                  }
                  return stream(path);
                });
    return completeWithFuture(later);
  }

  private CompletionStage<HttpResponse> manifest(String sha, long waitSeconds) {
    return pieces
        .manifest(sha, Duration.ofSeconds(waitSeconds))
        .thenApply(
            m ->
                m.map(
                        manifest ->
                            HttpResponse.create()
                                .withEntity(
                                    HttpEntities.create(
                                        ContentTypes.APPLICATION_JSON, manifest.toJson())))
                    .orElseGet(() -> ApiErrors.response(notHeld(sha))));
  }

  private CompletionStage<HttpResponse> piece(String sha, int piece, long waitSeconds) {
    return pieces
        .piece(sha, piece, Duration.ofSeconds(waitSeconds))
        .thenApply(
            bytes ->
                bytes
                    .map(
                        b ->
                            HttpResponse.create()
                                .withEntity(
                                    HttpEntities.create(
                                        ContentTypes.APPLICATION_OCTET_STREAM,
                                        ByteString.fromByteBuffer(b))))
                    .orElseGet(
                        () ->
                            ApiErrors.response(
                                ApiException.notFound(
                                    "node "
                                        + nodeName
                                        + " holds no piece "
                                        + piece
                                        + " of "
                                        + sha))));
  }

  private ApiException notHeld(String sha) {
    return ApiException.notFound("node " + nodeName + " does not hold blob " + sha);
  }

  private static HttpResponse stream(Path blob) {
    try {
      long size = Files.size(blob);
      return HttpResponse.create()
          .withEntity(
              HttpEntities.create(
                  ContentTypes.APPLICATION_OCTET_STREAM,
                  size,
                  FileIO.fromPath(blob, PeerClient.TRANSFER_CHUNK_BYTES)));
    } catch (java.io.IOException e) {
      throw new CompletionException(e);
    }
  }

  private CompletionStage<HttpResponse> receive(
      String sha, Optional<String> origin, Source<ByteString, ?> bytes) {
    if (blobs.claimIfPresent(sha).isPresent()) {
      bytes.runWith(Sink.ignore(), mat);
      return CompletableFuture.completedFuture(created(200, sha));
    }
    CompletionStage<Path> committed =
        origin.isPresent()
            ? pushReceiver.receive(sha, origin.get(), bytes)
            : bytes
                .runWith(PayloadUpload.verifiedCopy(blobs, upload, sha, new AtomicLong()), mat)
                .thenApplyAsync(
                    staged -> {
                      try {
                        return staged.commit();
                      } catch (java.io.IOException e) {
                        throw new CompletionException(e);
                      }
                    },
                    blocking);
    return committed
        .thenApply(blob -> created(201, sha))
        .exceptionally(
            e -> {
              ApiException api = ApiErrors.from(e);
              return ApiErrors.response(api);
            });
  }

  private CompletionStage<HttpResponse> reclaim(String sha, Optional<String> unclaimedSince) {
    // Without a mark: a caller from before marks existed, which checked everything itself (open
    // holds still keep the copy).
    ClaimMark since =
        unclaimedSince
            .map(
                token ->
                    ClaimMark.parse(token)
                        .orElseThrow(
                            () ->
                                ApiException.invalid(
                                    "'unclaimed_since' must be a claim mark from GET /internal/blobs/{sha256}/claim-mark")))
            .orElseGet(() -> blobs.mark());
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            OptionalLong freed = reclaimer.reclaimLocally(sha, since);
            return HttpResponse.create()
                .withEntity(
                    ApiJson.entity(
                        ApiJson.MAPPER
                            .createObjectNode()
                            .put("sha256", sha)
                            .put("freed_bytes", freed.orElse(0))
                            .put("kept", freed.isEmpty())));
          } catch (java.io.IOException e) {
            throw new CompletionException(e);
          }
        },
        blocking);
  }

  private static HttpResponse created(int status, String sha) {
    return HttpResponse.create()
        .withStatus(status)
        .withEntity(ApiJson.entity(ApiJson.MAPPER.createObjectNode().put("sha256", sha)));
  }
}
