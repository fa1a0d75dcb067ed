package dev.deployrt.async;

import java.util.concurrent.CompletionException;
import java.util.function.Predicate;

/** What a failed {@code CompletionStage} is about, for code that reports or classifies it. */
public final class Failures {
  private Failures() {}

  /**
   * The failure without the {@link CompletionException}s that stages wrap around it (any number of
   * them: each {@code thenCompose} over a failed stage may add one); {@code null} stays {@code
   * null}, and a wrapper without a cause is returned as it is.
   */
  public static Throwable cause(Throwable failure) {
    Throwable t = failure;
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /**
   * The first failure of type {@code type} along the cause chains of {@code failures} (in order),
   * or null: for a failure that arrives wrapped (by a stage, a parser, a stream) but means one
   * thing.
   */
  public static <T extends Throwable> T find(Class<T> type, Throwable... failures) {
    for (Throwable failure : failures) {
      for (Throwable t = failure; t != null; t = next(t)) {
        if (type.isInstance(t)) {
          return type.cast(t);
        }
      }
    }
    return null;
  }

  /** Whether {@code failure} or one of its causes matches {@code test}. */
  public static boolean anyCause(Throwable failure, Predicate<Throwable> test) {
    for (Throwable t = failure; t != null; t = next(t)) {
      if (test.test(t)) {
        return true;
      }
    }
    return false;
  }

  /** The innermost cause of {@code failure} (itself if it has none). */
  public static Throwable root(Throwable failure) {
    Throwable t = failure;
    while (next(t) != null) {
      t = next(t);
    }
    return t;
  }

  /** The cause of {@code t}, or null at the end of the chain. */
  private static Throwable next(Throwable t) {
    return t.getCause() == t ? null : t.getCause();
  }
}
