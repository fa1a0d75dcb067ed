package dev.deployrt.async;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class FailuresTest {
  @Test
  void theCauseIsFoundUnderEveryWrapperAStageAdds() {
    IOException root = new IOException("disk full");
    Throwable[] seen = new Throwable[1];
    CompletableFuture.<String>failedFuture(root)
        .thenCompose(s -> CompletableFuture.completedFuture(s))
        .thenApply(String::length)
        .exceptionally(
            e -> {
              seen[0] = new CompletionException(e);
              return 0;
            })
        .join();
    assertSame(root, Failures.cause(seen[0]));
    assertSame(root, Failures.cause(root));
  }

  @Test
  void nullAndAWrapperWithoutCauseStayAsTheyAre() {
    assertNull(Failures.cause(null));
    CompletionException bare = new CompletionException("no cause", null);
    assertSame(bare, Failures.cause(bare));
  }
}
