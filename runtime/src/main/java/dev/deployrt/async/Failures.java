package dev.deployrt.async;

import java.util.concurrent.CompletionException;

/** What a failed {@code CompletionStage} is about, for code that reports or classifies it. */
public final class Failures {
  private Failures() {
  }

  /**
   * The failure without the {@link CompletionException}s that stages wrap around it (any number of
   * them: each {@code thenCompose} over a failed stage may add one); {@code null} stays {@code null},
   * and a wrapper without a cause is returned as it is.
   */
  public static Throwable cause(Throwable failure) {
    Throwable t = failure;
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
