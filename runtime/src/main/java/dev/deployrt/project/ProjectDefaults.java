package dev.deployrt.project;

import com.typesafe.config.Config;

/** The settings of a project that has none of its own: {@code deploy.projects.defaults}. */
public record ProjectDefaults(int keepReleases, int keepPayloads) {
  public ProjectDefaults {
    new ProjectSettings.Change(keepReleases, keepPayloads); // same ranges as a project's own
  }

  public static ProjectDefaults fromConfig(Config config) {
    Config c = config.getConfig("deploy.projects.defaults");
    return new ProjectDefaults(c.getInt("keep-releases"), c.getInt("keep-payloads"));
  }
}
