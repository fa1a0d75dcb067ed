package dev.deployrt.release;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.deployrt.rollout.Gate;
import dev.deployrt.rollout.RolloutPlan;
import dev.deployrt.rollout.Strategy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A node's register publishes even when its store never becomes readable. */
class DesiredReleasesTest {
  private final ActorTestKit testKit = OneNodeCluster.testKit("deploy.db.schema-wait = 1s");
  private final ExecutorService blocking = Executors.newFixedThreadPool(2);

  @AfterEach
  void stop() {
    testKit.shutdownTestKit();
    blocking.shutdownNow();
  }

  @Test
  void aStoreThatIsNeverReadyHoldsThisNodesPublishesOnlyForTheSchemaWait() {
    OneNodeCluster.joinItself(testKit);
    DesiredReleases releases =
        DesiredReleases.init(
            testKit.system(), Duration.ofSeconds(3), new CompletableFuture<Done>(), blocking);
    DesiredRelease release =
        new DesiredRelease(
            "web",
            "v1",
            "ab".repeat(32),
            10,
            Instant.ofEpochSecond(1),
            "node-1",
            List.of("node-1"),
            null,
            new RolloutPlan(Strategy.ALL_AT_ONCE, 1, 0, true),
            Gate.OPEN,
            null);
    TestProbe<ReleaseRegister.PublishResult> publisher = testKit.createTestProbe();
    releases.register().tell(new ReleaseRegister.Publish(release, publisher.getRef()));
    publisher.expectNoMessage(Duration.ofMillis(300)); // held: no seed yet
    assertEquals(
        new ReleaseRegister.Published(release), publisher.receiveMessage(Duration.ofSeconds(10)));
  }
}
