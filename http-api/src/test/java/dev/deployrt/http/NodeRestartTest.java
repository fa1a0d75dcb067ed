package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.deployment.DeploymentEntity;
import dev.deployrt.testkit.FileTrees;
import dev.deployrt.testkit.Tarball;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.Done;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a node keeps across a restart on the embedded default (H2 file under the data dir). */
@Tag("database")
class NodeRestartTest {
  private static final Map<String, Object> SHORT_LEASE = Map.of("deploy.upload.lease", "2s");

  @Test
  void deploymentsAndReleasesSurviveARestartAndAnInterruptedUploadEndsFailed(@TempDir Path data)
      throws Exception {
    JsonNode before;
    String interrupted = UUID.randomUUID().toString();
    try (TestNode node = TestNode.start(data, "node-1", SHORT_LEASE)) {
      before =
          TestNode.json(
              node.deployRaw("project=keep", Tarball.builder().file("a.txt", "kept").toBytes()));
      assertEquals("succeeded", before.get("status").asText());
      // A deployment whose upload is under way when the node goes down: created, never finished.
      create(node, interrupted);
    }
    try (TestNode node = TestNode.start(data, "node-1", SHORT_LEASE)) {
      String id = before.get("deployment_id").asText();
      assertEquals(before, node.get("/deployments/" + id));
      assertEquals("kept", Files.readString(data.resolve("projects/keep/current/a.txt")));
      node.testKit
          .createTestProbe()
          .awaitAssert(
              Duration.ofSeconds(20),
              () -> {
                JsonNode d = node.get("/deployments/" + interrupted);
                assertEquals("failed", d.get("status").asText());
                assertEquals("UPLOAD_ABORTED", d.get("error").get("code").asText());
                return null;
              });
    }
  }

  /**
   * An upload whose bytes were committed but not yet named by its record when the node stopped (the
   * blob store still holds its pending-name note): the next start ends the record failed at once
   * and deletes the bytes no deployment names. Bytes no deployment names and no upload noted (they
   * may have been recorded in another database) stay.
   */
  @Test
  void aRestartEndsAnUploadCutBetweenItsCommitAndItsRecordAndDeletesItsBytes(@TempDir Path data)
      throws Exception {
    byte[] cut = Tarball.builder().file("cut.txt", "committed, never named").toBytes();
    byte[] foreign = Tarball.builder().file("f.txt", "never noted").toBytes();
    String cutSha = FileTrees.sha256(cut);
    String foreignSha = FileTrees.sha256(foreign);
    String interrupted = UUID.randomUUID().toString();
    String kept;
    try (TestNode node = TestNode.start(data, "node-1", Map.of())) {
      JsonNode deployed =
          TestNode.json(node.deployRaw("project=keep", Tarball.builder().file("a", "1").toBytes()));
      assertEquals("succeeded", deployed.get("status").asText());
      kept = deployed.get("sha256").asText();
      node.testKit
          .createTestProbe()
          .awaitAssert(
              Duration.ofSeconds(10),
              () -> {
                assertEquals(
                    List.of(),
                    node.node.blobs().pendingNames(),
                    "a stored upload forgets its note");
                return null;
              });
      // What the deploy handler leaves when the process dies after the commit, before the record
      // names it.
      create(node, interrupted);
      node.node.blobs().notePendingName(cutSha, interrupted);
      node.node.blobs().commit(Files.write(node.node.blobs().newStagingFile(), cut), cutSha);
      node.node
          .blobs()
          .commit(Files.write(node.node.blobs().newStagingFile(), foreign), foreignSha);
    }
    try (TestNode node = TestNode.start(data, "node-1", Map.of())) {
      node.node.startupSweepDone().toCompletableFuture().get(60, TimeUnit.SECONDS);
      JsonNode d = node.get("/deployments/" + interrupted);
      assertEquals("failed", d.get("status").asText(), d.toString());
      assertEquals("UPLOAD_ABORTED", d.get("error").get("code").asText());
      assertTrue(
          d.get("error")
              .get("message")
              .asText()
              .contains("restarted before the payload was recorded"),
          "ended at start, not by the upload lease: " + d);
      assertFalse(node.node.blobs().contains(cutSha), "no deployment names the cut upload's bytes");
      assertTrue(node.node.blobs().contains(kept));
      assertTrue(node.node.blobs().contains(foreignSha), "bytes no upload noted stay");
      assertEquals(List.of(), node.node.blobs().pendingNames());
    }
  }

  /**
   * A note left by a node that stopped after the record named the bytes, and one of a cut upload of
   * bytes another deployment keeps: the named record and the bytes stay as they are.
   */
  @Test
  void aRestartKeepsNotedBytesThatADeploymentNames(@TempDir Path data) throws Exception {
    JsonNode deployed;
    String sha;
    String cutSameBytes = UUID.randomUUID().toString();
    try (TestNode node = TestNode.start(data, "node-1", Map.of())) {
      deployed =
          TestNode.json(
              node.deployRaw("project=named", Tarball.builder().file("n", "named").toBytes()));
      assertEquals("succeeded", deployed.get("status").asText());
      sha = deployed.get("sha256").asText();
      // Superseded, so only the deployment keeps the bytes (for a rollback), not the project's
      // release.
      assertEquals(
          "succeeded",
          TestNode.json(
                  node.deployRaw("project=named", Tarball.builder().file("n", "next").toBytes()))
              .get("status")
              .asText());
      node.node.blobs().notePendingName(sha, deployed.get("deployment_id").asText());
      create(node, cutSameBytes);
      node.node.blobs().notePendingName(sha, cutSameBytes);
    }
    try (TestNode node = TestNode.start(data, "node-1", Map.of())) {
      node.node.startupSweepDone().toCompletableFuture().get(60, TimeUnit.SECONDS);
      assertEquals(deployed, node.get("/deployments/" + deployed.get("deployment_id").asText()));
      assertEquals("failed", node.get("/deployments/" + cutSameBytes).get("status").asText());
      assertTrue(node.node.blobs().contains(sha), "the superseded deployment keeps its bytes");
      assertEquals(List.of(), node.node.blobs().pendingNames());
    }
  }

  /** A pending deployment, as the deploy handler creates it before the first byte. */
  static void create(TestNode node, String id) throws Exception {
    node.node
        .deployment(id)
        .<Object>askWithStatus(
            replyTo ->
                new DeploymentEntity.Create(
                    "keep", null, "admin", "node-1", null, replyTo.unsafeUpcast()),
            Duration.ofSeconds(10))
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  /**
   * The start-up sweep deletes blobs whose every deployment gave its payload up while the node was
   * down, as the read model says. Here a deployment of the same bytes (superseded, keeping them for
   * a rollback, so no release) was stored while the projections were paused, and stays unknown to
   * the read model across the restart: the sweep must wait until the read model has caught up.
   */
  @Test
  void theStartUpSweepWaitsForTheReadModelBeforeDeletingBytes(@TempDir Path data) throws Exception {
    byte[] shared = Tarball.builder().file("s.txt", "shared").toBytes();
    String sha;
    String hidden;
    try (TestNode node = TestNode.start(data, "node-1", Map.of())) {
      String old =
          TestNode.json(node.deployRaw("project=first", shared)).get("deployment_id").asText();
      assertEquals(
          "succeeded",
          TestNode.json(node.deployRaw("project=first", Tarball.builder().file("v", "2").toBytes()))
              .get("status")
              .asText());
      HttpResponse<String> deleted =
          node.send(node.request("/deployments/" + old + "/payload").DELETE().build());
      assertEquals(200, deleted.statusCode(), deleted.body());
      assertTrue(
          TestNode.json(deleted).get("freed_bytes").asLong() > 0,
          "no other deployment keeps them yet");
      node.testKit
          .createTestProbe()
          .awaitAssert(
              Duration.ofSeconds(20),
              () -> {
                boolean shownPruned = false;
                for (JsonNode d : node.get("/deployments?project=first").get("deployments")) {
                  shownPruned |=
                      d.get("deployment_id").asText().equals(old)
                          && !d.get("payload_present").asBoolean();
                }
                assertTrue(
                    shownPruned, "the read model shows the old deployment's payload deleted");
                return null;
              });

      node.setReadModelPaused(true);
      JsonNode again = TestNode.json(node.deployRaw("project=second", shared));
      sha = again.get("sha256").asText();
      hidden = again.get("deployment_id").asText();
      assertEquals(
          "succeeded",
          TestNode.json(
                  node.deployRaw("project=second", Tarball.builder().file("v", "3").toBytes()))
              .get("status")
              .asText());
      assertTrue(node.node.blobs().contains(sha), "stored again, for the second project");
      // (Not through the list: the node that answered the deploys merges them into its lists.)
      assertEquals(
          new dev.deployrt.readmodel.DeploymentQueries.BlobUse(1, 0),
          node.node.history().queries().blobUse(sha),
          "the read model shows only the old deployment, which gave the bytes up: not the new one");
    }
    try (TestNode node = TestNode.start(data, "node-1", Map.of())) {
      // The projections stay paused across the restart (their state is stored), so the sweep waits.
      CompletableFuture<Done> sweep = node.node.startupSweepDone().toCompletableFuture();
      assertThrows(
          TimeoutException.class,
          () -> sweep.get(3, TimeUnit.SECONDS),
          "no sweep while the read model lags");
      assertTrue(node.node.blobs().contains(sha));
      node.setReadModelPaused(false);
      sweep.get(30, TimeUnit.SECONDS);
      assertTrue(
          node.node.blobs().contains(sha),
          "the sweep kept the bytes the second project's deployment keeps");
      HttpResponse<byte[]> payload =
          node.client.send(
              node.request("/deployments/" + hidden + "/payload").GET().build(),
              HttpResponse.BodyHandlers.ofByteArray());
      assertEquals(200, payload.statusCode());
    }
  }

  /**
   * The sweep marks the blob store before it waits: bytes its checks call unneeded but that
   * something claimed meanwhile (a release about to be extracted from them, a new upload) stay.
   */
  @Test
  void theStartUpSweepKeepsBytesClaimedWhileItWaited(@TempDir Path data) throws Exception {
    byte[] bytes = Tarball.builder().file("c.txt", "claimed during the sweep").toBytes();
    String sha;
    try (TestNode node = TestNode.start(data, "node-1", Map.of())) {
      JsonNode old = TestNode.json(node.deployRaw("project=claimed", bytes));
      sha = old.get("sha256").asText();
      node.deployRaw("project=claimed", Tarball.builder().file("v", "2").toBytes());
      String id = old.get("deployment_id").asText();
      assertEquals(
          200,
          node.send(node.request("/deployments/" + id + "/payload").DELETE().build()).statusCode());
      node.testKit
          .createTestProbe()
          .awaitAssert(
              Duration.ofSeconds(20),
              () -> {
                assertEquals(
                    false,
                    node.get("/deployments?project=claimed")
                        .get("deployments")
                        .get(1)
                        .get("payload_present")
                        .asBoolean(),
                    "the read model shows the payload deleted");
                return null;
              });
      // The copy a node that was down would still hold, and a journal ahead of the read model.
      node.node.blobs().commit(Files.write(node.node.blobs().newStagingFile(), bytes), sha);
      node.setReadModelPaused(true);
      node.deployRaw("project=elsewhere", Tarball.builder().file("e", "1").toBytes());
    }
    try (TestNode node = TestNode.start(data, "node-1", Map.of())) {
      CompletableFuture<Done> sweep = node.node.startupSweepDone().toCompletableFuture();
      assertThrows(
          TimeoutException.class,
          () -> sweep.get(2, TimeUnit.SECONDS),
          "the sweep waits for the read model");
      assertTrue(
          node.node.blobs().claimIfPresent(sha).isPresent(), "claimed while the sweep waits");
      node.setReadModelPaused(false);
      sweep.get(30, TimeUnit.SECONDS);
      assertTrue(node.node.blobs().contains(sha), "kept: claimed after the sweep's mark");
    }
  }
}
