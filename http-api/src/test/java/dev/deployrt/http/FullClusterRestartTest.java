package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.testkit.FileTrees;
import dev.deployrt.testkit.Tarball;
import dev.deployrt.testkit.TestDatabase;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole cluster stops while a deployment is distributing, then starts again. Nothing in memory
 * survives (the release register, timers, which entities were running), only the database and the
 * nodes' disks. The deployment must resume by itself, without anyone reading it: its entity is
 * started again from the read model (UnfinishedDeployments), recovers, publishes its release again,
 * and the lagging node converges. A node that joins afterwards converges to every project,
 * including one whose deployment had finished before the stop (its release comes from the stored
 * register).
 */
@Tag("database")
class FullClusterRestartTest {
  private final Map<String, Object> database = TestDatabase.shared("restart");

  private TestNode start(Path root, String name, String seed) {
    Map<String, Object> settings = new HashMap<>();
    settings.putAll(database);
    // No replica push, and a slow fetch: node-2 is still fetching when the cluster stops.
    settings.put("deploy.distribution.min-copies", 1);
    settings.put("deploy.distribution.fetch-bytes-per-second", 1024 * 1024);
    if (seed != null) {
      settings.put("deploy.cluster.seed-nodes", seed);
    }
    return TestNode.start(root.resolve(name), name, settings);
  }

  private static String activeId(TestNode node, String project) {
    try {
      return Files.readSymbolicLink(
              node.dataDir.resolve("projects").resolve(project).resolve("current"))
          .getFileName()
          .toString();
    } catch (IOException e) {
      return null;
    }
  }

  @Test
  void aDeploymentInterruptedByAFullClusterRestartResumesByItself(@TempDir Path root)
      throws IOException {
    TestNode node1 = start(root, "node-1", null);
    TestNode node2 = start(root, "node-2", node1.clusterHostPort());
    TestProbe<Object> probe = node1.testKit.createTestProbe();
    probe.awaitAssert(
        Duration.ofSeconds(30),
        () -> {
          assertEquals(2, node1.node.upNodes().size());
          return null;
        });
    HttpResponse<String> api =
        node1.deployRaw("project=api", Tarball.builder().file("api.txt", "v1").toBytes());
    assertEquals(201, api.statusCode(), api.body());
    String apiId = TestNode.json(api).get("deployment_id").asText();
    byte[] payload =
        Tarball.builder().randomFile("data.bin", 4L * 1024 * 1024, 9).file("v", "1").toBytes();
    HttpResponse<String> r = node1.deployRaw("project=web&wait=false", payload);
    assertEquals(202, r.statusCode(), r.body());
    String id = TestNode.json(r).get("deployment_id").asText();
    probe.awaitAssert(
        Duration.ofSeconds(30),
        () -> {
          assertEquals(
              "fetching",
              node1.get("/deployments/" + id).get("nodes").get("node-2").get("status").asText());
          return null;
        });
    // The only holder of the payload goes first, so node-2 cannot finish its fetch while it stops.
    node1.close();
    node2.close();
    assertEquals(null, activeId(node2, "web"), "node-2 had not switched when the cluster stopped");

    TestNode again1 = start(root, "node-1", null);
    TestNode again2 = start(root, "node-2", again1.clusterHostPort());
    TestNode newcomer = null;
    try {
      TestProbe<Object> after = again1.testKit.createTestProbe();
      after.awaitAssert(
          Duration.ofSeconds(60),
          Duration.ofMillis(200),
          () -> {
            assertEquals(id, activeId(again2, "web"));
            return null;
          });
      assertEquals(
          FileTrees.describe(again1.dataDir.resolve("projects/web/current").toRealPath()),
          FileTrees.describe(again2.dataDir.resolve("projects/web/current").toRealPath()));
      after.awaitAssert(
          Duration.ofSeconds(20),
          () -> {
            JsonNode d = again2.get("/deployments/" + id);
            assertEquals("succeeded", d.get("status").asText(), d.toPrettyString());
            return null;
          });

      TestNode node3 = start(root, "node-3", again1.clusterHostPort());
      newcomer = node3;
      after.awaitAssert(
          Duration.ofSeconds(60),
          Duration.ofMillis(200),
          () -> {
            assertEquals(apiId, activeId(node3, "api"));
            assertEquals(id, activeId(node3, "web"));
            return null;
          });
    } finally {
      if (newcomer != null) {
        newcomer.close();
      }
      again2.close();
      again1.close();
    }
  }
}
