package dev.deployrt.fanout;

import java.util.BitSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Which piece one fetching node asks which source for next. Each stripe has one source at a time,
 * at first the one its {@link PiecePlan} names; pieces are asked for lowest first, so a relay that
 * is itself still receiving is asked for what it is most likely to hold already. A source that
 * failed or served a bad piece is excluded for the rest of the payload and its stripes go to the
 * node it was taking them from, or, past the top of the plan, to whichever holder the caller names.
 *
 * <p>Not thread-safe: one fetch owns it.
 */
public final class PieceSelector {
  private final PiecePlan plan;
  private final String self;
  private final int pieceCount;
  private final BitSet held;
  private final BitSet inFlight = new BitSet();
  private final String[] sourceOfStripe;
  private final Set<String> excluded = new HashSet<>();

  /**
   * @param self the fetching node, a target of {@code plan} other than its origin
   * @param pieceCount how many pieces the payload has
   */
  public PieceSelector(PiecePlan plan, String self, int pieceCount) {
    this.plan = plan;
    this.self = self;
    this.pieceCount = pieceCount;
    this.held = new BitSet(pieceCount);
    this.sourceOfStripe = new String[plan.stripes()];
    for (int s = 0; s < plan.stripes(); s++) {
      sourceOfStripe[s] = plan.sourceOf(self, s).orElse(null);
    }
  }

  /** The sources asked now, each with how many stripes it serves, in stripe order. */
  public Map<String, Integer> sources() {
    Map<String, Integer> out = new LinkedHashMap<>();
    for (String source : sourceOfStripe) {
      if (source != null) {
        out.merge(source, 1, Integer::sum);
      }
    }
    return out;
  }

  /**
   * The lowest piece that {@code source} is now asked for and that is neither held nor in flight,
   * marked in flight; empty when there is none.
   */
  public OptionalInt next(String source) {
    for (int p = held.nextClearBit(0); p < pieceCount; p = held.nextClearBit(p + 1)) {
      if (!inFlight.get(p) && source.equals(sourceOfStripe[plan.stripeOf(p)])) {
        inFlight.set(p);
        return OptionalInt.of(p);
      }
    }
    return OptionalInt.empty();
  }

  /** Piece {@code piece} was verified and written. */
  public void received(int piece) {
    inFlight.clear(piece);
    held.set(piece);
  }

  /** The request for {@code piece} ended without it: the piece is wanted again. */
  public void abandoned(int piece) {
    inFlight.clear(piece);
  }

  /**
   * Stops asking {@code source} (it failed or served a bad piece): each stripe it served goes to
   * the first node above it in that stripe's plan that is not excluded, else to {@code fallback}
   * (null: none for now). Returns the sources that took over, in stripe order.
   */
  public Set<String> exclude(String source, String fallback) {
    excluded.add(source);
    Set<String> replacements = new LinkedHashSet<>();
    for (int s = 0; s < sourceOfStripe.length; s++) {
      if (source.equals(sourceOfStripe[s])) {
        String next = plan.sourceOf(source, s).orElse(null);
        // A fallback that took over a stripe may sit below this node in that stripe's tree: going
        // up from it passes this node, which cannot serve itself.
        while (next != null && (excluded.contains(next) || next.equals(self))) {
          next = plan.sourceOf(next, s).orElse(null);
        }
        if (next == null && fallback != null && !excluded.contains(fallback)) {
          next = fallback;
        }
        sourceOfStripe[s] = next;
        if (next != null) {
          replacements.add(next);
        }
      }
    }
    return replacements;
  }

  public boolean isExcluded(String node) {
    return excluded.contains(node);
  }

  public boolean complete() {
    return held.cardinality() == pieceCount;
  }

  public int heldCount() {
    return held.cardinality();
  }
}
