package dev.deployrt.fanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PieceSelectorTest {
  // origin o, replica r, then a, b, c; stripe 0's tree is a (root) over b and c, stripe 1's is b
  // (root) over c and a. The roots take their stripe from the replica.
  private final PiecePlan plan = PiecePlan.of("o", List.of("o", "r", "a", "b", "c"), true, 2);

  @Test
  void asksEachSourceForItsOwnStripeLowestPieceFirst() {
    PieceSelector b = new PieceSelector(plan, "b", 6);
    assertEquals(Map.of("a", 1, "r", 1), b.sources());
    assertEquals(OptionalInt.of(0), b.next("a"));
    assertEquals(OptionalInt.of(2), b.next("a"));
    assertEquals(OptionalInt.of(1), b.next("r"));
    b.received(0);
    b.abandoned(2);
    assertEquals(OptionalInt.of(2), b.next("a"));
    assertEquals(OptionalInt.of(4), b.next("a"));
    assertEquals(OptionalInt.empty(), b.next("a"));
    assertEquals(OptionalInt.empty(), b.next("c"));
    for (int p : new int[] {1, 2, 3, 4, 5}) {
      assertFalse(b.complete());
      b.received(p);
    }
    assertTrue(b.complete());
    assertEquals(6, b.heldCount());
  }

  @Test
  void anExcludedSourcesStripesGoUpThePlanThenToTheFallback() {
    PieceSelector b = new PieceSelector(plan, "b", 4);
    assertEquals(Set.of("r"), b.exclude("a", null));
    assertTrue(b.isExcluded("a"));
    assertEquals(Map.of("r", 2), b.sources());
    assertEquals(OptionalInt.of(0), b.next("r"));
    assertEquals(OptionalInt.empty(), b.next("a"));
    assertEquals(Set.of("o"), b.exclude("r", null));
    assertEquals(Set.of("c"), b.exclude("o", "c"));
    assertEquals(Map.of("c", 2), b.sources());
    assertEquals(OptionalInt.of(1), b.next("c"));
    assertEquals(OptionalInt.of(2), b.next("c"));
    assertEquals(Set.of(), b.exclude("c", "c"));
    assertEquals(Map.of(), b.sources());
    assertFalse(b.complete());
  }
}
