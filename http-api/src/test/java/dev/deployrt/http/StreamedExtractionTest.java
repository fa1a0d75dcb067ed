package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.testkit.FileTrees;
import dev.deployrt.testkit.Tarball;
import dev.deployrt.testkit.TestDatabase;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node extracts a payload while fetching it. When the bytes are verified but this node cannot
 * extract them (here: a stricter entry limit than the origin's), that is an extract failure of this
 * node, not a bad source: it is not retried elsewhere, nothing half-extracted stays, and the
 * deployment ends partial with the node's phase and reason.
 */
@Tag("database")
class StreamedExtractionTest {
  @Test
  void verifiedBytesThatThisNodeCannotExtractFailInTheExtractPhaseWithoutRetries(
      @TempDir Path root) {
    Map<String, Object> common = new HashMap<>(TestDatabase.shared("streamed"));
    common.put("deploy.distribution.min-copies", 1);
    TestNode node1 = TestNode.start(root.resolve("node-1"), "node-1", common);
    Map<String, Object> strict = new HashMap<>(common);
    strict.put("deploy.cluster.seed-nodes", node1.clusterHostPort());
    strict.put("deploy.archive.max-entries", 2);
    TestNode node2 = TestNode.start(root.resolve("node-2"), "node-2", strict);
    try {
      node1
          .testKit
          .createTestProbe()
          .awaitAssert(
              Duration.ofSeconds(30),
              () -> {
                assertEquals(2, node1.node.upNodes().size());
                return null;
              });
      byte[] payload =
          Tarball.builder().file("a", "1").file("b", "2").file("c", "3").file("d", "4").toBytes();
      HttpResponse<String> r = node1.deployRaw("project=web", payload);
      assertEquals(201, r.statusCode(), r.body());
      JsonNode d = TestNode.json(r);
      String id = d.get("deployment_id").asText();
      assertEquals("partial", d.get("status").asText(), d.toPrettyString());
      JsonNode failed = d.get("nodes").get("node-2");
      assertEquals("failed", failed.get("status").asText());
      assertEquals(
          "EXTRACT_FAILED",
          failed.get("error").get("code").asText(),
          "a node's own extraction failure (API.md)");
      assertEquals("extract", failed.get("error").get("phase").asText());
      for (JsonNode e : d.get("events")) {
        assertFalse(
            e.get("type").asText().equals("warning") && "node-2".equals(e.path("node").asText()),
            "no other source is tried for bytes that were fine: " + e);
      }
      Path releases = node2.dataDir.resolve("projects/web/releases");
      assertEquals(List.of(), FileTrees.list(releases), "nothing half-extracted on node-2");
      assertFalse(Files.exists(node2.dataDir.resolve("projects/web/current")));
      assertTrue(
          node2.node.blobs().contains(d.get("sha256").asText()),
          "the verified payload itself is kept");
      assertEquals(
          id,
          Files.readSymbolicLink(node1.dataDir.resolve("projects/web/current"))
              .getFileName()
              .toString());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } finally {
      node2.close();
      node1.close();
    }
  }
}
