package dev.deployrt.deployment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.deployrt.errors.ErrorCode;
import dev.deployrt.release.DesiredRelease;
import dev.deployrt.release.ReleaseRegister;
import dev.deployrt.rollout.RolloutPlan;
import dev.deployrt.rollout.Stop;
import dev.deployrt.rollout.Strategy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A deployment record driving its rollout from the nodes' reports: the switch order of a two-phase
 * rollout, the stop when a target fails first, the canaries' gate, the revert, and the deadline of
 * a rollout still waiting. Every event goes through serialization.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RolloutEntityTest {
  private static final List<String> TARGETS = List.of("node-1", "node-2", "node-3");

  private final ActorTestKit testKit =
      ActorTestKit.create(
          EventSourcedBehaviorTestKit.config()
              .withFallback(
                  ConfigFactory.parseString(
                      "pekko.actor.serialization-bindings {\n"
                          + "\"dev.deployrt.serialization.JsonSerializable\" = jackson-json }")));
  private TestProbe<ReleaseRegister.Command> register;
  private EventSourcedBehaviorTestKit<DeploymentEntity.Command, DeploymentEntity.Event, Deployment>
      kit;

  @BeforeEach
  void fresh() {
    register = testKit.createTestProbe();
    kit =
        EventSourcedBehaviorTestKit.create(
            testKit.system(),
            DeploymentEntity.create(
                UUID.randomUUID().toString(),
                new DeploymentSettings(Duration.ofMinutes(10), Duration.ofMinutes(10)),
                register.getRef()),
            EventSourcedBehaviorTestKit.enabledSerializationSettings());
  }

  @AfterAll
  void shutdown() {
    testKit.shutdownTestKit();
  }

  private Deployment distribute(RolloutPlan plan) {
    kit.<StatusReply<Deployment>>runCommand(
        r -> new DeploymentEntity.Create("web", null, "admin", "node-1", null, r));
    Deployment d =
        kit.<StatusReply<Deployment>>runCommand(
                r -> new DeploymentEntity.MarkPayloadStored("ab".repeat(32), 10, TARGETS, plan, r))
            .state();
    assertEquals(DeploymentStatus.DISTRIBUTING, d.status());
    assertEquals(publishedRelease().gate(), d.gate());
    return d;
  }

  private DesiredRelease publishedRelease() {
    ReleaseRegister.Command c;
    do {
      c = register.receiveMessage();
    } while (!(c instanceof ReleaseRegister.Publish));
    return ((ReleaseRegister.Publish) c).release();
  }

  private Deployment report(String node, NodeStatus status) {
    return report(node, status, null, null);
  }

  private Deployment report(String node, NodeStatus status, ErrorInfo error, Instant switchedAt) {
    return kit.runCommand(
            new DeploymentEntity.ReportNodeStatus(node, status, error, switchedAt, null))
        .state();
  }

  private static String log(Deployment d) {
    return d.events().stream().map(LogEntry::message).toList().toString();
  }

  @Test
  void twoPhaseSendsTheSwitchOrderOnlyOnceEveryTargetIsPrepared() {
    Deployment d = distribute(new RolloutPlan(Strategy.TWO_PHASE, 1, 0, true));
    assertTrue(d.gate().switchNodes().isEmpty(), "no node may switch yet");
    report("node-1", NodeStatus.PREPARED);
    d = report("node-2", NodeStatus.PREPARED);
    assertTrue(d.gate().switchNodes().isEmpty());
    d = report("node-3", NodeStatus.PREPARED);
    assertTrue(d.gate().isOpen(), "every target prepared: all may switch");
    DesiredRelease published = publishedRelease();
    assertTrue(published.gate().isOpen());
    assertEquals(2, published.gate().revision());
    Instant t = Instant.parse("2026-12-06T12:00:00Z");
    report("node-1", NodeStatus.ACTIVE, null, t);
    report("node-2", NodeStatus.ACTIVE, null, t.plusMillis(12));
    d = report("node-3", NodeStatus.ACTIVE, null, t.plusMillis(40));
    assertEquals(DeploymentStatus.SUCCEEDED, d.status());
    LogEntry skew =
        d.events().stream().filter(e -> e.data().containsKey("skew_ms")).findFirst().orElseThrow();
    assertEquals("activate", skew.phase());
    assertEquals(40L, skew.data().get("skew_ms"));
  }

  @Test
  void twoPhaseStopsWhenATargetFailsBeforeTheSwitchAndAbortsTheOthers() {
    distribute(new RolloutPlan(Strategy.TWO_PHASE, 1, 0, true));
    report("node-1", NodeStatus.PREPARED);
    report("node-2", NodeStatus.FETCHING);
    Deployment d =
        report(
            "node-3",
            NodeStatus.FAILED,
            ErrorInfo.of("check failed", ErrorCode.CHECK_FAILED, "check", "node-3"),
            null);
    assertEquals(Stop.ABORTED, d.gate().stop());
    assertEquals(NodeStatus.ABORTED, d.nodes().get("node-1").status());
    assertEquals(NodeStatus.ABORTED, d.nodes().get("node-2").status());
    assertEquals(DeploymentStatus.FAILED, d.status());
    assertEquals("CHECK_FAILED", d.error().code());
    assertEquals(Stop.ABORTED, publishedRelease().gate().stop());
    assertTrue(log(d).contains("no other node will switch"), log(d));
  }

  @Test
  void aHealthFailureWithAutoRevertEndsRevertedOnceEveryNodeThatSwitchedWentBack() {
    distribute(new RolloutPlan(Strategy.ALL_AT_ONCE, 1, 30, true));
    Instant t = Instant.now();
    report("node-1", NodeStatus.ACTIVE, null, t);
    report("node-2", NodeStatus.FETCHING);
    Deployment d =
        report(
            "node-3",
            NodeStatus.FAILED,
            ErrorInfo.of("unhealthy", ErrorCode.HEALTH_FAILED, "health", "node-3"),
            t);
    assertEquals(Stop.REVERTED, d.gate().stop());
    assertEquals(NodeStatus.ABORTED, d.nodes().get("node-2").status(), "had not switched");
    assertEquals(DeploymentStatus.DISTRIBUTING, d.status(), "waits for the switched nodes");
    assertEquals(Stop.REVERTED, publishedRelease().gate().stop());
    d = report("node-1", NodeStatus.REVERTED);
    assertEquals(DeploymentStatus.DISTRIBUTING, d.status());
    d = report("node-3", NodeStatus.REVERTED);
    assertEquals(DeploymentStatus.REVERTED, d.status());
    assertEquals("HEALTH_FAILED", d.error().code());
    assertEquals(
        "HEALTH_FAILED", d.nodes().get("node-3").error().code(), "the reason stays on the node");
  }

  @Test
  void withoutAutoRevertAHealthFailureLeavesThatNodeFailedAndTheOthersGoOn() {
    distribute(new RolloutPlan(Strategy.ALL_AT_ONCE, 1, 30, false));
    Instant t = Instant.now();
    report("node-1", NodeStatus.ACTIVE, null, t);
    report("node-2", NodeStatus.ACTIVE, null, t);
    Deployment d =
        report(
            "node-3",
            NodeStatus.FAILED,
            ErrorInfo.of("unhealthy", ErrorCode.HEALTH_FAILED, "health", "node-3"),
            t);
    assertNull(d.gate().stop());
    assertEquals(DeploymentStatus.PARTIAL, d.status());
  }

  @Test
  void canariesGoFirstAndTheRestStartOnlyOnceTheyAreActive() {
    Deployment d = distribute(new RolloutPlan(Strategy.CANARY, 1, 30, true));
    assertEquals(List.of("node-1"), d.gate().startNodes());
    assertTrue(d.gate().mayStart("node-1"));
    assertTrue(!d.gate().mayStart("node-2"));
    report("node-1", NodeStatus.WATCHING, null, Instant.now());
    d = report("node-1", NodeStatus.ACTIVE, null, Instant.now());
    assertTrue(d.gate().isOpen());
    assertTrue(log(d).contains("canary node(s) node-1 passed"), log(d));
  }

  @Test
  void theDeadlineStopsARolloutStillWaitingAbortingThePreparedNodes() {
    distribute(new RolloutPlan(Strategy.TWO_PHASE, 1, 0, true));
    report("node-1", NodeStatus.PREPARED);
    report("node-2", NodeStatus.PREPARED);
    report("node-3", NodeStatus.EXTRACTING);
    Deployment d = kit.runCommand(DeploymentEntity.DistributionDeadlinePassed.INSTANCE).state();
    assertEquals(DeploymentStatus.FAILED, d.status());
    assertEquals(Stop.ABORTED, d.gate().stop());
    assertEquals(NodeStatus.ABORTED, d.nodes().get("node-1").status());
    assertEquals(NodeStatus.ABORTED, d.nodes().get("node-2").status());
    assertEquals(NodeStatus.FAILED, d.nodes().get("node-3").status());
    assertEquals("NODE_TIMEOUT", d.nodes().get("node-3").error().code());
    assertEquals(Stop.ABORTED, publishedRelease().gate().stop());
  }
}
