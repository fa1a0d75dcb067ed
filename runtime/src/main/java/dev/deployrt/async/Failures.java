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

  /**
   * The first failure of type {@code type} along the cause chains of {@code failures} (in order), or
   * null: for a failure that arrives wrapped (by a stage, a parser, a stream) but means one thing.
   */
  public static <T extends Throwable> T find(Class<T> type, Throwable... failures) {
    for (Throwable failure : failures) {
      for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
        if (type.isInstance(t)) {
          return type.cast(t);
        }
      }
    }
    return null;
  }
}
