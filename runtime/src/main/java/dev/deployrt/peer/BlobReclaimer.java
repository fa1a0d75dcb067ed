package dev.deployrt.peer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deployrt.blob.BlobStore;
import dev.deployrt.blob.ClaimMark;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
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
 * according to the peer directory, holds them ({@code DELETE /internal/blobs/{sha256}}). A node
 * that is down keeps its copy until it starts again: then {@code NodeRuntime} deletes every local
 * blob that the read model says no deployment needs any more.
 *
 * <p>Two steps, so that a new use of the same bytes that the caller's checks could not see yet
 * keeps them: {@link #markEverywhere} takes each holder's claim mark ({@link BlobStore#mark()})
 * before the caller checks that no deployment needs the bytes, and {@link #reclaimEverywhere} then
 * deletes only copies that nothing claimed since (a node that gave no mark keeps its copy).
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

  public BlobReclaimer(
      String self,
      BlobStore blobs,
      PeerDirectory directory,
      PeerClient peers,
      Supplier<Set<String>> upNodes,
      Executor blocking) {
    this.self = self;
    this.blobs = blobs;
    this.directory = directory;
    this.peers = peers;
    this.upNodes = upNodes;
    this.blocking = blocking;
  }

  /**
   * The claim marks of this node and of every node that is up and holds the blob, by node name; a
   * node that does not give one in time is left out (it keeps its copy).
   */
  public CompletionStage<Map<String, ClaimMark>> markEverywhere(String sha256) {
    Map<String, CompletableFuture<Optional<ClaimMark>>> asked = new TreeMap<>();
    for (String node : upNodes.get()) {
      if (!node.equals(self) && directory.peer(node).blobs().contains(sha256)) {
        asked.put(node, CompletableFuture.supplyAsync(() -> markOn(node, sha256), blocking));
      }
    }
    ClaimMark local = blobs.mark();
    return CompletableFuture.allOf(asked.values().toArray(CompletableFuture[]::new))
        .thenApply(
            all -> {
              Map<String, ClaimMark> marks = new TreeMap<>();
              marks.put(self, local);
              asked.forEach((node, mark) -> mark.join().ifPresent(m -> marks.put(node, m)));
              return marks;
            });
  }

  /**
   * Blocking: deletes the local copy unless it was claimed after {@code since}; the bytes freed (0
   * if there was none), or empty if it was kept.
   */
  public OptionalLong reclaimLocally(String sha256, ClaimMark since) throws IOException {
    OptionalLong freed = blobs.deleteUnclaimedSince(sha256, since);
    if (freed.isEmpty()) {
      log.info(
          "kept blob {}: it was committed or held again after its deletion was decided", sha256);
    } else {
      // Read when applied: a commit of the same bytes right after the delete may be told first.
      directory.updateSelf(s -> s.withBlob(sha256, blobs.contains(sha256)));
    }
    return freed;
  }

  /**
   * Deletes every reachable copy that nothing claimed after its node's mark in {@code marks}
   * ({@link #markEverywhere}); completes with the bytes freed on all nodes together.
   */
  public CompletionStage<Long> reclaimEverywhere(String sha256, Map<String, ClaimMark> marks) {
    List<CompletableFuture<Long>> each = new ArrayList<>();
    for (String node : upNodes.get()) {
      ClaimMark mark = marks.get(node);
      if (!node.equals(self) && mark != null && directory.peer(node).blobs().contains(sha256)) {
        each.add(CompletableFuture.supplyAsync(() -> reclaimOn(node, sha256, mark), blocking));
      }
    }
    ClaimMark local = marks.get(self);
    if (local != null) {
      each.add(
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return reclaimLocally(sha256, local).orElse(0);
                } catch (IOException e) {
                  log.warn("could not delete blob {} on this node: {}", sha256, e.toString());
                  return 0L;
                }
              },
              blocking));
    }
    return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
        .thenApply(all -> each.stream().mapToLong(CompletableFuture::join).sum());
  }

  private Optional<ClaimMark> markOn(String node, String sha256) {
    String problem;
    try {
      HttpResponse response =
          peers.send(node, HttpRequest.create(PeerPaths.claimMark(sha256)), CALL_TIMEOUT);
      if (!response.status().isSuccess()) {
        problem = peers.describe(response);
      } else {
        Optional<ClaimMark> mark = ClaimMark.parse(json(response).path("mark").asText(null));
        if (mark.isPresent()) {
          return mark;
        }
        problem = "an answer without a valid mark";
      }
    } catch (Exception e) {
      problem = e.toString();
    }
    log.warn(
        "node {} gave no claim mark for blob {} ({}): it keeps its copy until it restarts",
        node,
        sha256,
        problem);
    return Optional.empty();
  }

  private long reclaimOn(String node, String sha256, ClaimMark mark) {
    try {
      HttpResponse response =
          peers.send(
              node,
              HttpRequest.create(PeerPaths.reclaim(sha256, mark)).withMethod(HttpMethods.DELETE),
              CALL_TIMEOUT);
      if (response.status().isSuccess()) {
        return json(response).path("freed_bytes").asLong(0);
      }
      log.warn(
          "node {} did not delete blob {}: {} (it is deleted when that node restarts)",
          node,
          sha256,
          peers.describe(response));
    } catch (Exception e) {
      log.warn(
          "node {} did not delete blob {}: {} (it is deleted when that node restarts)",
          node,
          sha256,
          e.toString());
    }
    return 0;
  }

  private JsonNode json(HttpResponse response) throws Exception {
    String body =
        response
            .entity()
            .toStrict(CALL_TIMEOUT.toMillis(), peers.materializer())
            .toCompletableFuture()
            .get()
            .getData()
            .utf8String();
    return JSON.readTree(body);
  }
}
