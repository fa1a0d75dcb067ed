package dev.deployrt.rollout;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** A project's rollout strategy, by its API name. */
public enum Strategy {
  /** Each node switches as soon as it has extracted (and passed its check hook). */
  ALL_AT_ONCE("all-at-once"),
  /** Every target prepares; only when all have, all switch. */
  TWO_PHASE("two-phase"),
  /** The first targets prepare, switch and pass their health watch before the others start. */
  CANARY("canary");

  private final String apiName;

  Strategy(String apiName) {
    this.apiName = apiName;
  }

  @JsonValue
  public String apiName() {
    return apiName;
  }

  /**
   * @throws IllegalArgumentException listing the strategies, for an unknown name
   */
  @JsonCreator
  public static Strategy fromApiName(String name) {
    for (Strategy s : values()) {
      if (s.apiName.equals(name)) {
        return s;
      }
    }
    throw new IllegalArgumentException(
        "strategy must be one of all-at-once, two-phase, canary, not '" + name + "'");
  }
}
