package dev.deployrt.readmodel;

import dev.deployrt.deployment.Deployment;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The deployments this node has recently told a client about, as it told them, kept until the read
 * model (which the projection fills about a second later) shows them at least as new. {@link
 * DeploymentQueries#list} merges them into its pages, so a client that has just had an answer to
 * {@code POST /deployments} finds that deployment in the list it asks the same node for next
 * (read-your-writes); other nodes show it once the projection wrote it.
 *
 * <p>Bounded: an entry leaves once the read model caught up with it, after {@link #TTL_MILLIS} (the
 * projection is then far behind, and the list simply shows what it has), or when more than {@link
 * #CAPACITY} are kept (the oldest first). A newer state replaces an older one (by {@link
 * Deployment#eventCount()}), never the reverse. Thread-safe.
 */
public final class RecentWrites {
  static final long TTL_MILLIS = 5 * 60 * 1000;
  static final int CAPACITY = 1000;

  private record Entry(Deployment deployment, long rememberedAt) {}

  private final ConcurrentHashMap<String, Entry> byId = new ConcurrentHashMap<>();

  /** Keeps {@code d} as this node last saw it, unless a newer state of it is kept already. */
  public void remember(Deployment d) {
    long now = System.currentTimeMillis();
    byId.merge(
        d.deploymentId(),
        new Entry(d, now),
        (old, fresh) ->
            fresh.deployment().eventCount() >= old.deployment().eventCount() ? fresh : old);
    if (byId.size() > CAPACITY) {
      byId.values().stream()
          .min(Comparator.comparingLong(Entry::rememberedAt))
          .ifPresent(oldest -> byId.remove(oldest.deployment().deploymentId(), oldest));
    }
  }

  /** What is kept now, dropping what has expired. */
  List<Deployment> snapshot() {
    long expired = System.currentTimeMillis() - TTL_MILLIS;
    byId.values().removeIf(e -> e.rememberedAt() < expired);
    return byId.values().stream().map(Entry::deployment).toList();
  }

  /**
   * Forgets the deployment once the read model's {@code row} is at least as new as what is kept.
   */
  void caughtUp(Deployment row) {
    byId.computeIfPresent(
        row.deploymentId(), (id, e) -> e.deployment().eventCount() <= row.eventCount() ? null : e);
  }
}
