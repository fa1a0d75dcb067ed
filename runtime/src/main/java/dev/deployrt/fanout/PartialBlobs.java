package dev.deployrt.fanout;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The payloads this node is receiving piece by piece, by digest: where its server finds the pieces
 * it can relay before the whole payload is here. A request for a payload whose fetch has not begun
 * yet can wait for it to begin ({@link #whenStarted}).
 */
public final class PartialBlobs {
  private final Map<String, PartialBlob> receiving = new HashMap<>();
  private final Map<String, List<CompletableFuture<PartialBlob>>> waiting = new HashMap<>();

  /** Makes {@code partial} visible to relays until {@link #remove}. */
  public void add(PartialBlob partial) {
    List<CompletableFuture<PartialBlob>> woken;
    synchronized (this) {
      receiving.put(partial.manifest().sha256(), partial);
      woken = waiting.remove(partial.manifest().sha256());
    }
    if (woken != null) {
      woken.forEach(f -> f.complete(partial));
    }
  }

  public synchronized void remove(PartialBlob partial) {
    receiving.remove(partial.manifest().sha256(), partial);
  }

  public synchronized Optional<PartialBlob> find(String sha256) {
    return Optional.ofNullable(receiving.get(sha256));
  }

  /**
   * Completes with the partial blob of {@code sha256} once its fetch has begun (at once if it has).
   * Callers bound the wait themselves (e.g. {@code orTimeout} on the stage returned); waits that
   * ended are dropped at the next call.
   */
  public synchronized CompletionStage<PartialBlob> whenStarted(String sha256) {
    PartialBlob now = receiving.get(sha256);
    if (now != null) {
      return CompletableFuture.completedFuture(now);
    }
    waiting.values().forEach(list -> list.removeIf(CompletableFuture::isDone));
    waiting.values().removeIf(List::isEmpty);
    CompletableFuture<PartialBlob> f = new CompletableFuture<>();
    waiting.computeIfAbsent(sha256, k -> new ArrayList<>()).add(f);
    return f;
  }
}
