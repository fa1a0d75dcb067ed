package dev.deployrt.release;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.deployrt.rollout.Gate;
import dev.deployrt.rollout.RolloutPlan;
import dev.deployrt.serialization.JsonSerializable;
import java.time.Instant;
import java.util.List;

/**
 * The release a project should run on every node: which deployment, the payload it needs, and how
 * far its rollout lets each node go. Between two desired releases of a project, the one whose
 * deployment was created later wins; between two of the same deployment, the later gate revision.
 *
 * @param origin the node that stored the payload (root of the fan-out plan)
 * @param targets the nodes the deployment waits for
 * @param sourceDeploymentId for a rollback, the deployment whose release (same payload) nodes may
 *     already have extracted; null otherwise
 * @param rollout how the deployment rolls out
 * @param gate which nodes may start and switch now, or that the rollout stopped
 * @param previous the project's release before this one (without its own {@code previous}): what
 *     nodes run while this one may not be switched to, and what a revert goes back to; null if none
 */
public record DesiredRelease(
    String project,
    String deploymentId,
    String sha256,
    long size,
    Instant createdAt,
    String origin,
    List<String> targets,
    String sourceDeploymentId,
    RolloutPlan rollout,
    Gate gate,
    DesiredRelease previous)
    implements JsonSerializable {

  public DesiredRelease {
    targets = targets == null ? List.of() : List.copyOf(targets);
    rollout = rollout == null ? RolloutPlan.LEGACY : rollout;
    gate = gate == null ? Gate.OPEN : gate;
  }

  /** An all-at-once release without a health watch. */
  public DesiredRelease(
      String project,
      String deploymentId,
      String sha256,
      long size,
      Instant createdAt,
      String origin,
      List<String> targets,
      String sourceDeploymentId) {
    this(
        project,
        deploymentId,
        sha256,
        size,
        createdAt,
        origin,
        targets,
        sourceDeploymentId,
        null,
        null,
        null);
  }

  /** True if this release should replace {@code other} (created later; ties broken by id). */
  public boolean isNewerThan(DesiredRelease other) {
    int byTime = createdAt.compareTo(other.createdAt);
    if (byTime != 0) {
      return byTime > 0;
    }
    int byId = deploymentId.compareTo(other.deploymentId);
    return byId != 0 ? byId > 0 : gate.revision() > other.gate.revision();
  }

  public boolean isSameDeployment(DesiredRelease other) {
    return other != null && deploymentId.equals(other.deploymentId);
  }

  /** This release, following {@code before} (the release it replaces in the register). */
  public DesiredRelease after(DesiredRelease before) {
    DesiredRelease prev = before == null ? null : before.current();
    if (prev != null && prev.deploymentId.equals(deploymentId)) {
      prev = before.previous;
    }
    return new DesiredRelease(
        project,
        deploymentId,
        sha256,
        size,
        createdAt,
        origin,
        targets,
        sourceDeploymentId,
        rollout,
        gate,
        prev == null ? null : prev.alone());
  }

  /**
   * The release the project runs now, as a whole: this one once every node may switch to it, else
   * the one before it (null if none).
   */
  @JsonIgnore
  public DesiredRelease current() {
    return gate.isOpen() ? alone() : previous;
  }

  /**
   * The releases whose payloads must stay because of this entry: this one and, until every node may
   * switch to it, the one before it (which nodes run while the rollout has not let them switch, or
   * after it stopped).
   */
  @JsonIgnore
  public List<DesiredRelease> inUse() {
    return previous == null || gate.isOpen() ? List.of(this) : List.of(this, previous);
  }

  /** This release on its own: open, with no previous release. */
  private DesiredRelease alone() {
    return previous == null && gate.isOpen()
        ? this
        : new DesiredRelease(
            project,
            deploymentId,
            sha256,
            size,
            createdAt,
            origin,
            targets,
            sourceDeploymentId,
            rollout,
            Gate.OPEN,
            null);
  }
}
