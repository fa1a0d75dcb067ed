package dev.deployrt.project;

import com.typesafe.config.Config;
import dev.deployrt.rollout.RolloutPlan;
import dev.deployrt.rollout.Strategy;

/** The settings of a project that has none of its own: {@code deploy.projects.defaults}. */
public record ProjectDefaults(int keepReleases, int keepPayloads, RolloutPlan rollout) {
  public ProjectDefaults {
    new ProjectSettings.Change(keepReleases, keepPayloads); // same ranges as a project's own
  }

  public ProjectDefaults(int keepReleases, int keepPayloads) {
    this(keepReleases, keepPayloads, new RolloutPlan(Strategy.ALL_AT_ONCE, 1, 30, true));
  }

  public static ProjectDefaults fromConfig(Config config) {
    Config c = config.getConfig("deploy.projects.defaults");
    Config r = c.getConfig("rollout");
    long window = r.getDuration("health-window").toSeconds();
    return new ProjectDefaults(
        c.getInt("keep-releases"),
        c.getInt("keep-payloads"),
        new RolloutPlan(
            Strategy.fromApiName(r.getString("strategy")),
            r.getInt("canary-nodes"),
            (int) Math.min(window, Integer.MAX_VALUE),
            r.getBoolean("auto-revert")));
  }
}
