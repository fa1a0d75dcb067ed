package dev.deployrt.applier;

import dev.deployrt.deployment.ErrorInfo;
import dev.deployrt.deployment.NodeStatus;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Where the applier sends its per-deployment progress (the deployment entity, in production). */
@FunctionalInterface
public interface NodeReporter {
  /** Must be thread-safe and must not block. */
  void report(String project, String deploymentId, NodeStatus status, ErrorInfo error);

  /**
   * As {@link #report(String, String, NodeStatus, ErrorInfo)}, saying when the node switched to the
   * release (null: it has not, or this report does not say).
   */
  default void report(
      String project, String deploymentId, NodeStatus status, ErrorInfo error, Instant switchedAt) {
    report(project, deploymentId, status, error);
  }

  /**
   * As {@link #report(String, String, NodeStatus, ErrorInfo, Instant)}, with {@code notes} (log
   * events of this node) recorded just before the report, in the same journal write where the
   * record can: what a step logged on the way to this status.
   */
  default void report(
      String project,
      String deploymentId,
      NodeStatus status,
      ErrorInfo error,
      Instant switchedAt,
      List<Note> notes) {
    notes.forEach(n -> log(deploymentId, n.type(), n.phase(), n.message(), n.data()));
    report(project, deploymentId, status, error, switchedAt);
  }

  /** A log event for a deployment, from this node ({@link #log}). */
  record Note(String type, String phase, String message, Map<String, Long> data) {}

  /**
   * A {@code log} or {@code warning} event on the deployment, from this node. Thread-safe,
   * non-blocking.
   */
  default void log(
      String deploymentId, String type, String phase, String message, Map<String, Long> data) {}

  /**
   * A prune of {@code project}'s releases on this node ended: what it kept and what it freed.
   * Thread-safe, non-blocking.
   */
  default void pruned(String project, ReleasePruner.Pruned pruned) {}
}
