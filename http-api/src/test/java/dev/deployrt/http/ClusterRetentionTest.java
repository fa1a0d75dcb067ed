package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.testkit.Tarball;
import dev.deployrt.testkit.TestDatabase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention on three nodes in this JVM sharing one in-memory H2 journal: 30 deploys with {@code
 * keep_releases = 3} and {@code keep_payloads = 5}, one node down for the last 20 of them.
 */
@Tag("database")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterRetentionTest {
  private static final Duration CONVERGE = Duration.ofSeconds(60);
  private static final String PROJECT = "daily";

  private final Map<String, Object> database = TestDatabase.shared("retention");
  private final Map<String, TestNode> nodes = new TreeMap<>();
  private Path root;

  /** Stops every node (also at the end of the test, before JUnit deletes their directories). */
  @AfterAll
  void stopAll() {
    List<TestNode> all = new ArrayList<>(nodes.values());
    java.util.Collections.reverse(all);
    nodes.clear();
    all.forEach(TestNode::close);
  }

  private TestNode start(String name, String seed) {
    Map<String, Object> settings = new HashMap<>(database);
    if (seed != null) {
      settings.put("deploy.cluster.seed-nodes", seed);
    }
    TestNode node = TestNode.start(root.resolve(name), name, settings);
    nodes.put(name, node);
    return node;
  }

  private void await(Runnable assertion) {
    nodes
        .values()
        .iterator()
        .next()
        .testKit
        .createTestProbe()
        .awaitAssert(
            CONVERGE,
            Duration.ofMillis(200),
            () -> {
              assertion.run();
              return null;
            });
  }

  private JsonNode deploy(TestNode via, int version) {
    byte[] payload = Tarball.builder().file("version.txt", "v" + version).toBytes();
    HttpResponse<String> r = via.deployRaw("project=" + PROJECT, payload);
    assertEquals(201, r.statusCode(), r.body());
    JsonNode d = TestNode.json(r);
    assertEquals("succeeded", d.get("status").asText(), d.toPrettyString());
    return d;
  }

  private Set<String> releases(String node) {
    try (Stream<Path> entries =
        Files.list(root.resolve(node).resolve("projects").resolve(PROJECT).resolve("releases"))) {
      return entries
          .map(p -> p.getFileName().toString())
          .filter(name -> !name.startsWith("."))
          .collect(Collectors.toCollection(TreeSet::new));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private Set<String> blobs(String node) {
    return nodes.get(node).node.blobs().all();
  }

  @Test
  void thirtyDeploysLeaveTheNewestReleasesAndPayloadsOnEveryNode(@TempDir Path dir) {
    root = dir;
    try {
      thirtyDeploys();
    } finally {
      stopAll(); // before JUnit deletes the nodes' directories
    }
  }

  private void thirtyDeploys() {
    TestNode first = start("node-1", null);
    start("node-2", first.clusterHostPort());
    start("node-3", first.clusterHostPort());
    nodes.values().forEach(n -> n.awaitMembersUp(3));
    HttpResponse<String> set =
        first.putSettings(PROJECT, "{\"keep_releases\":3,\"keep_payloads\":5}");
    assertEquals(200, set.statusCode(), set.body());

    List<JsonNode> deployed = new ArrayList<>();
    List<String> names = List.of("node-1", "node-2", "node-3");
    for (int v = 0; v < 10; v++) {
      deployed.add(deploy(nodes.get(names.get(v % 3)), v));
    }
    Path node3Data = root.resolve("node-3");
    nodes.remove("node-3").close();
    for (int v = 10; v < 30; v++) {
      deployed.add(deploy(nodes.get(names.get(v % 2)), v));
    }
    List<String> ids = deployed.stream().map(d -> d.get("deployment_id").asText()).toList();
    Set<String> newestThree = Set.of(ids.get(29), ids.get(28), ids.get(27));
    Set<String> newestFive =
        deployed.subList(25, 30).stream()
            .map(d -> d.get("sha256").asText())
            .collect(Collectors.toSet());
    await(
        () -> {
          for (String n : List.of("node-1", "node-2")) {
            assertEquals(newestThree, releases(n), n);
            assertEquals(newestFive, blobs(n), n + " holds the newest five payloads");
          }
        });

    // The node that was down prunes after it restarts: the new release, and two that were active.
    TestNode back = TestNode.start(node3Data, "node-3", withSeed(first.clusterHostPort()));
    nodes.put("node-3", back);
    await(
        () -> {
          Set<String> there = releases("node-3");
          assertEquals(3, there.size(), there.toString());
          assertTrue(there.contains(ids.get(29)), there.toString());
          assertTrue(
              newestFive.containsAll(blobs("node-3")),
              "node-3 holds no payload retention reclaimed while it was down: " + blobs("node-3"));
        });

    // Every node up before the rollback, so node-3 is one of its targets: a node still joining
    // converges to it later, after the answer (failed once: node-3 still on v29 when read).
    nodes.values().forEach(n -> n.awaitMembersUp(3));
    HttpResponse<String> pruned = first.rollback("", PROJECT, ids.get(24));
    assertEquals(404, pruned.statusCode(), pruned.body());
    assertEquals("PAYLOAD_PRUNED", TestNode.json(pruned).get("code").asText());
    HttpResponse<String> back2 = first.rollback("", PROJECT, ids.get(28));
    assertEquals(201, back2.statusCode(), back2.body());
    assertEquals("succeeded", TestNode.json(back2).get("status").asText(), back2.body());
    for (String n : names) {
      try {
        assertEquals(
            "v28",
            Files.readString(
                root.resolve(n)
                    .resolve("projects")
                    .resolve(PROJECT)
                    .resolve("current/version.txt")),
            n + " runs the rollback");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private Map<String, Object> withSeed(String seed) {
    Map<String, Object> settings = new HashMap<>(database);
    settings.put("deploy.cluster.seed-nodes", seed);
    return settings;
  }
}
