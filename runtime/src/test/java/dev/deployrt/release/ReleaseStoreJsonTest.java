package dev.deployrt.release;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.deployrt.rollout.Gate;
import dev.deployrt.rollout.RolloutPlan;
import dev.deployrt.rollout.Stop;
import dev.deployrt.rollout.Strategy;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The rollout state column of a stored desired release reads back as it was written. */
class ReleaseStoreJsonTest {
  @Test
  void aStoppedCanaryRolloutWithItsPreviousReleaseRoundTrips() {
    DesiredRelease previous =
        new DesiredRelease(
            "web",
            "v1",
            "aa".repeat(32),
            10,
            Instant.parse("2026-12-01T10:00:00.123456Z"),
            "node-1",
            List.of("node-1", "node-2"),
            null);
    ReleaseStore.RolloutState state =
        new ReleaseStore.RolloutState(
            new RolloutPlan(Strategy.CANARY, 1, 30, true),
            new Gate(2, List.of("node-1"), List.of("node-1"), Stop.REVERTED),
            previous);
    String json = ReleaseStore.json(state);
    assertEquals(state, ReleaseStore.rolloutState(json));
    assertEquals(new ReleaseStore.RolloutState(null, null, null), ReleaseStore.rolloutState(null));
  }
}
