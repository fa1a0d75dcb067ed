package dev.deployrt.peer;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.LWWMapKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;

/**
 * The cluster's directory of nodes: every node's {@link PeerState} (API endpoint, payloads held,
 * project progress), in Distributed Data (an LWWMap keyed by node name; each node writes only its
 * own entry, so there are no conflicting writers).
 *
 * <p>Reads are lock-free from any thread through {@link #snapshot()}, which is what blocking code
 * (blob fetches) and HTTP routes need. Writes go through the node's own directory actor, which
 * pushes them to all reachable nodes at once and lets gossip reach the rest. The directory is soft
 * state: a restarted node rebuilds its entry from its disk (blob store, release directories).
 */
public final class PeerDirectory {
  public static final Key<LWWMap<String, PeerState>> KEY = LWWMapKey.create("peer-directory");

  private final String self;
  private final AtomicReference<Map<String, PeerState>> snapshot = new AtomicReference<>(Map.of());
  private final ActorRef<Update> writer;

  private record Update(UnaryOperator<PeerState> change) {}

  private PeerDirectory(ActorSystem<?> system, String self, Duration writeTimeout) {
    this.self = self;
    this.writer =
        system.systemActorOf(writer(self, writeTimeout, snapshot), "peer-directory", Props.empty());
  }

  public static PeerDirectory start(ActorSystem<?> system, String selfNode, Duration writeTimeout) {
    return new PeerDirectory(system, selfNode, writeTimeout);
  }

  /**
   * Every node's last known state, by node name (including nodes that have left: filter by
   * membership).
   */
  public Map<String, PeerState> snapshot() {
    return snapshot.get();
  }

  public PeerState peer(String node) {
    return snapshot.get().getOrDefault(node, PeerState.EMPTY);
  }

  /** Changes this node's entry. Applied in order; never blocks. */
  public void updateSelf(UnaryOperator<PeerState> change) {
    writer.tell(new Update(change));
  }

  public String self() {
    return self;
  }

  private static Behavior<Update> writer(
      String self, Duration writeTimeout, AtomicReference<Map<String, PeerState>> snapshot) {
    return Behaviors.<Object>setup(
            ctx ->
                DistributedData.withReplicatorMessageAdapter(
                    (ReplicatorMessageAdapter<Object, LWWMap<String, PeerState>> replicator) -> {
                      SelfUniqueAddress node =
                          DistributedData.get(ctx.getSystem()).selfUniqueAddress();
                      replicator.subscribe(KEY, changed -> changed);
                      PeerState[] mine = {PeerState.EMPTY};
                      Replicator.WriteConsistency writeAll = new Replicator.WriteAll(writeTimeout);
                      return Behaviors.receive(Object.class)
                          .onMessage(
                              Update.class,
                              update -> {
                                mine[0] = update.change().apply(mine[0]);
                                PeerState value = mine[0];
                                replicator.askUpdate(
                                    askReplyTo ->
                                        new Replicator.Update<>(
                                            KEY,
                                            LWWMap.empty(),
                                            writeAll,
                                            askReplyTo,
                                            map -> map.put(node, self, value)),
                                    rsp -> rsp);
                                return Behaviors.same();
                              })
                          .onMessage(
                              Replicator.Changed.class,
                              changed -> {
                                @SuppressWarnings("unchecked")
                                LWWMap<String, PeerState> map =
                                    (LWWMap<String, PeerState>) changed.get(KEY);
                                snapshot.set(Map.copyOf(map.getEntries()));
                                return Behaviors.same();
                              })
                          .onMessage(Replicator.UpdateResponse.class, rsp -> Behaviors.same())
                          .onMessage(Replicator.SubscribeResponse.class, rsp -> Behaviors.same())
                          .build();
                    }))
        .narrow();
  }
}
