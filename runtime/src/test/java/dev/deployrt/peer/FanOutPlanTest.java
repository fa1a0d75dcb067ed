package dev.deployrt.peer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class FanOutPlanTest {
  private static List<String> nodes(int n) {
    List<String> out = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      out.add(String.format("node-%02d", i));
    }
    return out;
  }

  @Test
  void theOriginServesAtMostTwoCopiesAndEveryNodeFetchesFromOneThatComesBeforeIt() {
    for (int n = 1; n <= 40; n++) {
      List<String> targets = nodes(n);
      for (String origin : targets) {
        FanOutPlan plan = FanOutPlan.of(origin, targets);
        assertEquals(n, plan.order().size());
        assertEquals(origin, plan.order().get(0));
        Map<String, Integer> served = new HashMap<>();
        int depth = 0;
        for (int i = 1; i < n; i++) {
          String node = plan.order().get(i);
          String parent = plan.parentOf(node).orElseThrow();
          assertTrue(plan.order().indexOf(parent) < i, "a parent is earlier in the order");
          served.merge(parent, 1, Integer::sum);
          int d = 0;
          for (Optional<String> p = Optional.of(node); p.isPresent(); p = plan.parentOf(p.get())) {
            d++;
          }
          depth = Math.max(depth, d - 1);
        }
        assertTrue(served.getOrDefault(origin, 0) <= 2, "origin serves " + served.get(origin));
        served.values().forEach(copies -> assertTrue(copies <= 2));
        assertTrue(
            depth <= 32 - Integer.numberOfLeadingZeros(n),
            "depth " + depth + " for " + n + " nodes");
      }
    }
  }

  @Test
  void theReplicaIsTheNodeAfterTheOriginByName() {
    FanOutPlan plan = FanOutPlan.of("node-03", nodes(5));
    assertEquals(List.of("node-03", "node-04", "node-05", "node-01", "node-02"), plan.order());
    assertEquals(Optional.empty(), plan.parentOf("node-03"));
    assertEquals(Optional.empty(), FanOutPlan.of("node-03", nodes(5)).parentOf("node-99"));
  }
}
