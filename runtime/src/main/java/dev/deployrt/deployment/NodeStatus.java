package dev.deployrt.deployment;

import java.util.Locale;

/**
 * Where one target node stands with one deployment (API.md, "Per node"). Only moves forward (in
 * declaration order), with one exception: once the rollout is being reverted, a node that had
 * switched ({@link #ACTIVE}, or {@link #FAILED} after its switch) moves on to {@link #REVERTED}.
 */
public enum NodeStatus {
  PENDING,
  FETCHING,
  EXTRACTING,
  /** Running its check hook. */
  CHECKING,
  /** Fetched, extracted and checked; waiting for the two-phase switch order. */
  PREPARED,
  ACTIVATING,
  /** Switched; watching its health hook for the health window. */
  WATCHING,
  ACTIVE,
  FAILED,
  SUPERSEDED,
  /** Prepared (or on its way), but the rollout stopped before this node switched. */
  ABORTED,
  /** Switched to the release, then back to the one before it when the rollout was reverted. */
  REVERTED;

  public boolean isTerminal() {
    return ordinal() >= ACTIVE.ordinal();
  }

  /** True if a node in this status may have switched {@code current} to the release. */
  public boolean mayHaveSwitched() {
    return this == ACTIVATING || this == WATCHING || this == ACTIVE;
  }

  public String apiName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
