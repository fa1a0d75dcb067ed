package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.testkit.FileTrees;
import dev.deployrt.testkit.Tarball;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
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
 * Three node JVMs on 127.0.0.1 sharing a journal (in an H2 server run by this test, or a PostgreSQL
 * schema in the build's PostgreSQL run). A node is killed with SIGKILL mid-distribution, then
 * restarted on the same data directory: first one that is fetching the payload, then the origin
 * itself (the oldest node, which also hosts the shard coordinator). Nothing half-done is visible,
 * no record is lost, and every node converges. All nodes are given the same seed list, as in
 * production, so a restarted first seed rejoins.
 */
@Tag("database")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MultiProcessCrashTest {
  private static final Duration WAIT = Duration.ofSeconds(90);

  private ProcessCluster cluster;
  private final List<NodeProcess> nodes = new ArrayList<>();
  private String webDeployment;

  @BeforeAll
  void startCluster(@TempDir Path root) throws Exception {
    cluster = new ProcessCluster("crash");
    Map<String, String> env = cluster.env(Map.of());
    // Peer fetches are capped at 8 MiB/s so that a 24 MiB fetch is still running when the node is
    // killed. The nodes log at INFO (the production logback.xml, not the tests' WARN), kept under
    // target/.
    List<String> jvm =
        List.of(
            "-Xmx256m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Ddeploy.distribution.fetch-bytes-per-second=8M",
            "-Dpekko.loglevel=INFO",
            "-Dlogback.configurationFile="
                + Path.of("..", "config", "logback.xml").toAbsolutePath().normalize());
    Map<String, String> withSeeds = new java.util.HashMap<>(env);
    for (String name : List.of("node-1", "node-2", "node-3")) {
      nodes.add(new NodeProcess(name, root.resolve(name), withSeeds, jvm));
    }
    withSeeds.put(
        "DEPLOY_SEED_NODES",
        String.join(",", nodes.stream().map(NodeProcess::clusterHostPort).toList()));
    nodes.forEach(NodeProcess::start);
    awaitClusterOf(3);
    awaitReplicaPushToNode2();
  }

  /**
   * The tests below rely on the fan-out plan: the origin (node-1) pushes each payload to its
   * replica (node-2) and node-3 fetches it. Right after the cluster forms, the origin may not know
   * node-2's API endpoint yet (the peer directory spreads through Distributed Data) and then pushes
   * to node-3 instead, which would already hold the payload the tests expect it to be fetching. So
   * small warm-up deploys are made until one was pushed to node-2.
   */
  private void awaitReplicaPushToNode2() {
    NodeProcess origin = nodes.get(0);
    byte[] payload = Tarball.builder().file("VERSION", "warm-up").toBytes();
    await(
        WAIT,
        () -> {
          HttpResponse<String> r =
              send(
                  origin,
                  HttpRequest.newBuilder(
                          URI.create(origin.url("/deployments?project=warm-up&wait=true")))
                      .header("Content-Type", "application/gzip")
                      .POST(HttpRequest.BodyPublishers.ofByteArray(payload)));
          assertEquals(201, r.statusCode(), r.body());
          JsonNode done =
              get(origin, "/deployments/" + TestNode.json(r).get("deployment_id").asText());
          boolean pushedToNode2 = false;
          for (JsonNode e : done.get("events")) {
            pushedToNode2 |= e.get("message").asText().startsWith("payload copied to node-2 ");
          }
          assertTrue(pushedToNode2, "warm-up deploy not pushed to node-2: " + done.get("events"));
        });
  }

  @AfterAll
  void stopCluster() throws InterruptedException {
    for (int i = nodes.size() - 1; i >= 0; i--) {
      nodes.get(i).stop();
    }
    if (cluster != null) {
      cluster.close(getClass().getSimpleName(), nodes);
    }
  }

  private HttpResponse<String> send(NodeProcess node, HttpRequest.Builder request) {
    return cluster.send(request);
  }

  private JsonNode get(NodeProcess node, String path) {
    return cluster.get(node, path);
  }

  private static void await(Duration max, Runnable check) {
    ProcessCluster.await(max, check);
  }

  private void awaitClusterOf(int size) {
    cluster.awaitClusterOf(nodes, size, WAIT);
  }

  private static TreeMap<String, String> tree(Path dir) {
    try {
      return FileTrees.describe(dir.toRealPath());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private JsonNode deployAndAwaitFetching(
      NodeProcess origin, String project, NodeProcess fetcher, long seed) {
    byte[] payload =
        Tarball.builder()
            .randomFile("data.bin", 24L * 1024 * 1024, seed)
            .file("VERSION", project)
            .toBytes();
    HttpResponse<String> r =
        send(
            origin,
            HttpRequest.newBuilder(
                    URI.create(origin.url("/deployments?project=" + project + "&wait=false")))
                .header("Content-Type", "application/gzip")
                .POST(HttpRequest.BodyPublishers.ofByteArray(payload)));
    assertEquals(202, r.statusCode(), r.body());
    JsonNode accepted = TestNode.json(r);
    String id = accepted.get("deployment_id").asText();
    await(
        WAIT,
        () ->
            assertEquals(
                "fetching",
                get(origin, "/deployments/" + id)
                    .get("nodes")
                    .get(fetcher.name)
                    .get("status")
                    .asText()));
    return accepted;
  }

  /**
   * Every node: the same tree active, the record readable, no staging leftovers, one release only.
   */
  private void assertConverged(String project, String id) throws IOException {
    for (NodeProcess n : nodes) {
      assertEquals(
          tree(nodes.get(1).dataDir.resolve("projects/" + project + "/current")),
          tree(n.dataDir.resolve("projects/" + project + "/current")),
          n.name);
      // Right after a restart the shards rebalance onto the restarted node; a read during a handoff
      // may be answered 503 with Retry-After, which a client retries. The record must then be
      // there.
      await(
          WAIT,
          () ->
              assertEquals(
                  id,
                  get(n, "/deployments/" + id).get("deployment_id").asText(),
                  "record " + id + " read on " + n.name));
      assertEquals(
          List.of(),
          FileTrees.list(n.dataDir.resolve("blobs/staging")),
          "no staging leftovers on " + n.name);
      try (var releases = Files.list(n.dataDir.resolve("projects/" + project + "/releases"))) {
        assertEquals(
            List.of(id),
            releases.map(p -> p.getFileName().toString()).toList(),
            "only the finished release on " + n.name);
      }
    }
  }

  @Test
  @Order(1)
  void aNodeKilledWhileFetchingLeavesNothingHalfVisibleAndConvergesAfterRestart() throws Exception {
    NodeProcess origin = nodes.get(0);
    NodeProcess victim = nodes.get(2); // node-3: not the origin's replica (node-2), so it fetches
    JsonNode accepted = deployAndAwaitFetching(origin, "web", victim, 3);
    String id = accepted.get("deployment_id").asText();
    webDeployment = id;
    String sha = accepted.get("sha256").asText();
    victim.kill();

    Path blob = victim.dataDir.resolve("blobs/sha256").resolve(sha.substring(0, 2)).resolve(sha);
    Path release = victim.dataDir.resolve("projects/web/releases").resolve(id);
    assertFalse(Files.exists(blob), "no blob under its address before it was verified");
    assertFalse(Files.exists(release), "no release directory for a payload that never arrived");
    assertFalse(Files.exists(victim.dataDir.resolve("projects/web/current")));

    Supplier<JsonNode> record = () -> get(nodes.get(1), "/deployments/" + id);
    // If the deployment's shard lived on the killed node, the survivors answer 503 (Retry-After)
    // until the split-brain resolver downs it (stable-after, 20 s by default) and the shard moves;
    // a client retries. The record itself is intact.
    await(
        WAIT,
        () ->
            assertEquals(
                id,
                record.get().get("deployment_id").asText(),
                "the record is intact on the survivors"));

    victim.start();
    await(
        WAIT,
        () -> {
          JsonNode d = record.get();
          assertEquals("succeeded", d.get("status").asText(), d.toString());
        });
    assertConverged("web", id);
    assertTrue(Files.isRegularFile(blob), "the restarted node holds the verified payload");
    assertEquals(sha, FileTrees.sha256(Files.readAllBytes(blob)));
  }

  @Test
  @Order(2)
  void theOriginKilledMidDistributionRestartsAndEveryNodeConverges() throws Exception {
    NodeProcess origin = nodes.get(0);
    NodeProcess fetcher = nodes.get(2);
    String id = deployAndAwaitFetching(origin, "api", fetcher, 5).get("deployment_id").asText();
    origin.kill();

    // node-3 loses its source mid-fetch and turns to the replica, node-2.
    await(WAIT, () -> assertEquals(id, readLink(fetcher.dataDir.resolve("projects/api/current"))));
    origin.start();
    awaitClusterOf(3);
    await(
        WAIT,
        () -> {
          JsonNode d = get(nodes.get(1), "/deployments/" + id);
          assertEquals("succeeded", d.get("status").asText(), d.toString());
          assertEquals(id, readLink(origin.dataDir.resolve("projects/api/current")));
        });
    assertConverged("api", id);
    assertConverged("web", webDeployment);
  }

  private static String readLink(Path link) {
    try {
      return Files.readSymbolicLink(link).getFileName().toString();
    } catch (IOException e) {
      throw new AssertionError(link + " is not switched yet", e);
    }
  }
}
