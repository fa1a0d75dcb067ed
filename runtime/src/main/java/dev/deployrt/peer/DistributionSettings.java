package dev.deployrt.peer;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * {@code deploy.distribution}: how payloads travel between nodes.
 *
 * @param timeout target nodes that have not reported within this time count as failed
 *     (NODE_TIMEOUT)
 * @param minCopies nodes that must hold a payload before its upload is acknowledged (when that many
 *     are up)
 * @param parentWait how long a fetcher waits for its fan-out parent to get the payload before it
 *     asks others
 * @param retryBackoffMin first pause after every source failed; doubles up to {@code
 *     retryBackoffMax}
 * @param retryBackoffMax longest pause between two rounds of fetch attempts
 * @param fetchBytesPerSecond bandwidth cap for one peer fetch; 0 = none
 * @param pushTimeout longest a replica push may take before the next candidate is tried
 */
public record DistributionSettings(
    Duration timeout,
    int minCopies,
    Duration parentWait,
    Duration retryBackoffMin,
    Duration retryBackoffMax,
    long fetchBytesPerSecond,
    Duration pushTimeout) {

  public static DistributionSettings fromConfig(Config deploy) {
    Config d = deploy.getConfig("distribution");
    return new DistributionSettings(
        d.getDuration("timeout"),
        d.getInt("min-copies"),
        d.getDuration("parent-wait"),
        d.getDuration("retry-backoff-min"),
        d.getDuration("retry-backoff-max"),
        d.getBytes("fetch-bytes-per-second"),
        d.getDuration("push-timeout"));
  }
}
