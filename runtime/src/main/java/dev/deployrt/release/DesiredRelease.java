package dev.deployrt.release;

import dev.deployrt.serialization.JsonSerializable;
import java.time.Instant;

/**
 * The release a project should run on every node: which deployment, and the payload it needs.
 * Between two desired releases of a project, the one whose deployment was created later wins.
 */
public record DesiredRelease(String project, String deploymentId, String sha256, long size, Instant createdAt)
    implements JsonSerializable {

  /** True if this release should replace {@code other} (created later; ties broken by id). */
  public boolean isNewerThan(DesiredRelease other) {
    int byTime = createdAt.compareTo(other.createdAt);
    return byTime != 0 ? byTime > 0 : deploymentId.compareTo(other.deploymentId) > 0;
  }
}
