package dev.deployrt.project;

import dev.deployrt.rollout.RolloutPlan;
import dev.deployrt.rollout.Strategy;
import java.time.Instant;

/**
 * One project's settings as they apply now: each value is the project's own or, where it has none,
 * the default ({@code deploy.projects.defaults}). {@code updatedBy}/{@code updatedAt} say who last
 * changed them and when (null while the project has only defaults).
 *
 * @param keepReleases release directories each node keeps: the newest that were active
 * @param keepPayloads deployments whose payloads the cluster keeps: the newest
 * @param rollout how its deployments roll out (fixed on each when its payload is stored)
 */
public record ProjectSettings(
    String project,
    int keepReleases,
    int keepPayloads,
    RolloutPlan rollout,
    String updatedBy,
    Instant updatedAt) {
  public static final int MIN_KEEP_RELEASES = 2;
  public static final int MIN_KEEP_PAYLOADS = 1;
  public static final int MAX_KEEP = 10_000;

  /** What a change gives: null leaves a setting as it is. */
  public record Change(Integer keepReleases, Integer keepPayloads, RolloutChange rollout) {
    /**
     * @throws IllegalArgumentException naming the setting out of range
     */
    public Change {
      check("keep_releases", keepReleases, MIN_KEEP_RELEASES);
      check("keep_payloads", keepPayloads, MIN_KEEP_PAYLOADS);
      rollout = rollout == null ? RolloutChange.NONE : rollout;
    }

    public Change(Integer keepReleases, Integer keepPayloads) {
      this(keepReleases, keepPayloads, null);
    }

    private static void check(String name, Integer value, int min) {
      if (value != null && (value < min || value > MAX_KEEP)) {
        throw new IllegalArgumentException(
            name + " must be between " + min + " and " + MAX_KEEP + ", not " + value);
      }
    }
  }

  /** A change of the rollout settings: null leaves a setting as it is. */
  public record RolloutChange(
      Strategy strategy, Integer canaryNodes, Integer healthWindowS, Boolean autoRevert) {
    public static final RolloutChange NONE = new RolloutChange(null, null, null, null);

    /**
     * @throws IllegalArgumentException naming the setting out of range
     */
    public RolloutChange {
      merge(RolloutPlan.LEGACY, strategy, canaryNodes, healthWindowS, autoRevert);
    }

    /** {@code plan} with this change's settings. */
    public RolloutPlan applyTo(RolloutPlan plan) {
      return merge(plan, strategy, canaryNodes, healthWindowS, autoRevert);
    }

    private static RolloutPlan merge(
        RolloutPlan plan,
        Strategy strategy,
        Integer canaryNodes,
        Integer healthWindowS,
        Boolean autoRevert) {
      return new RolloutPlan(
          strategy != null ? strategy : plan.strategy(),
          canaryNodes != null ? canaryNodes : plan.canaryNodes(),
          healthWindowS != null ? healthWindowS : plan.healthWindowS(),
          autoRevert != null ? autoRevert : plan.autoRevert());
    }
  }
}
