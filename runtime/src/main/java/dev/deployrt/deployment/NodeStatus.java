package dev.deployrt.deployment;

import java.util.Locale;

/** Where one target node stands with one deployment. Only moves forward. */
public enum NodeStatus {
  PENDING,
  FETCHING,
  EXTRACTING,
  ACTIVATING,
  ACTIVE,
  FAILED,
  SUPERSEDED;

  public boolean isTerminal() {
    return this == ACTIVE || this == FAILED || this == SUPERSEDED;
  }

  public String apiName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
