package dev.deployrt.rollout;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.deployrt.serialization.JsonSerializable;
import java.time.Duration;
import java.util.List;

/**
 * How one deployment rolls out (API.md, "Rollout strategies and hooks"): fixed from its project's
 * settings when its payload is stored, so a settings change never alters a rollout under way.
 *
 * @param strategy which targets start and switch when
 * @param canaryNodes with {@link Strategy#CANARY}, how many targets (the first by node name) go
 *     first
 * @param healthWindowS how long each node watches its health hook after it switched (0: no watch)
 * @param autoRevert whether a node failing after its switch (activate hook or health watch) turns
 *     the whole rollout back to the release before it
 */
public record RolloutPlan(Strategy strategy, int canaryNodes, int healthWindowS, boolean autoRevert)
    implements JsonSerializable {
  public static final int MAX_CANARY_NODES = 1000;
  public static final int MAX_HEALTH_WINDOW_S = 86_400;

  /** What a deployment recorded before rollouts existed did: switch at once, no watch. */
  public static final RolloutPlan LEGACY = new RolloutPlan(Strategy.ALL_AT_ONCE, 1, 0, false);

  /**
   * @throws IllegalArgumentException naming the setting out of range
   */
  public RolloutPlan {
    if (strategy == null) {
      throw new IllegalArgumentException("strategy is required");
    }
    if (canaryNodes < 1 || canaryNodes > MAX_CANARY_NODES) {
      throw new IllegalArgumentException(
          "canary_nodes must be between 1 and " + MAX_CANARY_NODES + ", not " + canaryNodes);
    }
    if (healthWindowS < 0 || healthWindowS > MAX_HEALTH_WINDOW_S) {
      throw new IllegalArgumentException(
          "health_window_s must be between 0 and "
              + MAX_HEALTH_WINDOW_S
              + ", not "
              + healthWindowS);
    }
  }

  @JsonIgnore
  public Duration healthWindow() {
    return Duration.ofSeconds(healthWindowS);
  }

  /** The targets that go first with a canary rollout: the first {@code canaryNodes} by name. */
  public List<String> canariesOf(List<String> targets) {
    return targets.stream().sorted().limit(canaryNodes).toList();
  }

  /** The gate a deployment with these targets opens with (revision 1). */
  public Gate firstGate(List<String> targets) {
    return switch (strategy) {
      case ALL_AT_ONCE -> Gate.OPEN;
      case TWO_PHASE -> new Gate(1, null, List.of(), null);
      case CANARY -> {
        List<String> canaries = canariesOf(targets);
        yield canaries.size() >= targets.size() ? Gate.OPEN : new Gate(1, canaries, canaries, null);
      }
    };
  }
}
