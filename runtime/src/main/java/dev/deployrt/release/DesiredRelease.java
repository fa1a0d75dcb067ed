package dev.deployrt.release;

import dev.deployrt.serialization.JsonSerializable;
import java.time.Instant;
import java.util.List;

/**
 * The release a project should run on every node: which deployment, and the payload it needs.
 * Between two desired releases of a project, the one whose deployment was created later wins.
 *
 * @param origin the node that stored the payload (root of the fan-out plan)
 * @param targets the nodes the deployment waits for
 * @param sourceDeploymentId for a rollback, the deployment whose release (same payload) nodes may
 *     already have extracted; null otherwise
 */
public record DesiredRelease(
    String project,
    String deploymentId,
    String sha256,
    long size,
    Instant createdAt,
    String origin,
    List<String> targets,
    String sourceDeploymentId)
    implements JsonSerializable {

  public DesiredRelease {
    targets = targets == null ? List.of() : List.copyOf(targets);
  }

  /** True if this release should replace {@code other} (created later; ties broken by id). */
  public boolean isNewerThan(DesiredRelease other) {
    int byTime = createdAt.compareTo(other.createdAt);
    return byTime != 0 ? byTime > 0 : deploymentId.compareTo(other.deploymentId) > 0;
  }
}
