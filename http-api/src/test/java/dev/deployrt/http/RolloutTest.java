package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.testkit.HelloService;
import dev.deployrt.testkit.Tarball;
import dev.deployrt.testkit.TestDatabase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Safe rollouts on three nodes in this JVM (one shared in-memory H2 journal), with a real
 * component: the tour's hello-service, a Python HTTP server that each node's activate hook restarts
 * and whose {@code /healthz} (healthy or broken, per release) each node's health hook watches. Each
 * project has its own hooks and, per node, its own port.
 */
@Tag("database")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RolloutTest {
  private static final Duration SETTLE = Duration.ofSeconds(60);
  private static final List<String> NAMES = List.of("node-1", "node-2", "node-3");

  private final Map<String, Object> database = TestDatabase.shared("rollout");
  private final Map<String, TestNode> nodes = new TreeMap<>();
  private final Map<String, Integer> helloPorts = new HashMap<>();
  private final Map<String, Integer> canaryPorts = new HashMap<>();
  private Path root;
  private HelloService hello;

  @BeforeAll
  void startCluster(@TempDir Path dir) {
    root = dir;
    hello = new HelloService(root.resolve("hello-home"));
    Path check = root.resolve("check.py");
    try {
      // The two-phase project's check hook: fails on the node named in a file of the release.
      Files.writeString(
          check,
          "import os, sys\n"
              + "print('checking', os.environ['DEPLOY_DEPLOYMENT_ID'], 'in', os.getcwd())\n"
              + "sys.exit(1 if os.path.exists('fail-check-on-' + sys.argv[1]) else 0)\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String seed = null;
    for (String name : NAMES) {
      helloPorts.put(name, HelloService.freePort());
      canaryPorts.put(name, HelloService.freePort());
      Map<String, Object> settings = new HashMap<>(database);
      settings.putAll(hello.hooks("hello", name, helloPorts.get(name)));
      settings.putAll(hello.hooks("canary", name, canaryPorts.get(name)));
      settings.put(
          "deploy.hooks.twophase.check.command",
          List.of(HelloService.python(), check.toString(), name));
      if (seed != null) {
        settings.put("deploy.cluster.seed-nodes", seed);
      }
      TestNode node = TestNode.start(root.resolve(name), name, settings);
      nodes.put(name, node);
      seed = seed == null ? node.clusterHostPort() : seed;
    }
    nodes.values().forEach(n -> n.awaitMembersUp(3));
  }

  @AfterAll
  void stopAll() {
    List<TestNode> all = new ArrayList<>(nodes.values());
    java.util.Collections.reverse(all);
    all.forEach(TestNode::close);
    if (hello != null) {
      hello.stopAll();
    }
  }

  private TestNode first() {
    return nodes.get("node-1");
  }

  private JsonNode deploy(String project, byte[] payload, int expectedStatus) {
    HttpResponse<String> r = first().deployRaw("project=" + project, payload);
    assertEquals(expectedStatus, r.statusCode(), r.body());
    return TestNode.json(r);
  }

  private void settings(String project, String json) {
    HttpResponse<String> r = first().putSettings(project, json);
    assertEquals(200, r.statusCode(), r.body());
  }

  private String current(String node, String project) {
    Path link = root.resolve(node).resolve("projects").resolve(project).resolve("current");
    try {
      return Files.isSymbolicLink(link)
          ? Files.readSymbolicLink(link).getFileName().toString()
          : null;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private boolean hasRelease(String node, String project, String id) {
    return Files.exists(
        root.resolve(node).resolve("projects").resolve(project).resolve("releases").resolve(id));
  }

  private void await(Runnable assertion) {
    first()
        .testKit
        .createTestProbe()
        .awaitAssert(
            SETTLE,
            Duration.ofMillis(200),
            () -> {
              assertion.run();
              return null;
            });
  }

  private static String nodeStatus(JsonNode d, String node) {
    return d.path("nodes").path(node).path("status").asText();
  }

  @Test
  void aBrokenReleaseIsRevertedOnEveryNodeAndTheServiceAnswersFromThePreviousOne() {
    settings(
        "hello",
        "{\"rollout\":{\"strategy\":\"all-at-once\",\"health_window_s\":2,\"auto_revert\":true}}");
    JsonNode v1 = deploy("hello", HelloService.payload("v1", true), 201);
    assertEquals("succeeded", v1.get("status").asText(), v1.toPrettyString());
    String v1Id = v1.get("deployment_id").asText();
    for (String n : NAMES) {
      assertEquals("active", nodeStatus(v1, n));
      assertEquals("v1", HelloService.version(helloPorts.get(n)), n + " serves v1");
    }
    assertTrue(v1.toString().contains("stayed healthy for 2 s"), "each node's watch passed: " + v1);

    JsonNode v2 = deploy("hello", HelloService.payload("v2", false), 201);
    assertEquals("reverted", v2.get("status").asText(), v2.toPrettyString());
    assertEquals("HEALTH_FAILED", v2.path("error").path("code").asText(), v2.toPrettyString());
    Duration took =
        Duration.between(
            Instant.parse(v2.get("created_at").asText()),
            Instant.parse(v2.get("completed_at").asText()));
    assertTrue(
        took.compareTo(Duration.ofSeconds(2 + 15)) < 0,
        "reverted within the health window plus a few seconds: " + took);
    for (String n : NAMES) {
      assertEquals("reverted", nodeStatus(v2, n), v2.toPrettyString());
      assertEquals(v1Id, current(n, "hello"), n + " runs v1 again");
      assertEquals("v1", HelloService.version(helloPorts.get(n)), n + " serves v1 again");
    }
    // The cluster's current release of the project stays v1, so a node that joins later runs it.
    JsonNode projects = first().get("/projects");
    boolean found = false;
    for (JsonNode p : projects.get("projects")) {
      if (p.get("project").asText().equals("hello")) {
        assertEquals(v1Id, p.get("deployment_id").asText(), projects.toPrettyString());
        found = true;
      }
    }
    assertTrue(found, projects.toPrettyString());

    // A node joining now converges to v1, not to the release the cluster reverted.
    int port = HelloService.freePort();
    Map<String, Object> settings = new HashMap<>(database);
    settings.putAll(hello.hooks("hello", "node-4", port));
    settings.put("deploy.cluster.seed-nodes", first().clusterHostPort());
    try (TestNode late = TestNode.start(root.resolve("node-4"), "node-4", settings)) {
      await(
          () -> {
            assertEquals(v1Id, current("node-4", "hello"), "the late joiner runs v1");
            assertEquals("v1", HelloService.version(port), "and its service answers v1");
          });
      assertFalse(
          hasRelease("node-4", "hello", v2.get("deployment_id").asText()),
          "it never fetched the reverted release");
    }
    first().awaitMembersUp(3);
  }

  @Test
  void twoPhaseWithACheckFailingOnOneNodeSwitchesNoNode() {
    settings("twophase", "{\"rollout\":{\"strategy\":\"two-phase\",\"health_window_s\":0}}");
    JsonNode v1 = deploy("twophase", Tarball.builder().file("v", "1").toBytes(), 201);
    assertEquals("succeeded", v1.get("status").asText(), v1.toPrettyString());
    String v1Id = v1.get("deployment_id").asText();
    assertTrue(v1.toString().contains("switch order sent"), v1.toPrettyString());
    assertTrue(v1.toString().contains("nodes switched within"), v1.toPrettyString());

    JsonNode v2 =
        deploy(
            "twophase",
            Tarball.builder().file("v", "2").file("fail-check-on-node-3", "").toBytes(),
            201);
    assertEquals("failed", v2.get("status").asText(), v2.toPrettyString());
    assertEquals("failed", nodeStatus(v2, "node-3"), v2.toPrettyString());
    assertEquals(
        "CHECK_FAILED",
        v2.path("nodes").path("node-3").path("error").path("code").asText(),
        v2.toPrettyString());
    assertEquals("aborted", nodeStatus(v2, "node-1"), v2.toPrettyString());
    assertEquals("aborted", nodeStatus(v2, "node-2"), v2.toPrettyString());
    assertFalse(v2.toString().contains("switch order sent"), v2.toPrettyString());
    for (String n : NAMES) {
      assertEquals(v1Id, current(n, "twophase"), n + " still runs v1");
    }
    assertTrue(v2.toString().contains("checking"), "the check hook's output is logged: " + v2);
  }

  @Test
  void aFailingCanaryIsRevertedBeforeAnyOtherNodeFetches() {
    settings(
        "canary",
        "{\"rollout\":{\"strategy\":\"canary\",\"canary_nodes\":1,\"health_window_s\":2,"
            + "\"auto_revert\":true}}");
    JsonNode v1 = deploy("canary", HelloService.payload("c1", true), 201);
    assertEquals("succeeded", v1.get("status").asText(), v1.toPrettyString());
    String v1Id = v1.get("deployment_id").asText();
    assertTrue(v1.toString().contains("canary node(s) node-1 passed"), v1.toPrettyString());

    JsonNode v2 = deploy("canary", HelloService.payload("c2", false), 201);
    String v2Id = v2.get("deployment_id").asText();
    assertEquals("reverted", v2.get("status").asText(), v2.toPrettyString());
    assertEquals("reverted", nodeStatus(v2, "node-1"), v2.toPrettyString());
    for (String n : List.of("node-2", "node-3")) {
      assertEquals("aborted", nodeStatus(v2, n), v2.toPrettyString());
      assertFalse(hasRelease(n, "canary", v2Id), n + " never fetched the broken release");
    }
    for (String n : NAMES) {
      assertEquals(v1Id, current(n, "canary"), n);
      assertEquals("c1", HelloService.version(canaryPorts.get(n)), n + " serves c1");
    }
  }

  @Test
  void hooksCannotBeSetThroughTheApiNorThroughAPayload() {
    HttpResponse<String> viaApi =
        first()
            .putSettings(
                "payloadhooks", "{\"hooks\":{\"node-1\":{\"check\":true}},\"keep_releases\":3}");
    assertEquals(400, viaApi.statusCode(), viaApi.body());
    assertTrue(viaApi.body().contains("configuration"), viaApi.body());
    assertEquals(
        5,
        first().get("/projects/payloadhooks/settings").get("keep_releases").asInt(),
        "the refused change changed nothing");

    // A payload that carries hook definitions in every shape a user might try: none of them runs.
    Path marker = root.resolve("payload-hook-ran");
    String command = "[\"touch\", \"" + marker + "\"]";
    byte[] payload =
        Tarball.builder()
            .file("deploy.conf", "deploy.hooks.payloadhooks.check.command = " + command + "\n")
            .file("application.conf", "deploy.hooks.payloadhooks.activate.command = " + command)
            .file(".deploy/hooks.conf", "check { command = " + command + " }")
            .file("hooks.json", "{\"check\": {\"command\": " + command + "}}")
            .toBytes();
    JsonNode d = deploy("payloadhooks", payload, 201);
    assertEquals("succeeded", d.get("status").asText(), d.toPrettyString());
    assertFalse(Files.exists(marker), "a hook from the payload ran");
    JsonNode hooks = first().get("/projects/payloadhooks/settings").get("hooks");
    for (String n : NAMES) {
      assertNotNull(hooks.get(n), hooks.toPrettyString());
      assertFalse(hooks.get(n).get("check").asBoolean(), hooks.toPrettyString());
      assertFalse(hooks.get(n).get("activate").asBoolean(), hooks.toPrettyString());
    }
    JsonNode helloHooks = first().get("/projects/hello/settings").get("hooks");
    assertTrue(helloHooks.get("node-2").get("health").asBoolean(), helloHooks.toPrettyString());
  }
}
