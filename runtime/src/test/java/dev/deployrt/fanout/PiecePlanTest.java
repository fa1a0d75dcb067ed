package dev.deployrt.fanout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PiecePlanTest {

  private static List<String> nodes(int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(String.format("n%03d", i));
    }
    return out;
  }

  @Test
  void everyNodeGetsEveryStripeFromAChainThatEndsAtTheOrigin() {
    for (int n = 1; n <= 40; n++) {
      for (int k = 1; k <= 3; k++) {
        for (boolean replica : new boolean[] {true, false}) {
          List<String> targets = nodes(n);
          PiecePlan plan = PiecePlan.of("n000", targets, replica, k);
          assertEquals(targets, plan.order());
          for (String node : targets.subList(1, n)) {
            for (int s = 0; s < k; s++) {
              int depth = plan.depthOf(node, s);
              assertTrue(depth >= 1 && depth < n, node + " stripe " + s + " depth " + depth);
              String top = node;
              for (Optional<String> at = plan.sourceOf(node, s);
                  at.isPresent();
                  at = plan.sourceOf(at.get(), s)) {
                top = at.get();
              }
              assertEquals("n000", top);
              String source = plan.sourceOf(node, s).orElseThrow();
              assertTrue(plan.receiversOf(source, s).contains(node));
            }
          }
          assertEquals(Optional.empty(), plan.sourceOf("n000", 0));
        }
      }
    }
  }

  @Test
  void theOriginSendsOneCopyAndNoOtherNodeMoreThanOne() {
    for (int n = 2; n <= 200; n += 7) {
      for (int k = 1; k <= 4; k++) {
        for (boolean replica : new boolean[] {true, false}) {
          PiecePlan plan = PiecePlan.of("n000", nodes(n), replica, k);
          for (String node : plan.order()) {
            double copies = 0;
            for (int s = 0; s < k; s++) {
              copies += plan.receiversOf(node, s).size() / (double) k;
            }
            if (node.equals("n000")) {
              assertEquals(1.0, copies, 1e-9, "origin, n=" + n + " k=" + k);
            } else {
              // k = 2 keeps the trees' relays apart; a larger k may make a node relay in two trees
              double most = k <= 2 ? 1.0 : 2.0;
              assertTrue(copies <= most + 1e-9, node + " sends " + copies + " copies, n=" + n);
            }
          }
        }
      }
    }
  }

  @Test
  void aNodeThatRelaysInOneStripeIsALeafInTheOthers() {
    int k = 2;
    PiecePlan plan = PiecePlan.of("n000", nodes(101), true, k);
    for (String node : plan.order().subList(2, 101)) {
      int relaying = 0;
      for (int s = 0; s < k; s++) {
        relaying += plan.receiversOf(node, s).isEmpty() ? 0 : 1;
      }
      assertTrue(relaying <= 1, node + " relays in " + relaying + " stripes");
    }
  }

  @Test
  void theTreesAreLogarithmicallyDeep() {
    PiecePlan plan = PiecePlan.of("n000", nodes(1000), true, 2);
    int deepest = 0;
    for (String node : plan.order().subList(1, 1000)) {
      for (int s = 0; s < 2; s++) {
        deepest = Math.max(deepest, plan.depthOf(node, s));
      }
    }
    // origin -> replica -> a tree of 998 nodes, 10 levels deep (2^10 = 1024)
    assertEquals(11, deepest);
  }

  @Test
  void theReplicaTakesEverythingFromTheOrigin() {
    PiecePlan plan = PiecePlan.of("n002", nodes(5), true, 2);
    assertEquals(List.of("n002", "n003", "n004", "n000", "n001"), plan.order());
    assertEquals(Optional.of("n003"), plan.replica());
    assertEquals(Optional.of("n002"), plan.sourceOf("n003", 0));
    assertEquals(Optional.of("n002"), plan.sourceOf("n003", 1));
    assertEquals(List.of("n003"), plan.receiversOf("n002", 1));
    assertFalse(PiecePlan.of("n002", nodes(5), false, 2).replica().isPresent());
  }
}
