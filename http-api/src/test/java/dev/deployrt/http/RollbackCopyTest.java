package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.testkit.Tarball;
import dev.deployrt.testkit.TestDatabase;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rollback taken by a node without the earlier payload copies it there before answering. Here the
 * copy is throttled to take about three times the upload lease: the pending rollback's lease is
 * renewed while it copies, as an upload's is while bytes arrive, so it is not ended as abandoned.
 */
@Tag("database")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RollbackCopyTest {
  private static final long FETCH_BYTES_PER_SECOND = 1024 * 1024;
  private static final Duration LEASE = Duration.ofSeconds(2);

  private TestNode first;
  private TestNode second;

  @BeforeAll
  void startTwoNodes(@TempDir Path dir) {
    Map<String, Object> database = TestDatabase.shared("rollback-copy");
    first = TestNode.start(dir.resolve("node-1"), "node-1", settings(database, null));
    second =
        TestNode.start(
            dir.resolve("node-2"), "node-2", settings(database, first.clusterHostPort()));
    first.awaitMembersUp(2);
    second.awaitMembersUp(2);
  }

  private static Map<String, Object> settings(Map<String, Object> database, String seed) {
    Map<String, Object> settings = new HashMap<>(database);
    settings.put("deploy.distribution.fetch-bytes-per-second", FETCH_BYTES_PER_SECOND);
    settings.put("deploy.upload.lease", LEASE.toMillis() + "ms");
    settings.put("deploy.upload.progress-interval", "300ms");
    if (seed != null) {
      settings.put("deploy.cluster.seed-nodes", seed);
    }
    return settings;
  }

  @AfterAll
  void stop() {
    second.close();
    first.close();
  }

  private JsonNode deployAndAwait(TestNode via, byte[] payload) {
    HttpResponse<String> r = via.deployRaw("project=slow", payload);
    assertEquals(201, r.statusCode(), r.body());
    JsonNode d = TestNode.json(r);
    assertEquals("succeeded", d.get("status").asText(), d.toPrettyString());
    return d;
  }

  /**
   * Deploys a release of {@code bytes} random bytes, then a newer one, and takes the older payload
   * out of node-2's blob store (its release directory stays): a rollback through node-2 must copy
   * it.
   */
  private JsonNode earlierReleaseMissingOnSecond(long bytes, long seed) {
    JsonNode earlier =
        deployAndAwait(
            first,
            Tarball.builder()
                .randomFile("data.bin", bytes, seed)
                .file("v", "old-" + seed)
                .toBytes());
    deployAndAwait(first, Tarball.builder().file("v", "new-" + seed).toBytes());
    String sha = earlier.get("sha256").asText();
    try {
      assertTrue(
          second.node.reclaimer().reclaimLocally(sha, second.node.blobs().mark()).isPresent());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    assertFalse(second.node.blobs().contains(sha));
    return earlier;
  }

  @Test
  void aRollbackWhoseCopyOutlastsTheUploadLeaseStillSucceeds() throws IOException {
    // Random data: ~6 MiB compressed, so the throttled copy takes about 6 s, three leases.
    JsonNode earlier = earlierReleaseMissingOnSecond(6L * 1024 * 1024, 7);
    String sha = earlier.get("sha256").asText();

    HttpResponse<String> r =
        second.rollback("wait=false", "slow", earlier.get("deployment_id").asText());
    assertEquals(202, r.statusCode(), r.body());
    JsonNode rollback = TestNode.json(r);
    assertEquals("distributing", rollback.get("status").asText(), rollback.toPrettyString());
    assertTrue(second.node.blobs().contains(sha), "node-2 holds the bytes when it answers");
  }

  /**
   * Two rollbacks to the same missing bytes at once copy them once: the second waits for the
   * first's copy.
   */
  @Test
  void concurrentRollbacksToTheSameMissingBytesShareOneCopy() throws Exception {
    JsonNode earlier = earlierReleaseMissingOnSecond(2L * 1024 * 1024, 9);

    String earlierId = earlier.get("deployment_id").asText();
    var one =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () -> second.rollback("wait=false", "slow", earlierId));
    var two =
        java.util.concurrent.CompletableFuture.supplyAsync(
            () -> second.rollback("wait=false", "slow", earlierId));
    List<String> ids = new java.util.ArrayList<>();
    for (HttpResponse<String> r : List.of(one.get(), two.get())) {
      assertEquals(202, r.statusCode(), r.body());
      ids.add(TestNode.json(r).get("deployment_id").asText());
    }
    second
        .testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(20),
            () -> {
              long copies = 0;
              long waited = 0;
              for (String id : ids) {
                for (JsonNode e : second.get("/deployments/" + id).get("events")) {
                  String message = e.path("message").asText();
                  copies +=
                      "node-2".equals(e.path("node").asText()) && message.startsWith("fetched")
                          ? 1
                          : 0;
                  waited += message.contains("already being copied") ? 1 : 0;
                }
              }
              assertEquals(1, copies, "one copy to node-2 for both rollbacks");
              assertEquals(1, waited, "the other rollback waited for it");
              return null;
            });
  }
}
