package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.blob.BlobStore;
import dev.deployrt.deployment.Deployment;
import dev.deployrt.deployment.DeploymentEntity;
import dev.deployrt.testkit.Tarball;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** {@code GET} and {@code DELETE /deployments/{id}/payload} on one node. */
@Tag("database")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PayloadApiTest {
  private TestNode node;

  @BeforeAll
  void start(@TempDir Path dir) {
    node =
        TestNode.start(
            dir.resolve("node"), "node-1", Map.of("deploy.http.payload-delete-wait", "3s"));
  }

  @AfterAll
  void stop() {
    node.close();
  }

  private JsonNode deploy(String project, byte[] payload) {
    HttpResponse<String> r = node.deployRaw("project=" + project, payload);
    assertEquals(201, r.statusCode(), r.body());
    return TestNode.json(r);
  }

  private HttpResponse<byte[]> download(String id, String ifNoneMatch) {
    HttpRequest.Builder b = node.request("/deployments/" + id + "/payload").GET();
    if (ifNoneMatch != null) {
      b.header("If-None-Match", ifNoneMatch);
    }
    try {
      return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private HttpResponse<String> delete(String id) {
    return node.send(node.request("/deployments/" + id + "/payload").DELETE().build());
  }

  @Test
  void servesTheStoredBytesWithTheirDigestAsETag() {
    byte[] payload = Tarball.builder().randomFile("app.bin", 300_000, 11).toBytes();
    JsonNode d = deploy("download", payload);
    String id = d.get("deployment_id").asText();
    HttpResponse<byte[]> r = download(id, null);
    assertEquals(200, r.statusCode());
    assertArrayEquals(payload, r.body());
    String etag = "\"sha256:" + d.get("sha256").asText() + "\"";
    assertEquals(etag, r.headers().firstValue("ETag").orElseThrow());
    assertEquals("application/gzip", r.headers().firstValue("Content-Type").orElseThrow());
    assertEquals(
        Integer.toString(payload.length),
        r.headers().firstValue("Content-Length").orElse("none"),
        "a download says its length");
    assertEquals(304, download(id, etag).statusCode(), "If-None-Match with the same digest");
  }

  @Test
  void deletingReclaimsTheBytesOnceAndKeepsTheRecord() {
    byte[] first = Tarball.builder().file("v", "1").randomFile("a.bin", 100_000, 1).toBytes();
    byte[] second = Tarball.builder().file("v", "2").toBytes();
    JsonNode older = deploy("pruned", first);
    String id = older.get("deployment_id").asText();
    String sha = older.get("sha256").asText();
    JsonNode newer = deploy("pruned", second);

    HttpResponse<String> active = delete(newer.get("deployment_id").asText());
    assertEquals(409, active.statusCode(), active.body());
    assertEquals("CONFLICT", TestNode.json(active).get("code").asText());

    HttpResponse<String> r = delete(id);
    assertEquals(200, r.statusCode(), r.body());
    assertEquals(first.length, TestNode.json(r).get("freed_bytes").asLong());
    assertFalse(node.node.blobs().contains(sha), "the blob is gone");
    JsonNode after = node.get("/deployments/" + id);
    assertFalse(after.get("payload_present").asBoolean());
    assertEquals("succeeded", after.get("status").asText(), "the record stays");
    assertTrue(after.get("events").toString().contains("payload deleted by admin"));

    HttpResponse<String> again = delete(id);
    assertEquals(200, again.statusCode(), "idempotent");
    assertEquals(0, TestNode.json(again).get("freed_bytes").asLong());

    HttpResponse<byte[]> gone = download(id, null);
    assertEquals(404, gone.statusCode());
    assertTrue(new String(gone.body()).contains("PAYLOAD_PRUNED"));

    HttpResponse<String> rollback = node.rollback("", "pruned", id);
    assertEquals(404, rollback.statusCode(), rollback.body());
    assertEquals("PAYLOAD_PRUNED", TestNode.json(rollback).get("code").asText());

    node.testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(10),
            () -> {
              JsonNode listed = node.get("/deployments?project=pruned&status=succeeded");
              assertEquals(2, listed.get("total").asLong());
              assertFalse(
                  listed.get("deployments").get(1).get("payload_present").asBoolean(),
                  "the list shows it too");
              return null;
            });
  }

  @Test
  void bytesSharedWithTheActiveReleaseStay() {
    byte[] payload = Tarball.builder().file("same", "bytes").toBytes();
    String first = deploy("shared", payload).get("deployment_id").asText();
    JsonNode second = deploy("shared", payload);
    HttpResponse<String> r = delete(first);
    assertEquals(200, r.statusCode(), r.body());
    assertEquals(0, TestNode.json(r).get("freed_bytes").asLong());
    assertTrue(
        node.node.blobs().contains(second.get("sha256").asText()),
        "the active release's bytes stay");
    assertFalse(node.get("/deployments/" + first).get("payload_present").asBoolean());
    assertEquals(200, download(second.get("deployment_id").asText(), null).statusCode());
  }

  /**
   * Neither deployment of the shared bytes is a release any more; the one that keeps its payload
   * needs them.
   */
  @Test
  void bytesAnOlderDeploymentStillKeepsStay() {
    byte[] payload = Tarball.builder().file("kept", "by the other").toBytes();
    String first = deploy("history", payload).get("deployment_id").asText();
    String second = deploy("history", payload).get("deployment_id").asText();
    deploy("history", Tarball.builder().file("v", "3").toBytes());
    node.testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(10),
            () -> {
              assertEquals(
                  3,
                  node.get("/deployments?project=history").get("total").asLong(),
                  "the read model shows all three");
              return null;
            });
    HttpResponse<String> r = delete(first);
    assertEquals(200, r.statusCode(), r.body());
    assertEquals(0, TestNode.json(r).get("freed_bytes").asLong());
    assertEquals(
        200, download(second, null).statusCode(), "the second deployment's payload is still there");
  }

  /**
   * The read model (which lists what every deployment keeps) lags the journal; with its projections
   * paused it does not know of the other project's deployment, superseded but keeping the same
   * bytes for a rollback (so no release either). A delete then waits for the read model and, as it
   * does not catch up in time, changes nothing (503); once it has, the bytes stay.
   */
  @Test
  void aDeleteWaitsForTheReadModelToShowEveryDeploymentOfTheSameBytes() {
    byte[] payload = Tarball.builder().file("shared", "across projects").toBytes();
    String older = deploy("first-project", payload).get("deployment_id").asText();
    deploy("first-project", Tarball.builder().file("v", "2").toBytes());
    JsonNode hidden;
    try {
      node.setReadModelPaused(true);
      hidden = deploy("second-project", payload);
      deploy("second-project", Tarball.builder().file("v", "3").toBytes());
      HttpResponse<String> behind = delete(older);
      assertEquals(503, behind.statusCode(), behind.body());
      assertEquals("UNAVAILABLE", TestNode.json(behind).get("code").asText());
      assertTrue(
          node.get("/deployments/" + older).get("payload_present").asBoolean(),
          "the record is unchanged");
    } finally {
      node.setReadModelPaused(false);
    }
    HttpResponse<String> r = delete(older);
    assertEquals(200, r.statusCode(), r.body());
    assertEquals(0, TestNode.json(r).get("freed_bytes").asLong());
    assertTrue(
        node.node.blobs().contains(hidden.get("sha256").asText()),
        "the other project's bytes stay");
    assertEquals(200, download(hidden.get("deployment_id").asText(), null).statusCode());
  }

  /**
   * The node-to-node half of a payload delete: a copy committed again after the delete took this
   * node's claim mark (a new upload of the same bytes that the delete's checks could not see)
   * stays.
   */
  @Test
  void aCopyCommittedAgainAfterTheDeletesClaimMarkStays() throws Exception {
    byte[] payload =
        Tarball.builder().file("claimed", "again").randomFile("a.bin", 20_000, 7).toBytes();
    String sha = deploy("claim-first", payload).get("sha256").asText();
    deploy("claim-first", Tarball.builder().file("v", "2").toBytes());
    String secret =
        "Cluster " + node.node.clusterSecret().toCompletableFuture().get(30, TimeUnit.SECONDS);
    String beforeChecks = claimMark(sha, secret);

    deploy("claim-second", payload);
    HttpResponse<String> kept =
        node.send(
            node.request("/internal/blobs/" + sha + "?unclaimed_since=" + beforeChecks)
                .setHeader("Authorization", secret)
                .DELETE()
                .build());
    assertEquals(200, kept.statusCode(), kept.body());
    assertEquals(0, TestNode.json(kept).get("freed_bytes").asLong());
    assertTrue(TestNode.json(kept).get("kept").asBoolean());
    assertTrue(node.node.blobs().contains(sha), "the second upload's bytes stay");

    for (String wrong :
        new String[] {"/internal/blobs/" + sha + "/other", "/internal/blobs/nodigest/claim-mark"}) {
      HttpResponse<String> r =
          node.send(node.request(wrong).setHeader("Authorization", secret).GET().build());
      assertEquals(404, r.statusCode(), wrong + ": " + r.body());
    }
    HttpResponse<String> bad =
        node.send(
            node.request("/internal/blobs/" + sha + "?unclaimed_since=yesterday")
                .setHeader("Authorization", secret)
                .DELETE()
                .build());
    assertEquals(400, bad.statusCode(), bad.body());
    assertEquals("INVALID_REQUEST", TestNode.json(bad).get("code").asText());

    HttpResponse<String> freed =
        node.send(
            node.request("/internal/blobs/" + sha + "?unclaimed_since=" + claimMark(sha, secret))
                .setHeader("Authorization", secret)
                .DELETE()
                .build());
    assertEquals(200, freed.statusCode(), freed.body());
    assertEquals(
        payload.length,
        TestNode.json(freed).get("freed_bytes").asLong(),
        "decided after that upload");
    assertFalse(TestNode.json(freed).get("kept").asBoolean());
    assertFalse(node.node.blobs().contains(sha));
  }

  @Test
  void aCopyHeldByAnUploadStaysAndARepeatedDeleteFreesItOnceReleased() {
    byte[] payload =
        Tarball.builder().file("held", "by an upload").randomFile("b.bin", 30_000, 9).toBytes();
    JsonNode older = deploy("held-bytes", payload);
    String id = older.get("deployment_id").asText();
    String sha = older.get("sha256").asText();
    deploy("held-bytes", Tarball.builder().file("v", "2").toBytes());

    HttpResponse<String> whileHeld;
    try (BlobStore.Hold upload =
        node.node.blobs().hold(sha)) { // an upload whose record does not name them yet
      whileHeld = delete(id);
    }
    assertEquals(200, whileHeld.statusCode(), whileHeld.body());
    assertEquals(0, TestNode.json(whileHeld).get("freed_bytes").asLong());
    assertTrue(node.node.blobs().contains(sha));
    assertFalse(
        node.get("/deployments/" + id).get("payload_present").asBoolean(), "the record is marked");

    HttpResponse<String> again = delete(id);
    assertEquals(200, again.statusCode(), again.body());
    assertEquals(
        payload.length,
        TestNode.json(again).get("freed_bytes").asLong(),
        "the copy left last time");
    assertFalse(node.node.blobs().contains(sha));
  }

  private String claimMark(String sha, String secret) {
    HttpResponse<String> r =
        node.send(
            node.request("/internal/blobs/" + sha + "/claim-mark")
                .setHeader("Authorization", secret)
                .GET()
                .build());
    assertEquals(200, r.statusCode(), r.body());
    return TestNode.json(r).get("mark").asText();
  }

  @Test
  void aRunningDeploymentOrOneWithoutPayloadCannotBeDownloadedAndOnlyFinishedOnesDeleted() {
    String id = UUID.randomUUID().toString();
    node.node
        .deployment(id)
        .<Deployment>askWithStatus(
            r -> new DeploymentEntity.Create("running", null, "admin", "node-1", null, r),
            Duration.ofSeconds(10))
        .toCompletableFuture()
        .join();
    HttpResponse<String> running = delete(id);
    assertEquals(409, running.statusCode(), running.body());
    assertEquals("CONFLICT", TestNode.json(running).get("code").asText());
    assertEquals(404, download(id, null).statusCode(), "nothing stored yet");

    HttpResponse<String> failed = node.deployRaw("project=failed", "not gzip".getBytes());
    String failedId = TestNode.json(failed).get("deployment_id").asText();
    HttpResponse<String> r = delete(failedId);
    assertEquals(200, r.statusCode(), r.body());
    assertEquals(0, TestNode.json(r).get("freed_bytes").asLong());
    HttpResponse<byte[]> none = download(failedId, null);
    assertEquals(404, none.statusCode());
    assertTrue(new String(none.body()).contains("NOT_FOUND"));

    assertEquals(404, delete(UUID.randomUUID().toString()).statusCode());
  }
}
