package dev.deployrt.project;

import java.time.Instant;

/**
 * One project's settings as they apply now: each value is the project's own or, where it has none,
 * the default ({@code deploy.projects.defaults}). {@code updatedBy}/{@code updatedAt} say who last
 * changed them and when (null while the project has only defaults).
 *
 * @param keepReleases release directories each node keeps: the newest that were active
 * @param keepPayloads deployments whose payloads the cluster keeps: the newest
 */
public record ProjectSettings(
    String project, int keepReleases, int keepPayloads, String updatedBy, Instant updatedAt) {
  public static final int MIN_KEEP_RELEASES = 2;
  public static final int MIN_KEEP_PAYLOADS = 1;
  public static final int MAX_KEEP = 10_000;

  /** What a change gives: null leaves a setting as it is. */
  public record Change(Integer keepReleases, Integer keepPayloads) {
    /**
     * @throws IllegalArgumentException naming the setting out of range
     */
    public Change {
      check("keep_releases", keepReleases, MIN_KEEP_RELEASES);
      check("keep_payloads", keepPayloads, MIN_KEEP_PAYLOADS);
    }

    private static void check(String name, Integer value, int min) {
      if (value != null && (value < min || value > MAX_KEEP)) {
        throw new IllegalArgumentException(
            name + " must be between " + min + " and " + MAX_KEEP + ", not " + value);
      }
    }
  }
}
