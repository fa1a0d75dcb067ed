package dev.deployrt.deployment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.deployrt.release.DesiredRelease;
import dev.deployrt.release.ReleaseRegister;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit.CommandResultWithReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeploymentEntityTest {
  private static final Config CONFIG =
      EventSourcedBehaviorTestKit.config()
          .withFallback(
              ConfigFactory.parseString(
                  """
      pekko.actor.serialization-bindings {
        "dev.deployrt.serialization.JsonSerializable" = jackson-json
      }
      """));

  private final ActorTestKit testKit = ActorTestKit.create(CONFIG);
  private TestProbe<ReleaseRegister.Command> register;

  @BeforeEach
  void freshRegister() {
    register = testKit.createTestProbe();
  }

  @AfterAll
  void shutdown() {
    testKit.shutdownTestKit();
  }

  private EventSourcedBehaviorTestKit<DeploymentEntity.Command, DeploymentEntity.Event, Deployment>
      entity(DeploymentSettings settings) {
    return EventSourcedBehaviorTestKit.create(
        testKit.system(),
        DeploymentEntity.create(UUID.randomUUID().toString(), settings, register.getRef()),
        EventSourcedBehaviorTestKit.enabledSerializationSettings());
  }

  private EventSourcedBehaviorTestKit<DeploymentEntity.Command, DeploymentEntity.Event, Deployment>
      entity() {
    return entity(new DeploymentSettings(Duration.ofMinutes(10), Duration.ofMinutes(10)));
  }

  private static Deployment create(
      EventSourcedBehaviorTestKit<DeploymentEntity.Command, DeploymentEntity.Event, Deployment>
          kit) {
    CommandResultWithReply<
            DeploymentEntity.Command, DeploymentEntity.Event, Deployment, StatusReply<Deployment>>
        r =
            kit.runCommand(
                replyTo ->
                    new DeploymentEntity.Create("web", "first", "admin", "node-1", null, replyTo));
    assertTrue(r.reply().isSuccess());
    return r.state();
  }

  private Deployment store(
      EventSourcedBehaviorTestKit<DeploymentEntity.Command, DeploymentEntity.Event, Deployment> kit,
      List<String> targets) {
    var r =
        kit.<StatusReply<Deployment>>runCommand(
            replyTo ->
                new DeploymentEntity.MarkPayloadStored(
                    "ab".repeat(32), 1234, targets, null, replyTo));
    assertTrue(r.reply().isSuccess());
    return r.state();
  }

  @Test
  void createsAPendingRecordWhoseFirstEventStartsTheUpload() {
    var kit = entity();
    Deployment d = create(kit);
    assertEquals(DeploymentStatus.PENDING, d.status());
    assertEquals("web", d.project());
    assertEquals("admin", d.user());
    assertEquals(1, d.eventCount());
    LogEntry first = d.events().get(0);
    assertEquals(1, first.seq());
    assertEquals(LogEntry.PHASE, first.type());
    assertEquals("upload", first.phase());
  }

  @Test
  void rejectsASecondCreateAndPersistsNothing() {
    var kit = entity();
    create(kit);
    var r =
        kit.<StatusReply<Deployment>>runCommand(
            replyTo ->
                new DeploymentEntity.Create("other", null, "mallory", "node-2", null, replyTo));
    assertTrue(r.reply().isError());
    assertTrue(r.events().isEmpty());
    assertEquals("web", r.state().project());
  }

  @Test
  void recordsProgressOnlyWhenMoreBytesArrived() {
    var kit = entity();
    create(kit);
    assertEquals(1, kit.runCommand(new DeploymentEntity.RecordUploadProgress(100)).events().size());
    assertTrue(kit.runCommand(new DeploymentEntity.RecordUploadProgress(100)).events().isEmpty());
    var r = kit.runCommand(new DeploymentEntity.RecordUploadProgress(250));
    LogEntry progress = r.state().events().get(r.state().events().size() - 1);
    assertEquals(LogEntry.PROGRESS, progress.type());
    assertEquals(250L, progress.data().get("bytes"));
  }

  @Test
  void theStoredMarkWritesTheFinalByteCountAndItsNotesFirstInOneBatch() {
    var kit = entity();
    create(kit);
    kit.runCommand(new DeploymentEntity.RecordUploadProgress(100));
    var note =
        new DeploymentEntity.AppendLog(
            LogEntry.PHASE, "extract", "node-1", "extracted while it arrived", Map.of());
    var r =
        kit.<StatusReply<Deployment>>runCommand(
            replyTo ->
                new DeploymentEntity.MarkPayloadStored(
                    "ab".repeat(32), 1234, List.of("node-1"), null, 1234, List.of(note), replyTo));
    assertTrue(r.reply().isSuccess());
    assertEquals(3, r.events().size(), r.events().toString());
    assertEquals(1234L, ((DeploymentEntity.UploadProgressed) r.events().get(0)).bytes());
    assertEquals(
        "extracted while it arrived", ((DeploymentEntity.Logged) r.events().get(1)).message());
    assertTrue(r.events().get(2) instanceof DeploymentEntity.PayloadStored);
    assertEquals(DeploymentStatus.DISTRIBUTING, r.state().status());

    // A count no higher than the last progress adds no progress event.
    var again = entity();
    create(again);
    again.runCommand(new DeploymentEntity.RecordUploadProgress(1234));
    var stored =
        again.<StatusReply<Deployment>>runCommand(
            replyTo ->
                new DeploymentEntity.MarkPayloadStored(
                    "ab".repeat(32), 1234, List.of("node-1"), null, 1234, null, replyTo));
    assertEquals(1, stored.events().size(), stored.events().toString());
  }

  @Test
  void storedPayloadStartsDistributionAndPublishesTheRelease() {
    var kit = entity();
    Deployment created = create(kit);
    Deployment d = store(kit, List.of("node-1", "node-2"));
    assertEquals(DeploymentStatus.DISTRIBUTING, d.status());
    assertEquals("ab".repeat(32), d.sha256());
    assertEquals(
        Map.of("node-1", NodeStatus.PENDING, "node-2", NodeStatus.PENDING),
        Map.of(
            "node-1",
            d.nodes().get("node-1").status(),
            "node-2",
            d.nodes().get("node-2").status()));
    ReleaseRegister.Publish publish = register.expectMessageClass(ReleaseRegister.Publish.class);
    assertEquals(
        new DesiredRelease(
            "web",
            created.deploymentId(),
            "ab".repeat(32),
            1234,
            created.createdAt(),
            created.originNode(),
            List.of("node-1", "node-2"),
            null),
        publish.release());
  }

  @Test
  void everyTargetNodeActiveEndsSucceeded() {
    var kit = entity();
    create(kit);
    store(kit, List.of("node-1", "node-2"));
    for (NodeStatus s :
        List.of(
            NodeStatus.FETCHING, NodeStatus.EXTRACTING, NodeStatus.ACTIVATING, NodeStatus.ACTIVE)) {
      kit.runCommand(new DeploymentEntity.ReportNodeStatus("node-1", s, null));
    }
    assertEquals(DeploymentStatus.DISTRIBUTING, kit.getState().status());
    var r =
        kit.runCommand(new DeploymentEntity.ReportNodeStatus("node-2", NodeStatus.ACTIVE, null));
    assertEquals(DeploymentStatus.SUCCEEDED, r.state().status());
    assertTrue(r.state().completedAt() != null);
    assertNull(r.state().error());
    assertInstanceOf(DeploymentEntity.Completed.class, r.events().get(r.events().size() - 1));
  }

  @Test
  void nodesOnlyMoveForward() {
    var kit = entity();
    create(kit);
    store(kit, List.of("node-1"));
    kit.runCommand(new DeploymentEntity.ReportNodeStatus("node-1", NodeStatus.EXTRACTING, null));
    var r =
        kit.runCommand(new DeploymentEntity.ReportNodeStatus("node-1", NodeStatus.FETCHING, null));
    assertTrue(r.events().isEmpty());
    assertEquals(NodeStatus.EXTRACTING, r.state().nodes().get("node-1").status());
  }

  @Test
  void someActiveSomeFailedEndsPartialWithTheNodesError() {
    var kit = entity();
    create(kit);
    store(kit, List.of("node-1", "node-2"));
    kit.runCommand(new DeploymentEntity.ReportNodeStatus("node-1", NodeStatus.ACTIVE, null));
    ErrorInfo bad = new ErrorInfo("disk full", "EXTRACT_FAILED", "extract", "node-2");
    var r = kit.runCommand(new DeploymentEntity.ReportNodeStatus("node-2", NodeStatus.FAILED, bad));
    assertEquals(DeploymentStatus.PARTIAL, r.state().status());
    assertEquals(bad, r.state().error());
  }

  @Test
  void noNodeActiveEndsFailed() {
    var kit = entity();
    create(kit);
    store(kit, List.of("node-1"));
    ErrorInfo bad = new ErrorInfo("unsafe entry", "INVALID_ARCHIVE", "extract", "node-1");
    var r = kit.runCommand(new DeploymentEntity.ReportNodeStatus("node-1", NodeStatus.FAILED, bad));
    assertEquals(DeploymentStatus.FAILED, r.state().status());
    assertEquals("extract", r.state().error().phase());
    assertTrue(r.state().events().stream().anyMatch(e -> e.type().equals(LogEntry.ERROR)));
  }

  @Test
  void aNewerReleaseAlreadyRegisteredEndsSuperseded() {
    var kit = entity();
    Deployment created = create(kit);
    store(kit, List.of("node-1"));
    ReleaseRegister.Publish publish = register.expectMessageClass(ReleaseRegister.Publish.class);
    DesiredRelease newer =
        new DesiredRelease(
            "web",
            UUID.randomUUID().toString(),
            "cd".repeat(32),
            1,
            created.createdAt().plusSeconds(1),
            "node-1",
            List.of("node-1"),
            null);
    publish.replyTo().tell(new ReleaseRegister.Superseded(publish.release(), newer));
    Deployment terminal = kit.<Deployment>runCommand(DeploymentEntity.AwaitTerminal::new).reply();
    assertEquals(DeploymentStatus.SUPERSEDED, terminal.status());
    assertEquals(NodeStatus.SUPERSEDED, terminal.nodes().get("node-1").status());
  }

  @Test
  void aNewerReleaseAppearingInTheRegisterSupersedesTheNodesThatHaveNotFinished() {
    var kit = entity();
    Deployment created = create(kit);
    store(kit, List.of("node-1", "node-2"));
    register.expectMessageClass(ReleaseRegister.Publish.class);
    ReleaseRegister.Subscribe subscribe =
        register.expectMessageClass(ReleaseRegister.Subscribe.class);
    kit.runCommand(new DeploymentEntity.ReportNodeStatus("node-1", NodeStatus.ACTIVE, null));

    DesiredRelease older =
        new DesiredRelease(
            "web",
            UUID.randomUUID().toString(),
            "cd".repeat(32),
            1,
            created.createdAt().minusSeconds(1),
            "node-1",
            List.of("node-1"),
            null);
    subscribe.subscriber().tell(Map.of("web", older));
    DesiredRelease newer =
        new DesiredRelease(
            "web",
            UUID.randomUUID().toString(),
            "cd".repeat(32),
            1,
            created.createdAt().plusSeconds(1),
            "node-2",
            List.of("node-1", "node-2"),
            null);
    subscribe.subscriber().tell(Map.of("web", newer));

    Deployment terminal = kit.<Deployment>runCommand(DeploymentEntity.AwaitTerminal::new).reply();
    assertEquals(DeploymentStatus.SUPERSEDED, terminal.status());
    assertEquals(NodeStatus.ACTIVE, terminal.nodes().get("node-1").status());
    assertEquals(NodeStatus.SUPERSEDED, terminal.nodes().get("node-2").status());
    assertEquals("SUPERSEDED", terminal.nodes().get("node-2").error().code());
    register.expectMessage(new ReleaseRegister.Unsubscribe(subscribe.subscriber()));
  }

  @Test
  void aTerminalReportIsAcknowledgedAndARepeatChangesNothing() {
    var kit = entity();
    create(kit);
    store(kit, List.of("node-1", "node-2"));
    var first =
        kit.<org.apache.pekko.Done>runCommand(
            replyTo ->
                new DeploymentEntity.ReportNodeStatus("node-1", NodeStatus.ACTIVE, null, replyTo));
    assertEquals(org.apache.pekko.Done.getInstance(), first.reply());
    assertFalse(first.events().isEmpty());
    var again =
        kit.<org.apache.pekko.Done>runCommand(
            replyTo ->
                new DeploymentEntity.ReportNodeStatus("node-1", NodeStatus.ACTIVE, null, replyTo));
    assertEquals(org.apache.pekko.Done.getInstance(), again.reply());
    assertTrue(again.events().isEmpty(), "a resent report persists nothing");
    assertEquals(NodeStatus.ACTIVE, again.state().nodes().get("node-1").status());
  }

  @Test
  void aReportsNotesComeJustBeforeItAndOnlyWithTheReportThatChangesSomething() {
    var kit = entity();
    create(kit);
    store(kit, List.of("node-1", "node-2"));
    var prune =
        List.of(
            new DeploymentEntity.AppendLog(
                LogEntry.PHASE, "prune", "node-1", "node-1 keeps 1", Map.of("kept_releases", 1L)));
    var first =
        kit.<org.apache.pekko.Done>runCommand(
            replyTo ->
                new DeploymentEntity.ReportNodeStatus(
                    "node-1", NodeStatus.ACTIVE, null, null, prune, replyTo));
    assertInstanceOf(DeploymentEntity.Logged.class, first.events().get(0));
    assertEquals("node-1 keeps 1", ((DeploymentEntity.Logged) first.events().get(0)).message());
    assertEquals(NodeStatus.ACTIVE, first.state().nodes().get("node-1").status());
    var again =
        kit.<org.apache.pekko.Done>runCommand(
            replyTo ->
                new DeploymentEntity.ReportNodeStatus(
                    "node-1", NodeStatus.ACTIVE, null, null, prune, replyTo));
    assertTrue(again.events().isEmpty(), "a resent report's notes are not written twice");

    // A late report that changes nothing (the node ended otherwise meanwhile) keeps its notes.
    kit.runCommand(
        new DeploymentEntity.ReportNodeStatus(
            "node-2",
            NodeStatus.FAILED,
            new ErrorInfo("disk full", "EXTRACT_FAILED", "extract", "node-2")));
    var late =
        kit.<org.apache.pekko.Done>runCommand(
            replyTo ->
                new DeploymentEntity.ReportNodeStatus(
                    "node-2", NodeStatus.ACTIVE, null, null, prune, replyTo));
    assertEquals(1, late.events().size(), late.events().toString());
    assertInstanceOf(DeploymentEntity.Logged.class, late.events().get(0));
    assertEquals(NodeStatus.FAILED, late.state().nodes().get("node-2").status());
  }

  @Test
  void failedUploadEndsFailedWithItsCode() {
    var kit = entity();
    create(kit);
    var r =
        kit.<StatusReply<Deployment>>runCommand(
            replyTo ->
                new DeploymentEntity.FailUpload(
                    "DIGEST_MISMATCH", "declared sha256 does not match", "upload", replyTo));
    assertTrue(r.reply().isSuccess());
    assertEquals(DeploymentStatus.FAILED, r.state().status());
    assertEquals("DIGEST_MISMATCH", r.state().error().code());
    assertEquals("upload", r.state().error().phase());
  }

  @Test
  void storingAfterFailureIsRejectedWithoutEvents() {
    var kit = entity();
    create(kit);
    kit.<StatusReply<Deployment>>runCommand(
        replyTo -> new DeploymentEntity.FailUpload("INVALID_ARCHIVE", "bad", "upload", replyTo));
    var r =
        kit.<StatusReply<Deployment>>runCommand(
            replyTo ->
                new DeploymentEntity.MarkPayloadStored(
                    "ab".repeat(32), 1, List.of("node-1"), null, replyTo));
    assertTrue(r.reply().isError());
    assertTrue(r.events().isEmpty());
    assertEquals(DeploymentStatus.FAILED, r.state().status());
  }

  @Test
  void nodesThatDoNotReportByTheDeadlineFailWithNodeTimeout() {
    var kit = entity(new DeploymentSettings(Duration.ofMillis(200), Duration.ofMinutes(10)));
    create(kit);
    store(kit, List.of("node-1", "node-2"));
    kit.runCommand(new DeploymentEntity.ReportNodeStatus("node-1", NodeStatus.ACTIVE, null));
    Deployment terminal = kit.<Deployment>runCommand(DeploymentEntity.AwaitTerminal::new).reply();
    assertEquals(DeploymentStatus.PARTIAL, terminal.status());
    assertEquals("NODE_TIMEOUT", terminal.nodes().get("node-2").error().code());
    assertEquals(NodeStatus.FAILED, terminal.nodes().get("node-2").status());
  }

  @Test
  void aPendingUploadWhoseLeaseLapsesEndsAborted() {
    var kit = entity(new DeploymentSettings(Duration.ofMinutes(10), Duration.ofMillis(200)));
    create(kit);
    Deployment terminal = kit.<Deployment>runCommand(DeploymentEntity.AwaitTerminal::new).reply();
    assertEquals(DeploymentStatus.FAILED, terminal.status());
    assertEquals("UPLOAD_ABORTED", terminal.error().code());
  }

  @Test
  void capsTheRetainedLogButCountsEveryEvent() {
    var kit = entity();
    create(kit);
    for (int i = 0; i < 300; i++) {
      kit.runCommand(
          new DeploymentEntity.AppendLog(LogEntry.LOG, null, "node-1", "line " + i, Map.of()));
    }
    Deployment d = kit.getState();
    assertEquals(301, d.eventCount());
    List<LogEntry> events = d.events();
    assertEquals(200, events.size());
    assertEquals(LogEntry.TRUNCATED, events.get(20).type());
    assertEquals(102L, events.get(20).data().get("dropped_events"), "301 emitted - 199 kept");
    assertEquals(301, events.get(199).seq());
  }

  @Test
  void recoversTheSameStateAfterARestart() {
    var kit = entity();
    create(kit);
    kit.runCommand(new DeploymentEntity.RecordUploadProgress(10));
    store(kit, List.of("node-1"));
    for (int i = 0; i < 250; i++) {
      kit.runCommand(
          new DeploymentEntity.AppendLog(
              LogEntry.WARNING, "extract", "node-1", "w" + i, Map.of("i", (long) i)));
    }
    kit.runCommand(new DeploymentEntity.ReportNodeStatus("node-1", NodeStatus.ACTIVE, null));
    Deployment before = kit.getState();
    var restarted = kit.restart();
    assertEquals(before, restarted.state());
    assertEquals(DeploymentStatus.SUCCEEDED, restarted.state().status());
    assertFalse(restarted.state().events().isEmpty());
  }

  @Test
  void failingAnUnrecordedUploadCreatesNoRecord() {
    // The HTTP layer sends this after a Create timed out; if the Create never arrives, nothing
    // appears.
    var kit = entity();
    var r =
        kit.<StatusReply<Deployment>>runCommand(
            replyTo ->
                new DeploymentEntity.FailUpload(
                    "UNAVAILABLE", "not recorded in time", "upload", replyTo));
    assertTrue(r.reply().isError());
    assertTrue(r.events().isEmpty());
    assertFalse(r.state().exists());
  }

  @Test
  void unknownDeploymentReadsAsAbsent() {
    var kit = entity();
    Deployment d = kit.<Deployment>runCommand(DeploymentEntity.Get::new).reply();
    assertFalse(d.exists());
  }
}
