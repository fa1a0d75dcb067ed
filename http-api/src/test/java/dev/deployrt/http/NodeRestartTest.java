package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.deployment.DeploymentEntity;
import dev.deployrt.testkit.Tarball;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a node keeps across a restart on the embedded default (H2 file under the data dir). */
@Tag("database")
class NodeRestartTest {
  private static final Map<String, Object> SHORT_LEASE = Map.of("deploy.upload.lease", "2s");

  @Test
  void deploymentsAndReleasesSurviveARestartAndAnInterruptedUploadEndsFailed(@TempDir Path data) throws Exception {
    JsonNode before;
    String interrupted = UUID.randomUUID().toString();
    try (TestNode node = TestNode.start(data, "node-1", SHORT_LEASE)) {
      before = TestNode.json(node.deployRaw("project=keep", Tarball.builder().file("a.txt", "kept").toBytes()));
      assertEquals("succeeded", before.get("status").asText());
      // A deployment whose upload is under way when the node goes down: created, never finished.
      node.node.deployment(interrupted).<Object>askWithStatus(replyTo -> new DeploymentEntity.Create("keep", null,
          "admin", "node-1", null, replyTo.unsafeUpcast()), Duration.ofSeconds(10))
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    try (TestNode node = TestNode.start(data, "node-1", SHORT_LEASE)) {
      String id = before.get("deployment_id").asText();
      assertEquals(before, node.get("/deployments/" + id));
      assertEquals("kept", Files.readString(data.resolve("projects/keep/current/a.txt")));
      node.testKit.createTestProbe().awaitAssert(Duration.ofSeconds(20), () -> {
        JsonNode d = node.get("/deployments/" + interrupted);
        assertEquals("failed", d.get("status").asText());
        assertEquals("UPLOAD_ABORTED", d.get("error").get("code").asText());
        return null;
      });
    }
  }
}
