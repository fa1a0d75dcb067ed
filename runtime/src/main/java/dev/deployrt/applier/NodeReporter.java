package dev.deployrt.applier;

import dev.deployrt.deployment.ErrorInfo;
import dev.deployrt.deployment.NodeStatus;

/** Where the applier sends its per-deployment progress (the deployment entity, in production). */
@FunctionalInterface
public interface NodeReporter {
  /** Must be thread-safe and must not block. */
  void report(String deploymentId, NodeStatus status, ErrorInfo error);
}
