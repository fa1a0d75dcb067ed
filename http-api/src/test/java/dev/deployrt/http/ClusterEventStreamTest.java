package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deployrt.deployment.Deployment;
import dev.deployrt.deployment.DeploymentEntity;
import dev.deployrt.deployment.EventLog;
import dev.deployrt.deployment.LogEntry;
import dev.deployrt.testkit.TestDatabase;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Event streams in a 3-node cluster (in this JVM, one shared H2 database): the same stream from
 * every node, whichever hosts the deployment, and an exactly-once resume with {@code
 * Last-Event-ID}.
 */
@Tag("database")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterEventStreamTest {
  private final Map<String, Object> database = TestDatabase.shared("sse");
  private final Map<String, TestNode> nodes = new TreeMap<>();

  @BeforeAll
  void startThreeNodes(@TempDir Path dir) {
    TestNode first = start(dir, "node-1", null);
    start(dir, "node-2", first.clusterHostPort());
    start(dir, "node-3", first.clusterHostPort());
    nodes.values().forEach(n -> n.awaitMembersUp(3));
  }

  private TestNode start(Path dir, String name, String seed) {
    Map<String, Object> settings = new HashMap<>();
    settings.putAll(database);
    if (seed != null) {
      settings.put("deploy.cluster.seed-nodes", seed);
    }
    TestNode node = TestNode.start(dir.resolve(name), name, settings);
    nodes.put(name, node);
    return node;
  }

  @AfterAll
  void stopAll() {
    List<TestNode> all = new ArrayList<>(nodes.values());
    java.util.Collections.reverse(all);
    all.forEach(TestNode::close);
  }

  private TestNode node(String name) {
    return nodes.get(name);
  }

  private String create(String project) {
    String id = UUID.randomUUID().toString();
    node("node-1")
        .node
        .deployment(id)
        .<Deployment>askWithStatus(
            r -> new DeploymentEntity.Create(project, null, "admin", "node-1", null, r),
            Duration.ofSeconds(10))
        .toCompletableFuture()
        .join();
    return id;
  }

  private void log(String id, int from, int count) {
    var entity = node("node-1").node.deployment(id);
    for (int i = from; i < from + count; i++) {
      entity.tell(
          new DeploymentEntity.AppendLog(LogEntry.LOG, "upload", "node-1", "line " + i, Map.of()));
    }
  }

  private Deployment finish(String id) {
    return node("node-1")
        .node
        .deployment(id)
        .<Deployment>askWithStatus(
            r -> new DeploymentEntity.FailUpload("UPLOAD_ABORTED", "gave up", "upload", r),
            Duration.ofSeconds(10))
        .toCompletableFuture()
        .join();
  }

  /** The node whose JVM-local system hosts the deployment's entity. */
  private String host(String id) {
    TestProbe<DeploymentEntity.TailMessage> probe = node("node-1").testKit.createTestProbe();
    node("node-1").node.deployment(id).tell(new DeploymentEntity.Subscribe(probe.ref()));
    DeploymentEntity.Snapshot snapshot = probe.expectMessageClass(DeploymentEntity.Snapshot.class);
    probe.stop();
    Address address = snapshot.entity().path().address();
    for (Map.Entry<String, TestNode> n : nodes.entrySet()) {
      Address self = Cluster.get(n.getValue().testKit.system()).selfMember().address();
      if (!address.hasGlobalScope() && n.getKey().equals("node-1") || address.equals(self)) {
        return n.getKey();
      }
    }
    throw new AssertionError("no node hosts " + address);
  }

  private static java.net.http.HttpRequest.Builder events(TestNode via, String id) {
    return via.request("/deployments/" + id + "/events")
        .header("Accept", "text/event-stream")
        .GET();
  }

  private static List<Long> seqs(List<SseClient.Frame> frames) {
    return frames.stream()
        .filter(f -> f.id() != null)
        .map(SseClient.Frame::seq)
        .collect(Collectors.toList());
  }

  private List<SseClient.Result> readOnEveryNode(String id, Runnable whileReading)
      throws Exception {
    CountDownLatch subscribed = new CountDownLatch(nodes.size());
    List<CompletableFuture<SseClient.Result>> readers = new ArrayList<>();
    for (TestNode n : nodes.values()) {
      AtomicBoolean first = new AtomicBoolean(true);
      readers.add(
          CompletableFuture.supplyAsync(
              () ->
                  SseClient.read(
                      events(n, id).build(),
                      f -> "done".equals(f.event()),
                      f -> {
                        if (first.getAndSet(false)) {
                          subscribed.countDown();
                        }
                      })));
    }
    assertTrue(subscribed.await(30, TimeUnit.SECONDS), "every reader got its first event");
    whileReading.run();
    List<SseClient.Result> results = new ArrayList<>();
    for (CompletableFuture<SseClient.Result> r : readers) {
      SseClient.Result result = r.get(60, TimeUnit.SECONDS);
      assertEquals(200, result.status());
      assertEquals("done", result.frames().get(result.frames().size() - 1).event());
      results.add(result);
    }
    return results;
  }

  @Test
  void threeReadersOnThreeNodesSeeTheSameStreamLiveAndInReplayWithTheTruncatedMarker()
      throws Exception {
    String id = create("busy");
    AtomicReference<Deployment> last = new AtomicReference<>();
    List<SseClient.Result> live =
        readOnEveryNode(
            id,
            () -> {
              log(id, 0, 300);
              last.set(finish(id));
            });
    // Readers that were there from the start saw every event as it happened.
    for (SseClient.Result r : live) {
      assertEquals(live.get(0).frames(), r.frames(), "every node streams the same sequence");
    }
    List<Long> expected = new ArrayList<>();
    for (long s = 1; s <= last.get().eventCount(); s++) {
      expected.add(s);
    }
    assertEquals(expected, seqs(live.get(0).frames()));

    // Readers that come after the log was capped get the retained events and the marker.
    List<SseClient.Result> replay = readOnEveryNode(id, () -> {});
    List<SseClient.Frame> reference = replay.get(0).frames();
    for (SseClient.Result r : replay) {
      assertEquals(reference, r.frames(), "every node replays the same sequence");
    }
    List<SseClient.Frame> events = reference.subList(0, reference.size() - 1);
    assertEquals(EventLog.RETAINED, events.size());
    assertEquals("truncated", events.get(EventLog.HEAD_SIZE).event());
    List<Long> seq = seqs(events);
    for (int i = 1; i < seq.size(); i++) {
      if (i != EventLog.HEAD_SIZE) {
        assertEquals(
            seq.get(i - 1) + 1,
            seq.get(i),
            "gapless except where the marker stands for dropped events");
      }
    }
    assertEquals(
        seq.get(EventLog.HEAD_SIZE) + 1,
        seq.get(EventLog.HEAD_SIZE + 1),
        "the tail follows the marker");
    assertEquals(last.get().eventCount(), seq.get(seq.size() - 1));
  }

  @Test
  void aReaderOnANodeThatDoesNotHostTheDeploymentResumesWithLastEventIdExactlyOnce()
      throws Exception {
    String id = create("resumed");
    String host = host(id);
    TestNode reader =
        nodes.entrySet().stream()
            .filter(e -> !e.getKey().equals(host))
            .findFirst()
            .orElseThrow()
            .getValue();
    assertNotEquals(host, reader.node.nodeName());
    log(id, 0, 40);
    SseClient.Result first =
        SseClient.read(events(reader, id).build(), f -> f.id() != null && f.seq() == 25);
    assertTrue(!first.ended(), "the client hung up mid-deploy");
    long lastSeen = first.frames().get(first.frames().size() - 1).seq();

    log(id, 40, 40);
    CompletableFuture<SseClient.Result> second =
        CompletableFuture.supplyAsync(
            () ->
                SseClient.readToDone(
                    events(reader, id).header("Last-Event-ID", Long.toString(lastSeen)).build()));
    log(id, 80, 40);
    Deployment last = finish(id);
    SseClient.Result rest = second.get(60, TimeUnit.SECONDS);

    List<Long> all = new ArrayList<>(seqs(first.frames()));
    all.addAll(seqs(rest.frames()));
    List<Long> expected = new ArrayList<>();
    for (long s = 1; s <= last.eventCount(); s++) {
      expected.add(s);
    }
    assertEquals(expected, all, "every event exactly once across the two connections");
    assertEquals("done", rest.frames().get(rest.frames().size() - 1).event());
  }
}
