package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.deployment.Deployment;
import dev.deployrt.deployment.DeploymentEntity;
import dev.deployrt.deployment.EventLog;
import dev.deployrt.deployment.LiveTail;
import dev.deployrt.deployment.LogEntry;
import dev.deployrt.testkit.Tarball;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.SinkQueueWithCancel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Event streams (SSE) of one node: replay, resume, live tail of a deploy, truncation, slow readers.
 */
@Tag("database")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EventStreamTest {
  private TestNode node;

  @BeforeAll
  void start(@TempDir Path dir) {
    node = TestNode.start(dir.resolve("node"), "node-1", Map.of());
  }

  @AfterAll
  void stop() {
    node.close();
  }

  private HttpRequest.Builder stream(String path) {
    return node.request(path).header("Accept", "text/event-stream").GET();
  }

  private static void assertGapless(List<SseClient.Frame> events, long firstSeq) {
    long expected = firstSeq;
    for (SseClient.Frame f : events) {
      assertEquals(expected, f.seq(), "seq of " + f.data());
      assertEquals(f.event(), f.json().get("type").asText());
      expected = f.seq() + 1;
    }
  }

  private static List<SseClient.Frame> withoutDone(SseClient.Result r) {
    assertEquals(
        "done", r.frames().get(r.frames().size() - 1).event(), "the stream ends with done");
    return r.frames().subList(0, r.frames().size() - 1);
  }

  private JsonNode deploySucceeded(String project) {
    HttpResponse<String> r =
        node.deployRaw(
            "project=" + project,
            Tarball.builder().file("index.html", "<h1>" + project + "</h1>").toBytes());
    assertEquals(201, r.statusCode(), r.body());
    return TestNode.json(r);
  }

  @Test
  void replaysAFinishedDeploymentAndEndsWithDone() {
    JsonNode deployed = deploySucceeded("replay");
    String id = deployed.get("deployment_id").asText();
    // Read without ever hanging up: the server must close the stream itself once it sent done.
    SseClient.Result r =
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
            Duration.ofSeconds(30),
            () ->
                SseClient.read(
                    node.request("/deployments/" + id + "/events").GET().build(), frame -> false));
    assertEquals(200, r.status());
    assertTrue(r.contentType().startsWith("text/event-stream"), r.contentType());
    assertTrue(r.ended(), "the server closed the stream");
    assertEquals(
        "done",
        r.frames().get(r.frames().size() - 1).event(),
        "after sending done, as its last frame");
    List<SseClient.Frame> events = withoutDone(r);
    assertGapless(events, 1);
    assertEquals(deployed.get("event_count").asLong(), events.size());
    for (int i = 0; i < events.size(); i++) {
      assertEquals(
          deployed.get("events").get(i),
          events.get(i).json(),
          "the stream carries the same events");
    }
    JsonNode done = r.frames().get(r.frames().size() - 1).json();
    assertEquals("succeeded", done.get("status").asText());
    assertEquals(id, done.get("deployment_id").asText());
    assertEquals(
        node.get("/deployments/" + id),
        done,
        "done carries the deployment, events included, as GET /deployments/{id} has it");

    SseClient.Result negotiated = SseClient.readToDone(stream("/deployments/" + id).build());
    assertEquals(
        r.frames(), negotiated.frames(), "GET /deployments/{id} with Accept: text/event-stream");
  }

  @Test
  void resumesAfterTheLastEventId() {
    String id = deploySucceeded("resume").get("deployment_id").asText();
    SseClient.Result r =
        SseClient.readToDone(
            stream("/deployments/" + id + "/events").header("Last-Event-ID", "7").build());
    List<SseClient.Frame> events = withoutDone(r);
    assertEquals(8, events.get(0).seq());
    assertGapless(events, 8);
  }

  @Test
  void refusesAnUnknownDeploymentOrABadLastEventId() {
    var unknown = node.send(stream("/deployments/" + UUID.randomUUID() + "/events").build());
    assertEquals(404, unknown.statusCode());
    assertEquals("NOT_FOUND", TestNode.json(unknown).get("code").asText());
    String id = deploySucceeded("bad-resume").get("deployment_id").asText();
    var bad =
        node.send(
            stream("/deployments/" + id + "/events").header("Last-Event-ID", "seven").build());
    assertEquals(400, bad.statusCode());
    assertEquals("INVALID_REQUEST", TestNode.json(bad).get("code").asText());
  }

  @Test
  void aDeployAskedForAnEventStreamStreamsItsUploadAndLifecycle() {
    byte[] payload = Tarball.builder().randomFile("data.bin", 2_000_000, 5).toBytes();
    SseClient.Result r =
        SseClient.readToDone(
            node.request("/deployments?project=streamed")
                .header("Accept", "text/event-stream")
                .header("Content-Type", "application/gzip")
                .POST(HttpRequest.BodyPublishers.ofByteArray(payload))
                .build());
    assertEquals(200, r.status());
    List<SseClient.Frame> events = withoutDone(r);
    assertGapless(events, 1);
    assertEquals("upload started", events.get(0).json().get("message").asText());
    assertTrue(
        events.stream()
            .anyMatch(
                f ->
                    f.event().equals("progress")
                        && f.json().get("data").get("bytes").asLong() == payload.length),
        "a progress event with every byte");
    assertTrue(
        events.stream().anyMatch(f -> f.json().get("message").asText().equals("node-1 is active")));
    JsonNode done = r.frames().get(r.frames().size() - 1).json();
    assertEquals("succeeded", done.get("status").asText());
    assertEquals(done.get("event_count").asLong(), events.size());
  }

  @Test
  void aFailedDeployAskedForAnEventStreamEndsWithItsError() {
    SseClient.Result r =
        SseClient.readToDone(
            node.request("/deployments?project=broken")
                .header("Accept", "text/event-stream")
                .header("Content-Type", "application/gzip")
                .POST(HttpRequest.BodyPublishers.ofByteArray("not a tarball".getBytes()))
                .build());
    assertEquals(200, r.status());
    JsonNode done = r.frames().get(r.frames().size() - 1).json();
    assertEquals("failed", done.get("status").asText());
    assertEquals("INVALID_ARCHIVE", done.get("error").get("code").asText());
    assertTrue(withoutDone(r).stream().anyMatch(f -> f.event().equals("error")));
  }

  /** A deployment with many events, driven through its entity: created, N log events, failed. */
  private String deploymentWithEvents(int logs) {
    String id = UUID.randomUUID().toString();
    var entity = node.node.deployment(id);
    entity
        .<Deployment>askWithStatus(
            r -> new DeploymentEntity.Create("busy", null, "admin", "node-1", null, r),
            Duration.ofSeconds(10))
        .toCompletableFuture()
        .join();
    for (int i = 0; i < logs; i++) {
      entity.tell(
          new DeploymentEntity.AppendLog(LogEntry.LOG, "upload", "node-1", "line " + i, Map.of()));
    }
    entity
        .<Deployment>askWithStatus(
            r -> new DeploymentEntity.FailUpload("UPLOAD_ABORTED", "gave up", "upload", r),
            Duration.ofSeconds(10))
        .toCompletableFuture()
        .join();
    return id;
  }

  @Test
  void aLongDeploymentStreamsTheRetainedEventsWithTheTruncatedMarker() {
    String id = deploymentWithEvents(300);
    SseClient.Result r = SseClient.readToDone(stream("/deployments/" + id + "/events").build());
    List<SseClient.Frame> events = withoutDone(r);
    assertEquals(EventLog.RETAINED, events.size());
    assertGapless(events.subList(0, EventLog.HEAD_SIZE), 1);
    SseClient.Frame marker = events.get(EventLog.HEAD_SIZE);
    assertEquals("truncated", marker.event());
    long total = r.frames().get(r.frames().size() - 1).json().get("event_count").asLong();
    assertEquals(
        total - EventLog.RETAINED + 1, marker.json().get("data").get("dropped_events").asLong());
    assertGapless(events.subList(EventLog.HEAD_SIZE + 1, events.size()), marker.seq() + 1);
    assertEquals(total, events.get(events.size() - 1).seq());
  }

  @Test
  void aReaderThatDoesNotReadNeitherSlowsTheDeploymentNorBuffersWithoutBound() {
    String id = UUID.randomUUID().toString();
    var entity = node.node.deployment(id);
    entity
        .<Deployment>askWithStatus(
            r -> new DeploymentEntity.Create("slow", null, "admin", "node-1", null, r),
            Duration.ofSeconds(10))
        .toCompletableFuture()
        .join();
    int buffer = 16;
    // A reader that takes one item ahead and then nothing until pulled.
    SinkQueueWithCancel<LiveTail.Item> reader =
        LiveTail.source(node.testKit.system(), node.node::deployment, id, 0, buffer, false)
            .runWith(Sink.queue(1), node.testKit.system());
    for (int i = 0; i < 300; i++) {
      entity.tell(
          new DeploymentEntity.AppendLog(LogEntry.LOG, "upload", "node-1", "line " + i, Map.of()));
    }
    Deployment failed =
        entity
            .<Deployment>askWithStatus(
                r -> new DeploymentEntity.FailUpload("UPLOAD_ABORTED", "gave up", "upload", r),
                Duration.ofSeconds(10))
            .toCompletableFuture()
            .join();
    assertEquals(302, failed.eventCount(), "every event recorded while the reader read nothing");

    List<LiveTail.Item> items = new ArrayList<>();
    LiveTail.Item last = null;
    while (!(last instanceof LiveTail.End)) {
      last =
          reader.pull().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join().orElseThrow();
      items.add(last);
    }
    assertTrue(
        reader.pull().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join().isEmpty(),
        "the stream completes after the end");
    // What was buffered (16), then caught up from the retained log: head rest, marker, tail, end.
    assertTrue(items.size() <= buffer + EventLog.RETAINED + 1, "items delivered: " + items.size());
    long previous = 0;
    for (LiveTail.Item item : items) {
      if (item instanceof LiveTail.Entry e) {
        assertTrue(e.entry().seq() > previous, "increasing seq");
        if (!e.entry().type().equals(LogEntry.TRUNCATED)
            && previous > 0
            && e.entry().seq() != previous + 1) {
          throw new AssertionError(
              "gap before " + e.entry().seq() + " not covered by a truncated marker");
        }
        previous = e.entry().seq();
      }
    }
    assertEquals(302, previous, "the last event is delivered");
  }
}
