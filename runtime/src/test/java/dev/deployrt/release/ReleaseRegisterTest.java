package dev.deployrt.release;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.deployrt.rollout.Gate;
import dev.deployrt.rollout.RolloutPlan;
import dev.deployrt.rollout.Stop;
import dev.deployrt.rollout.Strategy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.UniqueAddress;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The register on a one-node cluster whose replicator would tell subscribers only every 30 s. */
class ReleaseRegisterTest {
  private final ActorTestKit testKit =
      OneNodeCluster.testKit("pekko.cluster.distributed-data.notify-subscribers-interval = 30s");

  @AfterEach
  void stop() {
    testKit.shutdownTestKit();
  }

  private void joinItself() {
    OneNodeCluster.joinItself(testKit);
  }

  private static DesiredRelease release(String id, long createdSecond, Gate gate) {
    return new DesiredRelease(
        "web",
        id,
        "ab".repeat(32),
        10,
        Instant.ofEpochSecond(createdSecond),
        "node-1",
        List.of("node-1"),
        null,
        new RolloutPlan(Strategy.ALL_AT_ONCE, 1, 5, true),
        gate,
        null);
  }

  /**
   * Two replicas of the register merge to the deployment's highest gate revision, also when the
   * node that wrote it had just restarted (seeded from the store, so it wrote the entry fewer times
   * than the node that wrote the revisions before).
   */
  @Test
  void replicasMergeToTheHighestGateRevisionWhoeverWroteItAndHowOften() {
    SelfUniqueAddress first = replica(2551);
    SelfUniqueAddress restarted = replica(2552);
    LWWMap<String, DesiredRelease> a = LWWMap.empty();
    for (int revision = 1; revision <= 3; revision++) {
      a = ReleaseRegister.putIfNewer(a, first, release("v3", 3, gate(revision)), true);
    }
    LWWMap<String, DesiredRelease> b = LWWMap.empty();
    b = ReleaseRegister.putIfNewer(b, restarted, release("v3", 3, gate(2)), false); // its seed
    b = ReleaseRegister.putIfNewer(b, restarted, release("v3", 3, gate(4)), true);
    assertEquals(4, a.merge(b).getEntries().get("web").gate().revision());
    assertEquals(4, b.merge(a).getEntries().get("web").gate().revision());
    // And a newer deployment wins over any revision of an older one.
    LWWMap<String, DesiredRelease> c =
        ReleaseRegister.putIfNewer(LWWMap.empty(), first, release("v4", 4, Gate.OPEN), true);
    assertEquals("v4", b.merge(c).getEntries().get("web").deploymentId());
    assertEquals("v4", c.merge(b).getEntries().get("web").deploymentId());
  }

  private static SelfUniqueAddress replica(int port) {
    return new SelfUniqueAddress(
        new UniqueAddress(new Address("pekko", "test", "127.0.0.1", port), port));
  }

  private static Gate gate(int revision) {
    return new Gate(revision, List.of("node-1"), null, null);
  }

  @Test
  void thisNodesSubscribersHearOfAPublishedReleaseWithoutWaitingForTheNotifyInterval() {
    joinItself();
    ActorRef<ReleaseRegister.Command> register =
        testKit.spawn(ReleaseRegister.create(Duration.ofSeconds(3), release -> {}));
    TestProbe<Map<String, DesiredRelease>> applier = testKit.createTestProbe();
    register.tell(new ReleaseRegister.Subscribe(applier.getRef()));
    assertEquals(Map.of(), applier.receiveMessage());

    DesiredRelease release =
        new DesiredRelease(
            "web", "d-1", "ab".repeat(32), 10, Instant.now(), "node-1", List.of("node-1"), null);
    TestProbe<ReleaseRegister.PublishResult> publisher = testKit.createTestProbe();
    register.tell(new ReleaseRegister.Publish(release, publisher.getRef()));
    assertEquals(
        new ReleaseRegister.Published(release), publisher.receiveMessage(Duration.ofSeconds(10)));
    // Well inside the 30 s interval: only the flush after the update can have told the subscriber.
    assertEquals(Map.of("web", release), applier.receiveMessage(Duration.ofSeconds(10)));
  }

  /**
   * What is stored for a restarting node is the release with the one before it, also after its
   * rollout stopped: a node that reads it before it hears the cluster reverts to that release.
   */
  @Test
  void aStoredReleaseKeepsTheReleaseBeforeIt() {
    joinItself();
    TestProbe<DesiredRelease> stored = testKit.createTestProbe();
    ActorRef<ReleaseRegister.Command> register =
        testKit.spawn(ReleaseRegister.create(Duration.ofSeconds(3), stored.getRef()::tell));
    TestProbe<ReleaseRegister.PublishResult> publisher = testKit.createTestProbe();
    DesiredRelease v2 = release("v2", 2, Gate.OPEN);
    register.tell(new ReleaseRegister.Publish(v2, publisher.getRef()));
    publisher.expectMessageClass(ReleaseRegister.Published.class, Duration.ofSeconds(10));
    assertEquals(v2, stored.receiveMessage());

    register.tell(new ReleaseRegister.Publish(release("v3", 3, Gate.OPEN), publisher.getRef()));
    publisher.expectMessageClass(ReleaseRegister.Published.class, Duration.ofSeconds(10));
    assertEquals(v2, stored.receiveMessage().previous());

    DesiredRelease reverting = release("v3", 3, Gate.OPEN.stopped(Stop.REVERTED));
    register.tell(new ReleaseRegister.Publish(reverting, publisher.getRef()));
    publisher.expectMessageClass(ReleaseRegister.Published.class, Duration.ofSeconds(10));
    DesiredRelease saved = stored.receiveMessage();
    assertEquals(Stop.REVERTED, saved.gate().stop());
    assertEquals(v2, saved.previous(), "what the nodes that switched go back to");
  }

  /**
   * A full-cluster restart: a record that recovered before its node read the store publishes its
   * release with nothing before it. The register holds it until the seed, so it links to the stored
   * entry and keeps the release a revert goes back to.
   */
  @Test
  void aReleasePublishedBeforeTheSeedLinksToTheStoredEntry() {
    joinItself();
    TestProbe<DesiredRelease> stored = testKit.createTestProbe();
    ActorRef<ReleaseRegister.Command> register =
        testKit.spawn(ReleaseRegister.create(Duration.ofSeconds(3), stored.getRef()::tell, true));
    TestProbe<ReleaseRegister.PublishResult> publisher = testKit.createTestProbe();
    DesiredRelease reverting = release("v3", 3, Gate.OPEN.stopped(Stop.REVERTED));
    register.tell(new ReleaseRegister.Publish(reverting, publisher.getRef()));

    DesiredRelease v2 = release("v2", 2, Gate.OPEN);
    DesiredRelease storedV3 =
        new DesiredRelease(
            "web",
            "v3",
            reverting.sha256(),
            reverting.size(),
            reverting.createdAt(),
            reverting.origin(),
            reverting.targets(),
            null,
            reverting.rollout(),
            reverting.gate(),
            v2);
    register.tell(new ReleaseRegister.Seed(List.of(storedV3)));
    publisher.expectMessageClass(ReleaseRegister.Published.class, Duration.ofSeconds(10));
    assertEquals(v2, stored.receiveMessage().previous(), "stored again with the release before");
    TestProbe<Map<String, DesiredRelease>> all = testKit.createTestProbe();
    register.tell(new ReleaseRegister.GetAll(all.getRef()));
    assertEquals(storedV3, all.receiveMessage().get("web"));
  }
}
