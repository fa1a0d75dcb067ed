package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.deployment.DeploymentEntity;
import dev.deployrt.testkit.Tarball;
import java.net.http.HttpResponse;
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

  /**
   * A node's start-up sweep deletes local blobs whose every deployment had its payload deleted, as
   * the read model says. Here the read model shows the old deployment of the bytes, pruned, but not
   * the other project's deployment that runs the same bytes (the projection instance of its event tag
   * is paused, and stays paused across the restart): the sweep must ask the stored desired releases too.
   */
  @Test
  void aBlobAReleaseUsesSurvivesTheStartUpSweepWhileTheReadModelDoesNotShowIt(@TempDir Path data) throws Exception {
    byte[] shared = Tarball.builder().file("s.txt", "shared").toBytes();
    byte[] other = Tarball.builder().file("v", "2").toBytes();
    String sha;
    try (TestNode node = TestNode.start(data, "node-1", Map.of())) {
      node.setReadModelPaused(true);
      JsonNode running = TestNode.json(node.deployRaw("project=second", shared));
      sha = running.get("sha256").asText();
      String hiddenTag = DeploymentEntity.tagFor(running.get("deployment_id").asText());
      // An old deployment of the same bytes in another tag (one in the hidden tag stays hidden too).
      String old;
      do {
        old = TestNode.json(node.deployRaw("project=first", shared)).get("deployment_id").asText();
        assertEquals("succeeded", TestNode.json(node.deployRaw("project=first", other)).get("status").asText());
      } while (DeploymentEntity.tagFor(old).equals(hiddenTag));
      HttpResponse<String> deleted = node.send(node.request("/deployments/" + old + "/payload").DELETE().build());
      assertEquals(200, deleted.statusCode(), deleted.body());
      assertEquals(0, TestNode.json(deleted).get("freed_bytes").asLong(), "the second project's release uses it");

      node.setReadModelPaused(false, tag -> !tag.equals(hiddenTag));
      String pruned = old;
      node.testKit.createTestProbe().awaitAssert(Duration.ofSeconds(20), () -> {
        JsonNode listed = node.get("/deployments?project=second");
        assertEquals(0, listed.get("total").asLong(), "the second project's deployment stays hidden");
        JsonNode row = node.get("/deployments?project=first&status=succeeded").get("deployments");
        boolean shownPruned = false;
        for (JsonNode d : row) {
          shownPruned |= d.get("deployment_id").asText().equals(pruned) && !d.get("payload_present").asBoolean();
        }
        assertTrue(shownPruned, "the read model shows the old deployment's payload deleted");
        return null;
      });
    }
    try (TestNode node = TestNode.start(data, "node-1", Map.of())) {
      node.node.startupSweepDone().toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertTrue(node.node.blobs().contains(sha), "the sweep kept the blob the second project runs");
      assertEquals("shared", Files.readString(data.resolve("projects/second/current/s.txt")));
      node.setReadModelPaused(false);
    }
  }
}
