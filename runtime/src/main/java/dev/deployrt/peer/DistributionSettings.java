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
 * @param pieceRelay whether a new payload travels in pieces that nodes relay while receiving
 *     ({@code PiecePlan}), rather than as whole copies along {@link FanOutPlan}
 * @param pieceBytes the size of a payload's pieces (the same on every node)
 * @param piecesInFlight requests a fetcher keeps open per stripe it asks a source for
 * @param corruptServedPieces fault injection for tests: this node flips a byte of each piece it
 *     serves
 */
public record DistributionSettings(
    Duration timeout,
    int minCopies,
    Duration parentWait,
    Duration retryBackoffMin,
    Duration retryBackoffMax,
    long fetchBytesPerSecond,
    Duration pushTimeout,
    boolean pieceRelay,
    int pieceBytes,
    int piecesInFlight,
    boolean corruptServedPieces) {

  /** Pieces travel in this many stripes (trees) of the plan. */
  public static final int STRIPES = 2;

  public static DistributionSettings fromConfig(Config deploy) {
    Config d = deploy.getConfig("distribution");
    return new DistributionSettings(
        d.getDuration("timeout"),
        d.getInt("min-copies"),
        d.getDuration("parent-wait"),
        d.getDuration("retry-backoff-min"),
        d.getDuration("retry-backoff-max"),
        d.getBytes("fetch-bytes-per-second"),
        d.getDuration("push-timeout"),
        d.getBoolean("piece-relay"),
        (int) Math.min(Integer.MAX_VALUE, d.getBytes("piece-bytes")),
        d.getInt("pieces-in-flight"),
        d.getBoolean("test.corrupt-served-pieces"));
  }
}
