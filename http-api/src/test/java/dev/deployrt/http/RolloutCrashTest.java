package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import dev.deployrt.testkit.HelloService;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Safe rollouts across a process boundary: three node processes running the tour's hello-service
 * (each on its own port, restarted by its activate hook, watched by its health hook), one of them
 * SIGKILLed at the worst moments: between {@code prepared} and the switch of a two-phase rollout,
 * and during the health window of a release that the others then revert. Each time the deployment
 * reaches a terminal status and, after the restart, every node runs the release the cluster decided
 * on (never one it reverted).
 */
@Tag("database")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RolloutCrashTest {
  private static final Duration WAIT = Duration.ofSeconds(90);
  private static final String PROJECT = "hello";

  private ProcessCluster cluster;
  private HelloService hello;
  private Path root;
  private final List<NodeProcess> nodes = new ArrayList<>();
  private final Map<String, Integer> ports = new HashMap<>();
  private String healthyId;

  @BeforeAll
  void startCluster(@TempDir Path dir) throws Exception {
    root = dir;
    cluster = new ProcessCluster("rollout-crash");
    hello = new HelloService(root.resolve("hello-home"));
    // A check hook that holds a node while a file named after it exists (the test's handle on
    // "prepared, not yet switched").
    Path check = root.resolve("hold.py");
    Files.writeString(
        check,
        "import os, sys, time\n"
            + "hold = os.path.join(sys.argv[1], 'hold-' + sys.argv[2])\n"
            + "deadline = time.time() + 120\n"
            + "while os.path.exists(hold) and time.time() < deadline:\n"
            + "    time.sleep(0.05)\n");
    Map<String, String> env = cluster.env(Map.of());
    List<String> names = List.of("node-1", "node-2", "node-3");
    for (String name : names) {
      ports.put(name, HelloService.freePort());
      // node-3's watch tolerates 100 failed polls (20 s), the others' 10 (2 s): a broken release
      // fails on node-1 and node-2 first, which leaves the test time to kill node-3 while it
      // watches.
      int failures = name.equals("node-3") ? 100 : 10;
      Map<String, Object> hooks =
          new HashMap<>(hello.hooks(PROJECT, name, ports.get(name), failures));
      hooks.put(
          "deploy.hooks." + PROJECT + ".check.command",
          List.of(HelloService.python(), check.toString(), root.toString(), name));
      Path conf = root.resolve(name + ".conf");
      Files.writeString(
          conf, ConfigFactory.parseMap(hooks).root().render(ConfigRenderOptions.concise()));
      List<String> jvm =
          List.of(
              "-Xmx256m",
              "-XX:+UseSerialGC",
              "-XX:TieredStopAtLevel=1",
              "-Dconfig.file=" + conf,
              "-Ddeploy.distribution.timeout=120s",
              "-Dpekko.loglevel=INFO",
              "-Dlogback.configurationFile="
                  + Path.of("..", "config", "logback.xml").toAbsolutePath().normalize());
      nodes.add(new NodeProcess(name, root.resolve(name), env, jvm));
    }
    String seeds = String.join(",", nodes.stream().map(NodeProcess::clusterHostPort).toList());
    env.put("DEPLOY_SEED_NODES", seeds);
    nodes.forEach(NodeProcess::start);
    cluster.awaitClusterOf(nodes, 3, WAIT);
  }

  @AfterAll
  void stopCluster() throws InterruptedException {
    for (int i = nodes.size() - 1; i >= 0; i--) {
      nodes.get(i).stop();
    }
    if (hello != null) {
      hello.stopAll();
    }
    if (cluster != null) {
      cluster.close(getClass().getSimpleName(), nodes);
    }
  }

  private NodeProcess node(int i) {
    return nodes.get(i - 1);
  }

  private void settings(String json) {
    HttpResponse<String> r =
        cluster.send(
            HttpRequest.newBuilder(URI.create(node(1).url("/projects/" + PROJECT + "/settings")))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(json)));
    assertEquals(200, r.statusCode(), r.body());
  }

  private JsonNode deploy(NodeProcess via, byte[] payload, boolean wait) {
    HttpResponse<String> r =
        cluster.send(
            HttpRequest.newBuilder(
                    URI.create(via.url("/deployments?project=" + PROJECT + "&wait=" + wait)))
                .header("Content-Type", "application/gzip")
                .POST(HttpRequest.BodyPublishers.ofByteArray(payload)));
    assertEquals(wait ? 201 : 202, r.statusCode(), r.body());
    return TestNode.json(r);
  }

  private void awaitNode(String id, NodeProcess n, String status) {
    ProcessCluster.await(
        WAIT,
        () -> {
          JsonNode deployment = cluster.get(node(2), "/deployments/" + id);
          assertEquals(
              status,
              deployment.path("nodes").path(n.name).path("status").asText(),
              n.name + "'s status; the deployment: " + deployment.toPrettyString());
        });
  }

  private JsonNode awaitTerminal(String id) {
    JsonNode[] last = new JsonNode[1];
    ProcessCluster.await(
        WAIT,
        () -> {
          last[0] = cluster.get(node(2), "/deployments/" + id);
          String status = last[0].get("status").asText();
          assertEquals(
              true,
              !status.equals("pending") && !status.equals("distributing"),
              last[0].toString());
        });
    return last[0];
  }

  private String current(NodeProcess n) throws IOException {
    return Files.readSymbolicLink(n.dataDir.resolve("projects/" + PROJECT + "/current"))
        .getFileName()
        .toString();
  }

  private void assertEveryNodeRuns(String id, String version, JsonNode deployment)
      throws IOException {
    for (NodeProcess n : nodes) {
      assertEquals(id, current(n), n.name + "'s current");
      assertEquals(
          version,
          HelloService.version(ports.get(n.name)),
          n.name + "'s service; the deployment: " + deployment.toPrettyString());
    }
  }

  @Test
  @Order(1)
  void aNodeKilledBetweenPreparedAndTheSwitchSwitchesWhenItIsBack() throws Exception {
    settings(
        "{\"rollout\":{\"strategy\":\"two-phase\",\"health_window_s\":1,\"auto_revert\":true}}");
    JsonNode v1 = deploy(node(1), HelloService.payload("v1", true), true);
    assertEquals("succeeded", v1.get("status").asText(), v1.toPrettyString());

    Path hold = root.resolve("hold-node-3");
    Files.writeString(hold, "");
    String v2 =
        deploy(node(1), HelloService.payload("v2", true), false).get("deployment_id").asText();
    awaitNode(v2, node(1), "prepared");
    awaitNode(v2, node(2), "prepared");
    awaitNode(v2, node(3), "checking");
    node(1).kill();
    Files.delete(hold); // node-3 prepares: every target has, and the switch order goes out
    awaitNode(v2, node(2), "active");
    awaitNode(v2, node(3), "active");
    node(1).start();
    JsonNode done = awaitTerminal(v2);
    assertEquals("succeeded", done.get("status").asText(), done.toPrettyString());
    cluster.awaitClusterOf(nodes, 3, WAIT);
    assertEveryNodeRuns(v2, "v2", done);
    healthyId = v2;
  }

  @Test
  @Order(2)
  void aNodeKilledInItsHealthWindowRevertsWhenItIsBack() throws Exception {
    settings(
        "{\"rollout\":{\"strategy\":\"all-at-once\",\"health_window_s\":5,\"auto_revert\":true}}");
    String v3 =
        deploy(node(1), HelloService.payload("v3", false), false).get("deployment_id").asText();
    awaitNode(v3, node(3), "watching");
    node(3).kill();
    awaitNode(v3, node(1), "reverted");
    awaitNode(v3, node(2), "reverted");
    node(3).start();
    JsonNode done = awaitTerminal(v3);
    assertEquals("reverted", done.get("status").asText(), done.toPrettyString());
    JsonNode node3 = done.path("nodes").path("node-3");
    assertEquals("reverted", node3.path("status").asText(), done.toPrettyString());
    assertEquals("HEALTH_FAILED", done.path("error").path("code").asText(), done.toPrettyString());
    assertTrue(
        node3.path("error").isNull(),
        "node-3 switched back without a failure: " + done.toPrettyString());
    cluster.awaitClusterOf(nodes, 3, WAIT);
    assertEveryNodeRuns(healthyId, "v2", done);
  }
}
