package dev.deployrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deployrt.http.TestNode;
import dev.deployrt.testkit.TestDatabase;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** {@code deployctl nodes} and {@code node leave|down} on a three-node cluster in this JVM. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NodeCommandsTest {
  private final Map<String, Object> database = TestDatabase.shared("cli-nodes");
  private final List<TestNode> nodes = new ArrayList<>();
  private Path root;

  @BeforeAll
  void start(@TempDir Path dir) {
    root = dir;
    TestNode first = start("node-1", null);
    start("node-2", first.clusterHostPort());
    start("node-3", first.clusterHostPort());
  }

  private TestNode start(String name, String seed) {
    Map<String, Object> settings = new HashMap<>(database);
    if (seed != null) {
      settings.put("deploy.cluster.seed-nodes", seed);
    }
    TestNode node = TestNode.start(root.resolve(name), name, settings);
    nodes.add(node);
    return node;
  }

  @AfterAll
  void stop() {
    for (int i = nodes.size() - 1; i >= 0; i--) {
      nodes.get(i).close(); // youngest first; closing a node that already left is harmless
    }
  }

  private CliRun run(String... args) {
    Map<String, String> env =
        Map.of(
            "DEPLOY_URL",
            nodes.get(0).url(""),
            "DEPLOY_USER",
            "admin",
            "DEPLOY_PASSWORD",
            TestNode.PASSWORD);
    return CliRun.run(env, root.resolve("home"), "", args);
  }

  private void awaitMembers(List<String> expected) {
    nodes
        .get(0)
        .testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(30),
            () -> {
              CliRun r = run("nodes", "--json");
              List<String> names = new ArrayList<>();
              r.json()
                  .get("nodes")
                  .forEach(
                      n -> {
                        if (n.get("status").asText().equals("up")) {
                          names.add(n.get("node").asText());
                        }
                      });
              assertEquals(expected, names, r.toString());
              return null;
            });
  }

  @Test
  void nodesListsTheMembersAndLeaveAndDownRemoveThem() {
    awaitMembers(List.of("node-1", "node-2", "node-3"));
    CliRun table = run("nodes");
    assertEquals(0, table.exit(), table.toString());
    assertTrue(
        table.out().lines().anyMatch(l -> l.startsWith("node-1 *") && l.contains(" up")),
        table.toString());
    assertTrue(
        table.out().lines().anyMatch(l -> l.startsWith("node-3 ") && l.contains("pekko://")),
        table.toString());

    CliRun leave = run("node", "leave", "node-3");
    assertEquals(0, leave.exit(), leave.toString());
    assertTrue(leave.out().startsWith("asked the cluster to leave node-3"), leave.toString());
    awaitMembers(List.of("node-1", "node-2"));

    CliRun down = run("node", "down", "node-2");
    assertEquals(0, down.exit(), down.toString());
    awaitMembers(List.of("node-1"));
  }
}
