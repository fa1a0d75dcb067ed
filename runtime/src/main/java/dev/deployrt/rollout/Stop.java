package dev.deployrt.rollout;

/** Why a rollout stopped before its release became every node's. */
public enum Stop {
  /**
   * A target failed before the switch (two-phase), or a canary failed without auto-revert: nodes
   * that had not switched never will; nodes that had switched stay as they are.
   */
  ABORTED,
  /** A node failed after its switch with auto-revert: every node that switched goes back. */
  REVERTED
}
