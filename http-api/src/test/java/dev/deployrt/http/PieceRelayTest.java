package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.testkit.FileTrees;
import dev.deployrt.testkit.Tarball;
import dev.deployrt.testkit.TestDatabase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Piece relay across three nodes in one JVM, with no replica push (min-copies 1), so both other
 * nodes fetch along the piece plan: node-2 takes stripe 0 from the origin (node-1) and stripe 1
 * from node-3; node-3 takes stripe 1 from the origin and stripe 0 from node-2. Each fetch is held
 * to 8 MiB/s, so the 40 MiB payload takes about five seconds to arrive and the nodes ask each other
 * for pieces long before either holds it all.
 */
class PieceRelayTest {
  private static final Duration CONVERGE = Duration.ofSeconds(60);

  @TempDir Path root;
  private final Map<String, TestNode> nodes = new TreeMap<>();

  private void startCluster(String corrupting) {
    Map<String, Object> database = TestDatabase.shared("pieces-" + System.nanoTime());
    for (String name : List.of("node-1", "node-2", "node-3")) {
      Map<String, Object> settings = new HashMap<>(database);
      settings.put("deploy.distribution.min-copies", 1);
      settings.put("deploy.distribution.fetch-bytes-per-second", 8L * 1024 * 1024);
      settings.put("deploy.distribution.piece-bytes", "1M");
      settings.put("deploy.distribution.test.corrupt-served-pieces", name.equals(corrupting));
      if (!nodes.isEmpty()) {
        settings.put("deploy.cluster.seed-nodes", nodes.get("node-1").clusterHostPort());
      }
      nodes.put(name, TestNode.start(root.resolve(name), name, settings));
    }
    nodes.values().forEach(n -> n.awaitMembersUp(3));
  }

  @AfterEach
  void stopAll() {
    List<TestNode> all = new ArrayList<>(nodes.values());
    java.util.Collections.reverse(all);
    all.forEach(TestNode::close);
  }

  private static byte[] payload(long seed) {
    return Tarball.builder()
        .file("index.html", "<h1>" + seed + "</h1>")
        .randomFile("data.bin", 40L << 20, seed)
        .toBytes();
  }

  private void await(Duration max, Runnable assertion) {
    TestProbe<Object> probe = nodes.get("node-1").testKit.createTestProbe();
    probe.awaitAssert(
        max,
        Duration.ofMillis(100),
        () -> {
          assertion.run();
          return null;
        });
  }

  private TreeMap<String, String> activeTree(String node) {
    try {
      return FileTrees.describe(
          nodes.get(node).dataDir.resolve("projects/web/current").toRealPath());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<String> messages(JsonNode deployment, String type, String node) {
    List<String> out = new ArrayList<>();
    for (JsonNode e : deployment.get("events")) {
      if (e.get("type").asText().equals(type) && node.equals(e.path("node").asText(null))) {
        out.add(e.get("message").asText());
      }
    }
    return out;
  }

  private void assertNoStagingLeft() {
    for (TestNode n : nodes.values()) {
      assertFalse(
          FileTrees.list(n.dataDir.resolve("blobs/staging")).iterator().hasNext(),
          "staging files left on " + n.dataDir);
    }
  }

  @Test
  void nodesRelayPiecesTheyAreStillReceivingAndACorruptingPeerIsCaughtAndDropped() {
    startCluster("node-3");
    HttpResponse<String> r = nodes.get("node-1").deployRaw("project=web", payload(1));
    assertEquals(201, r.statusCode(), r.body());
    JsonNode d = TestNode.json(r);
    assertEquals("succeeded", d.get("status").asText(), d.toPrettyString());
    for (String n : List.of("node-2", "node-3")) {
      assertEquals("active", d.get("nodes").get(n).get("status").asText(), n);
      assertEquals(activeTree("node-1"), activeTree(n), n);
    }

    // node-2 served node-3 pieces of a payload it did not hold all of yet.
    assertTrue(nodes.get("node-2").node.transfers().pieces().relayedWhileReceiving() > 0);
    List<String> node3 = messages(d, "log", "node-3");
    assertTrue(
        node3.stream().anyMatch(m -> m.startsWith("fetched") && m.contains("bytes from node-2")),
        node3.toString());

    // node-3 flips a byte of every piece it serves: node-2 notices at the first one, names it, and
    // takes that stripe from the origin instead; none of node-3's bytes made it into node-2's copy.
    String sha = d.get("sha256").asText();
    String id = d.get("deployment_id").asText();
    List<String> warnings = messages(d, "warning", "node-2");
    assertEquals(
        1,
        warnings.stream()
            .filter(m -> m.startsWith("node-3 served piece") && m.contains("not asked again"))
            .count(),
        warnings.toString());
    List<String> node2 = messages(d, "log", "node-2");
    assertTrue(
        node2.stream()
            .anyMatch(
                m -> m.startsWith("fetched") && !m.contains("node-3") && m.contains("node-1")),
        node2.toString());
    for (TestNode n : nodes.values()) {
      assertTrue(n.node.blobs().contains(sha), n.dataDir.toString());
    }
    assertEquals(id, d.get("deployment_id").asText());
    assertNoStagingLeft();
  }

  @Test
  void aRelayStoppedMidTransferDoesNotStallTheOthers() {
    startCluster(null);
    HttpResponse<String> r = nodes.get("node-1").deployRaw("project=web&wait=false", payload(2));
    assertEquals(202, r.statusCode(), r.body());
    String id = TestNode.json(r).get("deployment_id").asText();
    // node-3 is taking pieces from node-2 while node-2 is still receiving them: stop node-2 now.
    await(
        Duration.ofSeconds(30),
        () ->
            assertTrue(nodes.get("node-2").node.transfers().pieces().relayedWhileReceiving() > 0));
    nodes.remove("node-2").close();

    JsonNode[] last = new JsonNode[1];
    await(
        CONVERGE,
        () -> {
          last[0] = nodes.get("node-1").get("/deployments/" + id);
          assertEquals(
              "active",
              last[0].get("nodes").get("node-3").get("status").asText(),
              last[0].toPrettyString());
        });
    assertEquals(activeTree("node-1"), activeTree("node-3"));
    List<String> warnings = messages(last[0], "warning", "node-3");
    // It left (or its connection broke): either way node-3 says so and asks another.
    assertTrue(
        warnings.stream()
            .anyMatch(
                m ->
                    (m.startsWith("node-2 left the cluster") || m.contains("from node-2"))
                        && m.contains("asking node-1")),
        warnings.toString());
    assertTrue(
        messages(last[0], "log", "node-3").stream()
            .anyMatch(m -> m.startsWith("fetched") && m.contains("from node-1")),
        messages(last[0], "log", "node-3").toString());
    assertNoStagingLeft();
  }
}
