package dev.deployrt.peer;

import dev.deployrt.fanout.PiecePlan;
import java.util.List;
import java.util.Optional;

/**
 * Who fetches a new payload from whom, so that the origin is not the only source (peer-assisted
 * fan-out, in the manner of Kraken and Dragonfly, at whole-blob granularity).
 *
 * <p>The target nodes are put in a fixed order: the origin first, then the others by name, starting
 * after the origin. The node at position 1 is the <em>replica</em>: the origin pushes the payload
 * to it (while the others start fetching) and acknowledges the upload only then, so the bytes
 * survive the loss of the origin; the replica waits for that push instead of fetching. The others
 * form a binary tree over that order: position {@code i} fetches from position {@code (i - 1) / 2}.
 * The origin thus serves two copies (the replica and position 2) whatever the cluster size, the
 * replica two more, and so on; the tree is {@code log2(n)} deep.
 *
 * <p>The plan is a preference, not a rule: a fetcher whose parent fails falls back to any node that
 * holds the verified payload ({@link PeerBlobFetcher}).
 */
public final class FanOutPlan {
  private final List<String> order;

  private FanOutPlan(List<String> order) {
    this.order = order;
  }

  public static FanOutPlan of(String origin, List<String> targets) {
    return new FanOutPlan(List.copyOf(PiecePlan.orderFrom(origin, targets)));
  }

  public List<String> order() {
    return order;
  }

  /**
   * The node {@code node} should fetch from; empty for the origin and for nodes outside the plan.
   */
  public Optional<String> parentOf(String node) {
    int i = order.indexOf(node);
    return i <= 0 ? Optional.empty() : Optional.of(order.get((i - 1) / 2));
  }
}
