package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.testkit.Tarball;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Project settings ({@code GET/PUT /projects/{project}/settings}) and retention on one node:
 * release directories past {@code keep_releases} and payloads past {@code keep_payloads} go, the
 * rest stay.
 */
@Tag("database")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RetentionTest {
  private TestNode node;
  private Path data;

  @BeforeAll
  void start(@TempDir Path dir) {
    data = dir.resolve("node");
    node = TestNode.start(data, "node-1", Map.of());
  }

  @AfterAll
  void stop() {
    node.close();
  }

  private HttpResponse<String> putSettings(String project, String body, String authorization) {
    return node.send(
        node.request("/projects/" + project + "/settings")
            .setHeader("Authorization", authorization)
            .header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofString(body))
            .build());
  }

  private HttpResponse<String> putSettings(String project, String body) {
    return node.putSettings(project, body);
  }

  private static void assertError(HttpResponse<String> r, int status, String code) {
    assertEquals(status, r.statusCode(), r.body());
    assertEquals(code, TestNode.json(r).get("code").asText(), r.body());
  }

  @Test
  void aProjectWithoutSettingsShowsTheDefaultsAndAChangeKeepsWhatItDoesNotName() {
    JsonNode defaults = node.get("/projects/fresh/settings");
    assertEquals("fresh", defaults.get("project").asText());
    assertEquals(5, defaults.get("keep_releases").asInt());
    assertEquals(10, defaults.get("keep_payloads").asInt());
    assertTrue(defaults.get("updated_by").isNull());
    assertTrue(defaults.get("updated_at").isNull());

    HttpResponse<String> changed = putSettings("fresh", "{\"keep_releases\": 3}");
    assertEquals(200, changed.statusCode(), changed.body());
    JsonNode after = TestNode.json(changed);
    assertEquals(3, after.get("keep_releases").asInt());
    assertEquals(10, after.get("keep_payloads").asInt(), "a setting not named stays");
    assertEquals("admin", after.get("updated_by").asText());
    assertFalse(after.get("updated_at").isNull());

    putSettings("fresh", "{\"keep_payloads\": 4}");
    JsonNode read = node.get("/projects/fresh/settings");
    assertEquals(3, read.get("keep_releases").asInt());
    assertEquals(4, read.get("keep_payloads").asInt());
  }

  @Test
  void rolloutSettingsHaveDefaultsAndAChangeKeepsWhatItDoesNotName() {
    JsonNode defaults = node.get("/projects/rolling/settings").get("rollout");
    assertEquals("all-at-once", defaults.get("strategy").asText());
    assertEquals(1, defaults.get("canary_nodes").asInt());
    assertEquals(30, defaults.get("health_window_s").asInt());
    assertTrue(defaults.get("auto_revert").asBoolean());
    HttpResponse<String> changed =
        putSettings("rolling", "{\"rollout\": {\"strategy\": \"canary\", \"canary_nodes\": 2}}");
    assertEquals(200, changed.statusCode(), changed.body());
    putSettings("rolling", "{\"rollout\": {\"auto_revert\": false}, \"keep_releases\": 7}");
    JsonNode read = node.get("/projects/rolling/settings");
    JsonNode rollout = read.get("rollout");
    assertEquals("canary", rollout.get("strategy").asText());
    assertEquals(2, rollout.get("canary_nodes").asInt());
    assertEquals(30, rollout.get("health_window_s").asInt());
    assertFalse(rollout.get("auto_revert").asBoolean());
    assertEquals(7, read.get("keep_releases").asInt());
    assertTrue(read.get("hooks").has("node-1"), "each node up says which hooks it has: " + read);
  }

  @Test
  void badSettingsAreRefusedAndChangeNothing() {
    putSettings("strict", "{\"keep_releases\": 4, \"keep_payloads\": 6}");
    assertError(putSettings("strict", "{\"keep_releases\": 1}"), 400, "INVALID_REQUEST");
    assertError(putSettings("strict", "{\"keep_payloads\": 0}"), 400, "INVALID_REQUEST");
    assertError(putSettings("strict", "{\"keep_payloads\": \"7\"}"), 400, "INVALID_REQUEST");
    assertError(putSettings("strict", "{\"keep_payloads\": 2.5}"), 400, "INVALID_REQUEST");
    assertError(putSettings("strict", "{\"retention\": 2}"), 400, "INVALID_REQUEST");
    for (String rollout :
        List.of(
            "{\"strategy\": \"blue-green\"}",
            "{\"strategy\": 1}",
            "{\"canary_nodes\": 0}",
            "{\"health_window_s\": -1}",
            "{\"auto_revert\": \"yes\"}",
            "{\"speed\": 1}",
            "3")) {
      assertError(putSettings("strict", "{\"rollout\": " + rollout + "}"), 400, "INVALID_REQUEST");
    }
    assertError(putSettings("strict", "{\"hooks\": {}}"), 400, "INVALID_REQUEST");
    assertError(putSettings("strict", "[1]"), 400, "INVALID_REQUEST");
    assertError(putSettings("strict", "{"), 400, "INVALID_REQUEST");
    assertError(putSettings("Bad%20Name", "{\"keep_releases\": 3}"), 400, "INVALID_REQUEST");
    JsonNode read = node.get("/projects/strict/settings");
    assertEquals(4, read.get("keep_releases").asInt());
    assertEquals(6, read.get("keep_payloads").asInt());
  }

  @Test
  void onlyAnAdminChangesSettingsAndEveryoneReadsThem() {
    String viewer = "settings-viewer";
    String password = "a-viewer-password-1";
    node.createUser(viewer, "viewer", password);
    String auth = TestNode.basic(viewer, password);
    assertError(putSettings("guarded", "{\"keep_releases\": 3}", auth), 403, "FORBIDDEN");
    HttpResponse<String> read =
        node.send(
            node.request("/projects/guarded/settings").setHeader("Authorization", auth).build());
    assertEquals(200, read.statusCode(), read.body());
    assertEquals(5, TestNode.json(read).get("keep_releases").asInt(), "unchanged");
  }

  @Test
  void releasesAndPayloadsPastTheKeepAreRemovedAndRollbacksFollowThem() {
    String project = "kept";
    assertEquals(
        200, putSettings(project, "{\"keep_releases\":3,\"keep_payloads\":2}").statusCode());
    List<JsonNode> deployed = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      byte[] payload = Tarball.builder().file("version.txt", "v" + i).toBytes();
      HttpResponse<String> r = node.deployRaw("project=" + project, payload);
      assertEquals(201, r.statusCode(), r.body());
      deployed.add(TestNode.json(r));
    }
    List<String> ids = deployed.stream().map(d -> d.get("deployment_id").asText()).toList();
    // newest first: ids[5], ids[4], ...
    awaitAsserted(
        () -> {
          assertEquals(Set.of(ids.get(5), ids.get(4), ids.get(3)), releases(project));
          for (int i = 0; i < 6; i++) {
            String sha = deployed.get(i).get("sha256").asText();
            assertEquals(i >= 4, node.node.blobs().contains(sha), "payload of deploy " + i);
          }
        });
    assertEquals("v5", read(data.resolve("projects/kept/current/version.txt")));
    awaitAsserted(
        () -> {
          String metrics = node.send(node.request("/metrics").build()).body();
          assertTrue(metrics.contains("deploy_project_releases{project=\"kept\"} 3"), metrics);
          assertTrue(metrics.contains("deploy_data_volume_free_bytes "), metrics);
          assertFalse(
              metrics.contains("deploy_retention_freed_bytes_total{kind=\"payloads\"} 0.0"),
              "payload bytes freed are counted");
        });

    JsonNode pruned = node.get("/deployments/" + ids.get(3));
    assertFalse(pruned.get("payload_present").asBoolean());
    assertTrue(pruned.get("events").toString().contains("payload deleted by retention"));
    JsonNode last = node.get("/deployments/" + ids.get(5));
    assertTrue(
        last.get("events").toString().contains("\"phase\":\"prune\""),
        "the deployment that triggered the prune says what it freed: " + last.get("events"));

    assertError(node.rollback("", project, ids.get(3)), 404, "PAYLOAD_PRUNED");
    HttpResponse<String> back = node.rollback("", project, ids.get(4));
    assertEquals(201, back.statusCode(), back.body());
    assertEquals("succeeded", TestNode.json(back).get("status").asText());
    assertEquals("v4", read(data.resolve("projects/kept/current/version.txt")));
  }

  /**
   * A pass that fails (here: the history does not catch up, its projection paused) is retried
   * without waiting for the project's next deployment.
   */
  @Test
  void aFailedRetentionPassIsRetried(@TempDir Path dir) {
    try (TestNode lagging =
        TestNode.start(
            dir.resolve("lagging"),
            "node-l",
            Map.of("deploy.projects.retention.history-wait", "1s"))) {
      HttpResponse<String> set = lagging.putSettings("lag", "{\"keep_payloads\": 1}");
      assertEquals(200, set.statusCode(), set.body());
      HttpResponse<String> first =
          lagging.deployRaw("project=lag", Tarball.builder().file("v", "0").toBytes());
      assertEquals(201, first.statusCode(), first.body());
      String sha = TestNode.json(first).get("sha256").asText();

      lagging.setReadModelPaused(true);
      HttpResponse<String> second =
          lagging.deployRaw("project=lag", Tarball.builder().file("v", "1").toBytes());
      assertEquals(201, second.statusCode(), second.body());
      assertTrue(lagging.node.blobs().contains(sha), "kept while the history lags");
      lagging.setReadModelPaused(false);

      lagging
          .testKit
          .createTestProbe()
          .awaitAssert(
              Duration.ofSeconds(30),
              Duration.ofMillis(200),
              () -> {
                assertFalse(lagging.node.blobs().contains(sha), "reclaimed by a retried pass");
                return null;
              });
    }
  }

  private Set<String> releases(String project) {
    try (Stream<Path> entries = Files.list(data.resolve("projects/" + project + "/releases"))) {
      return entries
          .map(p -> p.getFileName().toString())
          .filter(name -> !name.startsWith("."))
          .collect(java.util.stream.Collectors.toCollection(TreeSet::new));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void awaitAsserted(Runnable check) {
    node.testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(30),
            Duration.ofMillis(100),
            () -> {
              check.run();
              return null;
            });
  }
}
