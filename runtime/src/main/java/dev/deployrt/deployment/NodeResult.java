package dev.deployrt.deployment;

import dev.deployrt.serialization.JsonSerializable;
import java.time.Instant;

/**
 * One target node's status for a deployment; {@code error} is set when it failed; {@code
 * switchedAt} is when the node switched its {@code current} to the release (its own clock), null if
 * it did not or has not said.
 */
public record NodeResult(NodeStatus status, Instant updatedAt, ErrorInfo error, Instant switchedAt)
    implements JsonSerializable {
  public NodeResult(NodeStatus status, Instant updatedAt, ErrorInfo error) {
    this(status, updatedAt, error, null);
  }

  /** True if the node switched to the release and has not been reverted. */
  boolean awaitsRevert() {
    return status.mayHaveSwitched() || (status == NodeStatus.FAILED && switchedAt != null);
  }
}
