package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.testkit.FileTrees;
import dev.deployrt.testkit.Tarball;
import dev.deployrt.testkit.TestDatabase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.StreamSupport;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
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
 * Cluster distribution (issue 3) on three nodes in this JVM sharing one in-memory H2 journal: every
 * node gets the verified payload and switches; supersession, rollback, a corrupted peer, a late
 * joiner, and the origin stopped right after the upload. The tests run in order on one cluster.
 */
@Tag("database")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterDistributionTest {
  private static final Duration CONVERGE = Duration.ofSeconds(60);

  /**
   * Slow enough that a 32 MiB peer fetch takes about four seconds: time for a newer deploy to
   * supersede it.
   */
  private static final long FETCH_BYTES_PER_SECOND = 8L * 1024 * 1024;

  private Path root;
  private final Map<String, Object> database = TestDatabase.shared("cluster");
  private final Map<String, TestNode> nodes = new TreeMap<>();

  @BeforeAll
  void startThreeNodes(@TempDir Path dir) {
    root = dir;
    TestNode first = start("node-1", null);
    start("node-2", first.clusterHostPort());
    start("node-3", first.clusterHostPort());
    awaitMembersUp(3);
  }

  @AfterAll
  void stopAll() {
    // Youngest first: the oldest node hosts the shard coordinator and leaves last.
    List<TestNode> all = new ArrayList<>(nodes.values());
    java.util.Collections.reverse(all);
    all.forEach(TestNode::close);
  }

  private TestNode start(String name, String seed) {
    Map<String, Object> settings = new HashMap<>();
    settings.putAll(database);
    settings.put("deploy.distribution.fetch-bytes-per-second", FETCH_BYTES_PER_SECOND);
    settings.put("deploy.distribution.parent-wait", "5s");
    if (seed != null) {
      settings.put("deploy.cluster.seed-nodes", seed);
    }
    TestNode node = TestNode.start(root.resolve(name), name, settings);
    nodes.put(name, node);
    return node;
  }

  private TestNode node(String name) {
    return nodes.get(name);
  }

  private void awaitMembersUp(int count) {
    nodes.values().forEach(n -> n.awaitMembersUp(count));
  }

  private void await(Duration max, Runnable assertion) {
    TestProbe<Object> probe = nodes.values().iterator().next().testKit.createTestProbe();
    probe.awaitAssert(
        max,
        Duration.ofMillis(100),
        () -> {
          assertion.run();
          return null;
        });
  }

  private static byte[] component(String marker) {
    return Tarball.builder()
        .file("index.html", "<h1>" + marker + "</h1>")
        .file(
            "bin/start.sh",
            ("#!/bin/sh\necho " + marker + "\n").getBytes(StandardCharsets.UTF_8),
            0755)
        .symlink("home.html", "index.html")
        .dir("static")
        .file("static/app.js", "console.log('" + marker + "')")
        .toBytes();
  }

  private JsonNode deploy(TestNode via, String query, byte[] payload, int expectedStatus) {
    HttpResponse<String> r = via.deployRaw(query, payload);
    assertEquals(expectedStatus, r.statusCode(), r.body());
    return TestNode.json(r);
  }

  private Path current(String node, String project) {
    return node(node).dataDir.resolve("projects").resolve(project).resolve("current");
  }

  /**
   * The tree a node serves for the project, following current (and a rollback's alias) to the
   * files.
   */
  private TreeMap<String, String> activeTree(String node, String project) {
    try {
      return FileTrees.describe(current(node, project).toRealPath());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private String activeId(String node, String project) {
    try {
      return Files.readSymbolicLink(current(node, project)).getFileName().toString();
    } catch (IOException e) {
      return null;
    }
  }

  private JsonNode get(String id) {
    return node("node-1").get("/deployments/" + id);
  }

  private JsonNode awaitTerminal(String id) {
    JsonNode[] last = new JsonNode[1];
    await(
        CONVERGE,
        () -> {
          last[0] = get(id);
          assertTrue(
              List.of("succeeded", "partial", "failed", "superseded")
                  .contains(last[0].get("status").asText()),
              "still " + last[0].get("status"));
        });
    return last[0];
  }

  private static List<String> messages(JsonNode deployment, String type, String node) {
    List<String> out = new ArrayList<>();
    for (JsonNode e : deployment.get("events")) {
      if (e.get("type").asText().equals(type)
          && (node == null || node.equals(e.path("node").asText(null)))) {
        out.add(e.get("message").asText());
      }
    }
    return out;
  }

  @Test
  @Order(1)
  void aDeployThroughNodeTwoEndsSucceededWithIdenticalTreesOnEveryNode() {
    byte[] payload = component("web-1");
    JsonNode d = deploy(node("node-2"), "project=web", payload, 201);
    String id = d.get("deployment_id").asText();
    assertEquals("succeeded", d.get("status").asText(), d.toPrettyString());
    assertEquals("node-2", d.get("origin_node").asText());
    for (String n : List.of("node-1", "node-2", "node-3")) {
      assertEquals("active", d.get("nodes").get(n).get("status").asText(), n);
      assertEquals(id, activeId(n, "web"));
    }
    assertEquals(activeTree("node-2", "web"), activeTree("node-1", "web"));
    assertEquals(activeTree("node-2", "web"), activeTree("node-3", "web"));
    assertTrue(activeTree("node-1", "web").get("index.html").startsWith("file:"));
    assertEquals(
        1,
        messages(d, "log", "node-2").stream().filter(m -> m.contains("copied to node-3")).count(),
        "the origin pushes its replica to the next node in the plan: " + messages(d, "log", null));
    assertTrue(
        messages(d, "log", "node-3").stream().noneMatch(m -> m.startsWith("fetched")),
        "the replica waits for the push instead of fetching a second copy: "
            + messages(d, "log", "node-3"));
    assertEquals(
        1,
        messages(d, "log", "node-1").stream().filter(m -> m.startsWith("fetched")).count(),
        "node-1 fetches once: " + messages(d, "log", "node-1"));
    assertTrue(
        messages(d, "log", "node-1").stream()
            .anyMatch(m -> m.startsWith("fetched") && m.endsWith("bytes from node-3)")),
        "node-1 takes every piece from the replica, which relays the origin's push: "
            + messages(d, "log", "node-1"));

    // Every node reports the same view of the project and the cluster.
    await(
        Duration.ofSeconds(10),
        () -> {
          JsonNode projects = node("node-3").get("/projects");
          JsonNode web = null;
          for (JsonNode p : projects.get("projects")) {
            if (p.get("project").asText().equals("web")) {
              web = p;
            }
          }
          assertEquals(id, web.get("deployment_id").asText());
          assertEquals(d.get("sha256").asText(), web.get("sha256").asText());
          for (String n : List.of("node-1", "node-2", "node-3")) {
            assertEquals(
                "active",
                web.get("nodes").get(n).get("status").asText(),
                projects.toPrettyString());
            assertEquals(id, web.get("nodes").get(n).get("deployment_id").asText());
          }
        });
    await(
        Duration.ofSeconds(10),
        () -> {
          JsonNode cluster = node("node-1").get("/cluster/nodes");
          assertEquals("node-1", cluster.get("self").asText());
          assertEquals(3, cluster.get("nodes").size());
          for (JsonNode n : cluster.get("nodes")) {
            assertEquals("up", n.get("status").asText());
            assertEquals(id, n.get("projects").get("web").asText(), cluster.toPrettyString());
          }
        });
  }

  @Test
  @Order(2)
  void twoRapidDeploysOfOneProjectEndWithTheNewerActiveEverywhereAndTheOlderSuperseded() {
    byte[] big =
        Tarball.builder().randomFile("data.bin", 32L * 1024 * 1024, 7).file("v", "1").toBytes();
    JsonNode older = deploy(node("node-1"), "project=rapid&wait=false", big, 202);
    JsonNode newer = deploy(node("node-3"), "project=rapid", component("rapid-2"), 201);
    String newerId = newer.get("deployment_id").asText();
    assertEquals("succeeded", newer.get("status").asText(), newer.toPrettyString());

    JsonNode olderDone = awaitTerminal(older.get("deployment_id").asText());
    assertEquals("superseded", olderDone.get("status").asText(), olderDone.toPrettyString());
    assertTrue(
        StreamSupport.stream(olderDone.get("nodes").spliterator(), false)
            .anyMatch(n -> n.get("status").asText().equals("superseded")));
    for (String n : List.of("node-1", "node-2", "node-3")) {
      String node = n;
      await(Duration.ofSeconds(10), () -> assertEquals(newerId, activeId(node, "rapid")));
    }
  }

  @Test
  @Order(3)
  void aRollbackToTheFirstOfTwoReleasesSwitchesBackWithoutFetchingOrExtracting() {
    String first =
        deploy(node("node-1"), "project=api", component("api-1"), 201)
            .get("deployment_id")
            .asText();
    TreeMap<String, String> firstTree = activeTree("node-2", "api");
    deploy(node("node-2"), "project=api", component("api-2"), 201);
    assertNotEquals(firstTree, activeTree("node-2", "api"), "the second release is another tree");

    HttpResponse<String> r = node("node-3").rollback("", "api", first);
    assertEquals(201, r.statusCode(), r.body());
    JsonNode rollback = TestNode.json(r);
    String rollbackId = rollback.get("deployment_id").asText();
    assertEquals("succeeded", rollback.get("status").asText(), rollback.toPrettyString());
    assertEquals(first, rollback.get("rollback_of").asText());
    for (String n : List.of("node-1", "node-2", "node-3")) {
      assertEquals(rollbackId, activeId(n, "api"), n);
      assertEquals(
          firstTree, activeTree(n, "api"), "the first release's files are active again on " + n);
      Path release = node(n).dataDir.resolve("projects/api/releases").resolve(rollbackId);
      assertTrue(Files.isSymbolicLink(release), "the rollback reuses the first release on " + n);
      try {
        assertEquals(
            node(n).dataDir.resolve("projects/api/releases").resolve(first).toRealPath(),
            release.toRealPath());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      assertEquals(
          1,
          messages(rollback, "log", n).stream()
              .filter(m -> m.contains("without fetching"))
              .count());
    }
    assertEquals(activeTree("node-1", "api"), activeTree("node-3", "api"));
    for (JsonNode e : rollback.get("events")) {
      assertFalse(
          e.get("type").asText().equals("phase")
              && List.of("fetch", "extract").contains(e.path("phase").asText()),
          "no fetch or extract phase in a rollback to a release every node holds: " + e);
    }
  }

  @Test
  @Order(4)
  void aLateJoinerConvergesAndRejectsACorruptedCopyFromOnePeer() throws IOException {
    JsonNode svc = deploy(node("node-2"), "project=svc", component("svc-1"), 201);
    String sha = svc.get("sha256").asText();
    // node-1 now serves other bytes of the same size under that digest.
    Path corrupted =
        node("node-1").dataDir.resolve("blobs/sha256").resolve(sha.substring(0, 2)).resolve(sha);
    byte[] bytes = Files.readAllBytes(corrupted);
    bytes[bytes.length / 2] ^= 0x5a;
    Files.write(corrupted, bytes);

    start("node-4", node("node-1").clusterHostPort());
    awaitMembersUp(4);

    String svcId = svc.get("deployment_id").asText();
    await(
        CONVERGE,
        () -> {
          assertEquals(svcId, activeId("node-4", "svc"));
          assertEquals(activeId("node-1", "web"), activeId("node-4", "web"));
          assertEquals(activeId("node-1", "api"), activeId("node-4", "api"));
          assertEquals(activeId("node-1", "rapid"), activeId("node-4", "rapid"));
        });
    assertEquals(activeTree("node-2", "svc"), activeTree("node-4", "svc"));
    assertEquals(activeTree("node-1", "api"), activeTree("node-4", "api"));

    JsonNode[] reported = new JsonNode[1];
    await(
        Duration.ofSeconds(10),
        () -> {
          reported[0] = get(svcId);
          assertEquals(
              "active",
              reported[0].get("nodes").path("node-4").path("status").asText(),
              reported[0].toPrettyString());
        });
    JsonNode after = reported[0];
    List<String> warnings = messages(after, "warning", "node-4");
    assertTrue(
        warnings.stream().anyMatch(m -> m.contains("from node-1") && m.contains("do not match")),
        "node-4 tried node-1 first (holders by name) and rejected its bytes: " + warnings);
    assertTrue(
        messages(after, "log", "node-4").stream()
            .anyMatch(m -> m.startsWith("fetched") && !m.contains("node-1")),
        messages(after, "log", "node-4").toString());
    assertFalse(
        FileTrees.list(node("node-4").dataDir.resolve("blobs/staging")).iterator().hasNext(),
        "no staging file left behind");
  }

  @Test
  @Order(5)
  void theOriginStoppedRightAfterTheUploadTheOthersStillConverge() {
    byte[] payload =
        Tarball.builder().randomFile("data.bin", 4L * 1024 * 1024, 11).file("v", "late").toBytes();
    JsonNode d = deploy(node("node-4"), "project=orphan&wait=false", payload, 202);
    String id = d.get("deployment_id").asText();
    nodes.remove("node-4").close();

    await(
        CONVERGE,
        () -> {
          for (String n : List.of("node-1", "node-2", "node-3")) {
            assertEquals(id, activeId(n, "orphan"), n);
          }
        });
    assertEquals(activeTree("node-1", "orphan"), activeTree("node-3", "orphan"));
    await(
        CONVERGE,
        () -> {
          JsonNode now = get(id);
          for (String n : List.of("node-1", "node-2", "node-3")) {
            assertEquals(
                "active", now.get("nodes").get(n).get("status").asText(), now.toPrettyString());
          }
        });
  }

  /**
   * Takes {@code sha256} out of the node's blob store, as on a node that joined later or lost its
   * copy.
   */
  private void withoutCopy(String name, String sha256) throws IOException {
    assertTrue(
        node(name)
            .node
            .reclaimer()
            .reclaimLocally(sha256, node(name).node.blobs().mark())
            .isPresent(),
        name + " held " + sha256);
    await(
        Duration.ofSeconds(10),
        () ->
            assertFalse(
                node("node-1").node.directory().peer(name).blobs().contains(sha256),
                "directory still lists " + name));
  }

  @Test
  @Order(6)
  void aRollbackThroughANodeWithoutTheBytesCopiesThemThereBeforeAnswering() throws Exception {
    JsonNode older = deploy(node("node-1"), "project=copyback", component("copyback-1"), 201);
    deploy(node("node-1"), "project=copyback", component("copyback-2"), 201);
    String sha = older.get("sha256").asText();
    withoutCopy("node-3", sha);

    // A download through node-3 relays a holder's intact bytes, with their length.
    HttpResponse<byte[]> relayed =
        node("node-3")
            .client
            .send(
                node("node-3")
                    .request("/deployments/" + older.get("deployment_id").asText() + "/payload")
                    .GET()
                    .build(),
                HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, relayed.statusCode());
    assertEquals(
        Integer.toString(relayed.body().length),
        relayed.headers().firstValue("Content-Length").orElse("none"));
    assertEquals(sha, FileTrees.sha256(relayed.body()));
    assertFalse(node("node-3").node.blobs().contains(sha), "relayed, not stored");

    HttpResponse<String> r =
        node("node-3").rollback("wait=false", "copyback", older.get("deployment_id").asText());
    assertEquals(202, r.statusCode(), r.body());
    // Held on the answering node before its record named the bytes: a payload delete racing this
    // rollback keeps that copy (claimed after its mark) instead of leaving the rollback without
    // bytes.
    assertTrue(node("node-3").node.blobs().contains(sha), "node-3 holds the bytes when it answers");
    String rollbackId = TestNode.json(r).get("deployment_id").asText();
    JsonNode done = awaitTerminal(rollbackId);
    assertEquals("succeeded", done.get("status").asText(), done.toPrettyString());
    assertTrue(
        messages(done, "log", "node-3").stream().anyMatch(m -> m.startsWith("fetched")),
        "node-3 logged its copy: " + messages(done, "log", "node-3"));
    for (String n : List.of("node-1", "node-2", "node-3")) {
      assertEquals(rollbackId, activeId(n, "copyback"), n);
    }
  }

  @Test
  @Order(7)
  void aRollbackThroughANodeThatCannotGetIntactBytesFailsUnavailableAndKeepsNothing()
      throws Exception {
    // Larger than one chunk, so the relay below has passed bytes (and the answer's head) on before
    // it can tell that the digest does not match.
    byte[] olderPayload =
        Tarball.builder()
            .file("index.html", "<h1>nocopy-1</h1>")
            .randomFile("data.bin", 1 << 20, 7)
            .toBytes();
    JsonNode older = deploy(node("node-2"), "project=nocopy", olderPayload, 201);
    String newerId =
        deploy(node("node-2"), "project=nocopy", component("nocopy-2"), 201)
            .get("deployment_id")
            .asText();
    String sha = older.get("sha256").asText();
    // The two holders serve other bytes of the same size under that digest.
    for (String holder : List.of("node-1", "node-2")) {
      Path copy =
          node(holder).dataDir.resolve("blobs/sha256").resolve(sha.substring(0, 2)).resolve(sha);
      byte[] bytes = Files.readAllBytes(copy);
      bytes[bytes.length / 2] ^= 0x5a;
      Files.write(copy, bytes);
    }
    withoutCopy("node-3", sha);

    HttpResponse<String> r =
        node("node-3").rollback("wait=false", "nocopy", older.get("deployment_id").asText());
    assertEquals(503, r.statusCode(), r.body());
    JsonNode error = TestNode.json(r);
    assertEquals("UNAVAILABLE", error.get("code").asText(), r.body());
    assertTrue(error.get("error").asText().contains("do not match"), r.body());
    JsonNode failed = get(error.get("deployment_id").asText());
    assertEquals("failed", failed.get("status").asText(), failed.toPrettyString());
    assertEquals("UNAVAILABLE", failed.get("error").get("code").asText(), failed.toPrettyString());
    assertFalse(node("node-3").node.blobs().contains(sha), "no copy of other bytes kept");
    assertFalse(
        FileTrees.list(node("node-3").dataDir.resolve("blobs/staging")).iterator().hasNext(),
        "no staging file left behind");
    for (String n : List.of("node-1", "node-2", "node-3")) {
      assertEquals(newerId, activeId(n, "nocopy"), "the failed rollback switched nothing on " + n);
    }

    // A download through node-3 relays a holder's bytes (200 with the payload's length), checked as
    // they pass: the last chunk is held until the digest matched, so the connection is cut before
    // the body is complete, and no client ends up with other bytes under this digest.
    TestNode via = node("node-3");
    java.net.http.HttpRequest download =
        via.request("/deployments/" + older.get("deployment_id").asText() + "/payload")
            .GET()
            .build();
    HttpResponse<java.io.InputStream> relayed =
        via.client.send(download, HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, relayed.statusCode());
    assertEquals(
        Long.toString(older.get("payload_size").asLong()),
        relayed.headers().firstValue("Content-Length").orElse("none"));
    try (java.io.InputStream body = relayed.body()) {
      assertThrows(
          IOException.class,
          body::readAllBytes,
          "a relayed payload of other bytes never arrives whole");
    }
  }

  @Test
  @Order(8)
  void deletingAPayloadReclaimsItsBytesOnEveryNode() {
    byte[] first = component("reclaim-1");
    JsonNode older = deploy(node("node-2"), "project=reclaim", first, 201);
    assertEquals("succeeded", older.get("status").asText(), older.toPrettyString());
    JsonNode newer = deploy(node("node-1"), "project=reclaim", component("reclaim-2"), 201);
    assertEquals("succeeded", newer.get("status").asText(), newer.toPrettyString());
    String sha = older.get("sha256").asText();
    await(
        CONVERGE,
        () ->
            nodes
                .values()
                .forEach(
                    n ->
                        assertTrue(
                            n.node.directory().peer(n.node.nodeName()).blobs().contains(sha),
                            n.node.nodeName())));

    HttpResponse<String> r =
        node("node-3")
            .send(
                node("node-3")
                    .request("/deployments/" + older.get("deployment_id").asText() + "/payload")
                    .DELETE()
                    .build());
    assertEquals(200, r.statusCode(), r.body());
    assertEquals(
        3L * first.length,
        TestNode.json(r).get("freed_bytes").asLong(),
        "one copy on each of 3 nodes");
    nodes
        .values()
        .forEach(
            n -> assertFalse(n.node.blobs().contains(sha), "blob left on " + n.node.nodeName()));
    assertFalse(get(older.get("deployment_id").asText()).get("payload_present").asBoolean());
    nodes.values().forEach(n -> assertTrue(n.node.blobs().contains(newer.get("sha256").asText())));
  }

  @Test
  @Order(9)
  void anAdminAsksANodeToLeaveAndTheClusterLetsItGo() {
    HttpResponse<String> unknown =
        node("node-1")
            .send(
                node("node-1")
                    .request("/cluster/nodes/node-9/leave")
                    .POST(HttpRequest.BodyPublishers.noBody())
                    .build());
    assertEquals(404, unknown.statusCode(), unknown.body());
    assertEquals("NOT_FOUND", TestNode.json(unknown).get("code").asText());

    HttpResponse<String> r =
        node("node-1")
            .send(
                node("node-1")
                    .request("/cluster/nodes/node-3/leave")
                    .POST(HttpRequest.BodyPublishers.noBody())
                    .build());
    assertEquals(202, r.statusCode(), r.body());
    assertEquals("leave", TestNode.json(r).get("action").asText());
    await(
        Duration.ofSeconds(30),
        () -> {
          JsonNode cluster = node("node-1").get("/cluster/nodes");
          List<String> names = new ArrayList<>();
          cluster.get("nodes").forEach(n -> names.add(n.get("node").asText()));
          assertEquals(List.of("node-1", "node-2"), names, cluster.toPrettyString());
        });
    // node-3 ran its coordinated shutdown on leaving; closing it again is harmless.
    nodes.remove("node-3").close();
  }
}
