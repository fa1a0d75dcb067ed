package dev.deployrt.hooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import org.junit.jupiter.api.Test;

class HealthWatchTest {
  /** A probe answering from a script: null passes, anything else is the failure. */
  private static HealthWatch.Probe script(String... answers) {
    Deque<String> left = new ArrayDeque<>(Arrays.asList(answers));
    return () -> left.isEmpty() ? null : "x".equals(left.peek()) ? left.pop() : nullPop(left);
  }

  private static String nullPop(Deque<String> left) {
    left.pop();
    return null;
  }

  @Test
  void failsOnceEnoughPollsInARowFailed() throws Exception {
    HealthWatch.Result r =
        HealthWatch.watch(
            script("x", "ok", "x", "x", "x"),
            Duration.ofMillis(1),
            3,
            Duration.ofMinutes(1),
            () -> false);
    assertFalse(r.healthy());
    assertEquals(5, r.polls(), "a pass in between starts the count again");
    assertEquals("x", r.reason());
  }

  @Test
  void passesWhenTheWindowEndsWithFewerFailuresInARow() throws Exception {
    HealthWatch.Result r =
        HealthWatch.watch(
            script("x", "x", "ok", "x", "x"),
            Duration.ofMillis(20),
            3,
            Duration.ofMillis(300),
            () -> false);
    assertTrue(r.healthy());
    assertTrue(r.polls() >= 5, "polled through the window: " + r.polls());
  }
}
