package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.deployment.Deployment;
import dev.deployrt.deployment.DeploymentEntity;
import dev.deployrt.testkit.Tarball;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Read-your-writes: once {@code POST /deployments} has answered, the list on the node that answered
 * includes the deployment in the state it answered with, even while the read model has not caught
 * up (here: paused). Pages that merge such deployments into the read model's rows are exact: every
 * filter, offset and limit gives the slice of the true history, and the true total.
 */
@Tag("database")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReadYourWritesTest {
  private static final Duration ASK = Duration.ofSeconds(30);
  private TestNode node;

  @BeforeAll
  void start(@TempDir Path dir) {
    // Many list requests in a row: no per-user request rate here.
    node =
        TestNode.start(
            dir.resolve("node"),
            "node-1",
            Map.of("deploy.upload.lease", "1h", "deploy.limits.requests-per-second-per-user", 0));
  }

  @AfterAll
  void stop() {
    node.close();
  }

  private static List<String> ids(JsonNode page) {
    List<String> out = new ArrayList<>();
    page.get("deployments").forEach(d -> out.add(d.get("deployment_id").asText()));
    return out;
  }

  private Map<String, String> statuses(String query) {
    Map<String, String> out = new HashMap<>();
    node.get("/deployments?limit=1000&" + query)
        .get("deployments")
        .forEach(d -> out.put(d.get("deployment_id").asText(), d.get("status").asText()));
    return out;
  }

  @Test
  void theAnsweringNodeListsEveryDeployItHasAnswered() {
    node.setReadModelPaused(true);
    try {
      byte[] good = Tarball.builder().file("index.html", "hi").toBytes();
      for (int round = 0; round < 3; round++) {
        String project = "ryw-" + round;
        String ok =
            TestNode.json(node.deployRaw("project=" + project, good)).get("deployment_id").asText();
        var refused =
            node.deployRaw("project=" + project, Tarball.builder().file("../evil", "x").toBytes());
        assertEquals(422, refused.statusCode(), refused.body());
        String bad = TestNode.json(refused).get("deployment_id").asText();
        var early = node.deployRaw("project=" + project + "&wait=false", good);
        assertEquals(202, early.statusCode(), early.body());
        String accepted = TestNode.json(early).get("deployment_id").asText();

        Map<String, String> listed = statuses("project=" + project);
        assertEquals("succeeded", listed.get(ok), listed.toString());
        assertEquals("failed", listed.get(bad), listed.toString());
        assertTrue(listed.containsKey(accepted), listed.toString());
        assertEquals(3, listed.size(), listed.toString());
        assertEquals(List.of(bad), ids(node.get("/deployments?status=failed&project=" + project)));
        assertEquals(3, node.get("/deployments?project=" + project).get("total").asLong());
      }
    } finally {
      node.setReadModelPaused(false);
    }
  }

  /**
   * 120 deployments in the read model, then, with the projection paused, 20 of the pending ones end
   * failed and 30 new ones appear, all answered by this node: every page agrees with the records.
   */
  @Test
  void mergedPagesAreExactSlicesOfTheHistory() {
    String project = "merge";
    java.time.Instant since =
        java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    Map<String, Deployment> records = new HashMap<>();
    for (int i = 0; i < 120; i++) {
      Deployment d = create(i % 2 == 0 ? project : "other", i % 5 == 0);
      records.put(d.deploymentId(), d);
    }
    node.testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(30),
            Duration.ofMillis(200),
            () -> {
              assertEquals(
                  120,
                  node.get("/deployments?limit=1&project=" + project).get("total").asLong()
                      + node.get("/deployments?limit=1&project=other").get("total").asLong());
              return null;
            });

    node.setReadModelPaused(true);
    try {
      List<Deployment> pending =
          records.values().stream()
              .filter(d -> d.status().apiName().equals("pending"))
              .limit(20)
              .toList();
      for (Deployment d : pending) {
        Deployment failed =
            node.node
                .deployment(d.deploymentId())
                .<Deployment>askWithStatus(
                    r -> new DeploymentEntity.FailUpload("UPLOAD_ABORTED", "gave up", "upload", r),
                    ASK)
                .toCompletableFuture()
                .join();
        node.node.history().queries().answered(failed);
        records.put(failed.deploymentId(), failed);
      }
      for (int i = 0; i < 30; i++) {
        Deployment d = create(i % 3 == 0 ? "other" : project, i % 4 == 0);
        node.node.history().queries().answered(d);
        records.put(d.deploymentId(), d);
      }
      checkEveryPage(since, records);
    } finally {
      node.setReadModelPaused(false);
    }
    node.testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(30),
            Duration.ofMillis(200),
            () -> {
              checkEveryPage(since, records);
              return null;
            });
  }

  private Deployment create(String project, boolean fail) {
    String id = UUID.randomUUID().toString();
    Deployment d =
        node.node
            .deployment(id)
            .<Deployment>askWithStatus(
                r -> new DeploymentEntity.Create(project, null, "admin", "node-1", null, r), ASK)
            .toCompletableFuture()
            .join();
    if (!fail) {
      return d;
    }
    return node.node
        .deployment(id)
        .<Deployment>askWithStatus(
            r -> new DeploymentEntity.FailUpload("INVALID_ARCHIVE", "bad", "upload", r), ASK)
        .toCompletableFuture()
        .join();
  }

  /**
   * Every page of six filters, for the deployments created since {@code since} (which are {@code
   * records}).
   */
  private void checkEveryPage(java.time.Instant since, Map<String, Deployment> records) {
    // Every filter starts at `since`, so deployments of other tests on this node never count.
    String from =
        "since="
            + java.net.URLEncoder.encode(since.toString(), java.nio.charset.StandardCharsets.UTF_8);
    Map<String, Predicate<Deployment>> filters =
        Map.of(
            from,
            d -> true,
            from + "&project=merge",
            d -> d.project().equals("merge"),
            from + "&status=failed",
            d -> d.status().apiName().equals("failed"),
            from + "&status=pending",
            d -> d.status().apiName().equals("pending"),
            from + "&project=merge&status=pending",
            d -> d.project().equals("merge") && d.status().apiName().equals("pending"),
            from + "&project=other&status=failed",
            d -> d.project().equals("other") && d.status().apiName().equals("failed"));
    filters.forEach(
        (query, filter) -> {
          List<String> want =
              records.values().stream()
                  .filter(filter)
                  .sorted(
                      Comparator.comparing((Deployment d) -> d.createdAt().toEpochMilli())
                          .reversed()
                          .thenComparing(Deployment::deploymentId))
                  .map(Deployment::deploymentId)
                  .toList();
          for (int limit : List.of(1, 7, 25, 1000)) {
            for (int offset = 0;
                offset <= want.size() + 1;
                offset += limit == 1000 ? 1000 : Math.max(1, limit * 3 - 1)) {
              String what = "'" + query + "' limit " + limit + " offset " + offset;
              var response =
                  node.send(
                      node.request(
                              "/deployments?" + query + "&limit=" + limit + "&offset=" + offset)
                          .GET()
                          .build());
              assertEquals(200, response.statusCode(), what + ": " + response.body());
              JsonNode page = TestNode.json(response);
              assertEquals(want.size(), page.get("total").asLong(), what);
              assertEquals(
                  want.subList(
                      Math.min(offset, want.size()), Math.min(offset + limit, want.size())),
                  ids(page),
                  what);
            }
          }
        });
  }
}
