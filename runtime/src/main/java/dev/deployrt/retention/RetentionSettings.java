package dev.deployrt.retention;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * How payload retention talks to the cluster ({@code deploy.projects.retention}): how long a pass
 * waits for the history to catch up with the journal, and for a deployment record to answer.
 */
public record RetentionSettings(Duration historyWait, Duration askTimeout) {
  public static RetentionSettings fromConfig(Config config) {
    Config c = config.getConfig("deploy.projects.retention");
    return new RetentionSettings(c.getDuration("history-wait"), c.getDuration("ask-timeout"));
  }
}
