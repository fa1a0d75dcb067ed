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
  SUPERSEDED;

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
