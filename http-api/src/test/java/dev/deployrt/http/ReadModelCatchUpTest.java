package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.deployment.Deployment;
import dev.deployrt.deployment.DeploymentEntity;
import dev.deployrt.readmodel.DeploymentProjection;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.projection.ProjectionId;
import org.apache.pekko.projection.javadsl.ProjectionManagement;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The read model catches up on events it missed while its projection was not running, across a
 * restart of the node, and applies each event exactly once (event counts match the entities').
 */
@Tag("database")
class ReadModelCatchUpTest {
  private static final Duration ASK = Duration.ofSeconds(10);

  private static Deployment create(TestNode node, String project) {
    String id = UUID.randomUUID().toString();
    return node.node
        .deployment(id)
        .<Deployment>askWithStatus(
            r -> new DeploymentEntity.Create(project, null, "admin", "node-1", null, r), ASK)
        .toCompletableFuture()
        .join();
  }

  private static Deployment fail(TestNode node, String id) {
    return node.node
        .deployment(id)
        .<Deployment>askWithStatus(
            r -> new DeploymentEntity.FailUpload("UPLOAD_ABORTED", "gave up", "upload", r), ASK)
        .toCompletableFuture()
        .join();
  }

  private static void setPaused(TestNode node, boolean paused) throws Exception {
    ProjectionManagement management = ProjectionManagement.get(node.testKit.system());
    for (int i = 0; i < DeploymentEntity.TAG_COUNT; i++) {
      ProjectionId id = ProjectionId.of(DeploymentProjection.NAME, DeploymentEntity.tag(i));
      (paused ? management.pause(id) : management.resume(id))
          .toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
    }
  }

  private static void awaitListed(TestNode node, Map<String, Deployment> expected) {
    node.testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(30),
            Duration.ofMillis(200),
            () -> {
              JsonNode page = node.get("/deployments?limit=1000");
              assertEquals(expected.size(), page.get("total").asLong(), "rows");
              for (JsonNode row : page.get("deployments")) {
                Deployment d = expected.get(row.get("deployment_id").asText());
                assertEquals(
                    d.status().apiName(),
                    row.get("status").asText(),
                    "status of " + d.deploymentId());
                assertEquals(
                    d.eventCount(),
                    row.get("event_count").asLong(),
                    "event count of " + d.deploymentId());
              }
              return null;
            });
  }

  @Test
  void catchesUpAfterDowntimeAndAppliesEveryEventOnce(@TempDir Path dir) throws Exception {
    Map<String, Deployment> expected = new HashMap<>();
    List<String> early = new ArrayList<>();
    try (TestNode node = TestNode.start(dir, "node-1", Map.of())) {
      for (int i = 0; i < 5; i++) {
        Deployment d = create(node, "early");
        expected.put(d.deploymentId(), d);
        early.add(d.deploymentId());
      }
      awaitListed(node, expected);
      setPaused(node, true);
      for (int i = 0; i < 5; i++) {
        Deployment d = create(node, "while-paused");
        expected.put(d.deploymentId(), d);
      }
      for (String id : early.subList(0, 2)) {
        expected.put(id, fail(node, id));
      }
    }
    try (TestNode node = TestNode.start(dir, "node-1", Map.of())) {
      JsonNode before = node.get("/deployments?limit=1000");
      assertEquals(
          5, before.get("total").asLong(), "still paused after the restart: nothing new projected");
      setPaused(node, false);
      awaitListed(node, expected);
    }
  }
}
