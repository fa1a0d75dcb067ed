package dev.deployrt.peer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deployrt.blob.BlobStore;
import java.io.IOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes a payload's bytes from the blob store of this node and of every node that is up and,
 * according to the peer directory, holds them ({@code DELETE /internal/blobs/{sha256}}). A node that
 * is down keeps its copy until it starts again: then {@code NodeRuntime} deletes every local blob
 * that the read model says no deployment needs any more.
 */
public final class BlobReclaimer {
  private static final Logger log = LoggerFactory.getLogger(BlobReclaimer.class);
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String self;
  private final BlobStore blobs;
  private final PeerDirectory directory;
  private final PeerClient peers;
  private final Supplier<Set<String>> upNodes;
  private final Executor blocking;

  public BlobReclaimer(String self, BlobStore blobs, PeerDirectory directory, PeerClient peers,
      Supplier<Set<String>> upNodes, Executor blocking) {
    this.self = self;
    this.blobs = blobs;
    this.directory = directory;
    this.peers = peers;
    this.upNodes = upNodes;
    this.blocking = blocking;
  }

  /** Blocking: deletes the local copy; the bytes freed (0 if there was none). */
  public long reclaimLocally(String sha256) throws IOException {
    long freed = blobs.delete(sha256);
    directory.updateSelf(s -> s.withBlob(sha256, false));
    return freed;
  }

  /** Deletes every reachable copy; completes with the bytes freed on all nodes together. */
  public CompletionStage<Long> reclaimEverywhere(String sha256) {
    return CompletableFuture.supplyAsync(() -> {
      long freed = 0;
      try {
        freed += reclaimLocally(sha256);
      } catch (IOException e) {
        log.warn("could not delete blob {} on this node: {}", sha256, e.toString());
      }
      for (String node : upNodes.get()) {
        if (node.equals(self) || !directory.peer(node).blobs().contains(sha256)) {
          continue;
        }
        freed += reclaimOn(node, sha256);
      }
      return freed;
    }, blocking);
  }

  private long reclaimOn(String node, String sha256) {
    try {
      HttpResponse response = peers.send(node,
          HttpRequest.create("/internal/blobs/" + sha256).withMethod(HttpMethods.DELETE), CALL_TIMEOUT);
      if (response.status().isSuccess()) {
        String body = response.entity().toStrict(CALL_TIMEOUT.toMillis(), peers.materializer())
            .toCompletableFuture().get().getData().utf8String();
        JsonNode json = JSON.readTree(body);
        return json.path("freed_bytes").asLong(0);
      }
      log.warn("node {} did not delete blob {}: {} (it is deleted when that node restarts)", node, sha256,
          peers.describe(response));
    } catch (Exception e) {
      log.warn("node {} did not delete blob {}: {} (it is deleted when that node restarts)", node, sha256,
          e.toString());
    }
    return 0;
  }
}
