package dev.deployrt.deployment;

import java.util.Locale;

/** The lifecycle of a deployment (API.md, "Lifecycle"). */
public enum DeploymentStatus {
  /** Receiving the payload. */
  PENDING,
  /** Payload verified and stored; nodes applying. */
  DISTRIBUTING,
  SUCCEEDED,
  PARTIAL,
  FAILED,
  SUPERSEDED,
  /**
   * It was switched to, failed after a switch (activate hook or health watch) with auto-revert, and
   * every node that switched went back to the release before it.
   */
  REVERTED;

  public boolean isTerminal() {
    return this != PENDING && this != DISTRIBUTING;
  }

  public String apiName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The status named {@code apiName} ("succeeded"), or null. */
  public static DeploymentStatus fromApiName(String apiName) {
    for (DeploymentStatus s : values()) {
      if (s.apiName().equals(apiName)) {
        return s;
      }
    }
    return null;
  }
}
