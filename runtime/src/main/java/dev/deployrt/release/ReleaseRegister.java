package dev.deployrt.release;

import dev.deployrt.serialization.JsonSerializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWMap;
import org.apache.pekko.cluster.ddata.LWWMapKey;
import org.apache.pekko.cluster.ddata.LWWRegister;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;
import org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter;

/**
 * The cluster-wide register of desired releases, one per project, in Distributed Data (an LWWMap
 * keyed by project). One register actor runs per node; every node's applier subscribes to it.
 *
 * <p>Guarantees: a release replaces the one registered only if its deployment was created later
 * ({@link DesiredRelease#isNewerThan}); the LWW timestamp is derived from that creation time, so
 * concurrent writes on different nodes resolve the same way everywhere. {@link Publish} answers
 * {@link Published} once the write reached every reachable node (written to all at once, so no
 * applier waits for gossip; if some node did not answer in time, it is applied locally and
 * spreading by gossip), or {@link Superseded} when a newer release was already registered. This
 * node's subscribers hear of a release it publishes at once; other nodes' as soon as the write
 * reached them (this register then asks theirs to flush, {@link FlushChanges}), or at the latest
 * within their replicator's {@code notify-subscribers-interval} of receiving it.
 *
 * <p>Durability: every published release is also written to the {@link ReleaseStore} (off the
 * actor), as the register holds it (with the release before it), and a starting node seeds the
 * register from it ({@link Seed}), so what each project should run, and what a revert goes back to,
 * survives a restart of the whole cluster. A node's own publishes can wait for its seed ({@link
 * #create(Duration, Consumer, boolean)}).
 */
public final class ReleaseRegister {
  public static final Key<LWWMap<String, DesiredRelease>> KEY =
      LWWMapKey.create("desired-releases");

  public sealed interface Command {}

  /** Registers {@code release} as its project's desired release, unless a newer one is there. */
  public record Publish(DesiredRelease release, ActorRef<PublishResult> replyTo)
      implements Command {}

  /**
   * {@code subscriber} receives the whole register now and after every change, until it stops or
   * unsubscribes.
   */
  public record Subscribe(ActorRef<Map<String, DesiredRelease>> subscriber) implements Command {}

  public record Unsubscribe(ActorRef<Map<String, DesiredRelease>> subscriber) implements Command {}

  private record SubscriberStopped(ActorRef<Map<String, DesiredRelease>> subscriber)
      implements Command {}

  public record GetAll(ActorRef<Map<String, DesiredRelease>> replyTo) implements Command {}

  /**
   * Releases read from the {@link ReleaseStore} at start; each is registered unless a newer one is.
   */
  public record Seed(List<DesiredRelease> releases) implements Command {}

  public sealed interface PublishResult extends JsonSerializable {}

  public record Published(DesiredRelease release) implements PublishResult {}

  public record Superseded(DesiredRelease release, DesiredRelease newer) implements PublishResult {}

  private record UpdateDone(Publish publish) implements Command {}

  /**
   * From another node's register, once a release it published reached every node: tell this node's
   * subscribers now rather than at the replicator's next notify tick (so every applier hears of a
   * rollout's switch order within about one network hop of the others).
   */
  public record FlushChanges(String from) implements Command, JsonSerializable {}

  /** Every node's register, from the receptionist. */
  public static final ServiceKey<Command> SERVICE_KEY =
      ServiceKey.create(Command.class, "release-register");

  private record RegistersChanged(Receptionist.Listing listing) implements Command {}

  private record Seeded() implements Command {}

  private record ReadForPublish(
      Publish publish, Replicator.GetResponse<LWWMap<String, DesiredRelease>> rsp)
      implements Command {}

  private record Changed(Replicator.SubscribeResponse<LWWMap<String, DesiredRelease>> rsp)
      implements Command {}

  private record ReadForReply(
      ActorRef<Map<String, DesiredRelease>> replyTo,
      Replicator.GetResponse<LWWMap<String, DesiredRelease>> rsp)
      implements Command {}

  private ReleaseRegister() {}

  /**
   * @param persist called with each release this node publishes (after the register accepted it);
   *     must not block
   */
  public static Behavior<Command> create(Duration writeTimeout, Consumer<DesiredRelease> persist) {
    return create(writeTimeout, persist, false);
  }

  /**
   * @param publishAfterSeed hold every {@link Publish} until the {@link Seed} came (which must then
   *     come, empty if the store could not be read): a deployment record that recovers before its
   *     node read the store then links its release to the stored entry, with the release before it,
   *     instead of registering it with none (after a full-cluster restart, a revert would otherwise
   *     have nothing to go back to)
   */
  public static Behavior<Command> create(
      Duration writeTimeout, Consumer<DesiredRelease> persist, boolean publishAfterSeed) {
    return Behaviors.setup(
        ctx ->
            DistributedData.withReplicatorMessageAdapter(
                (ReplicatorMessageAdapter<Command, LWWMap<String, DesiredRelease>> replicator) ->
                    new Running(ctx, replicator, writeTimeout, persist, !publishAfterSeed)
                        .behavior()));
  }

  /** The register on this node: its replicator, its subscribers and the map as last seen. */
  private static final class Running {
    private final ActorContext<Command> ctx;
    private final ReplicatorMessageAdapter<Command, LWWMap<String, DesiredRelease>> replicator;
    private final Consumer<DesiredRelease> persist;
    private final SelfUniqueAddress self;
    private final ActorRef<Replicator.Command> localReplicator;
    private final Replicator.WriteConsistency write;
    private final List<ActorRef<Map<String, DesiredRelease>>> subscribers = new ArrayList<>();
    private Set<ActorRef<Command>> registers = Set.of();
    private Map<String, DesiredRelease> current = Map.of();

    /** False until the seed came, if publishes wait for it; meanwhile they wait in {@code held}. */
    private boolean seeded;

    private final List<Publish> held = new ArrayList<>();

    Running(
        ActorContext<Command> ctx,
        ReplicatorMessageAdapter<Command, LWWMap<String, DesiredRelease>> replicator,
        Duration writeTimeout,
        Consumer<DesiredRelease> persist,
        boolean seeded) {
      this.ctx = ctx;
      this.seeded = seeded;
      this.replicator = replicator;
      this.persist = persist;
      this.self = DistributedData.get(ctx.getSystem()).selfUniqueAddress();
      this.localReplicator = DistributedData.get(ctx.getSystem()).replicator();
      this.write = new Replicator.WriteAll(writeTimeout);
      replicator.subscribe(KEY, Changed::new);
      ActorRef<Receptionist.Listing> listings =
          ctx.messageAdapter(Receptionist.Listing.class, RegistersChanged::new);
      ctx.getSystem().receptionist().tell(Receptionist.register(SERVICE_KEY, ctx.getSelf()));
      ctx.getSystem().receptionist().tell(Receptionist.subscribe(SERVICE_KEY, listings));
    }

    Behavior<Command> behavior() {
      return Behaviors.receive(Command.class)
          .onMessage(Publish.class, this::onPublish)
          .onMessage(UpdateDone.class, this::onUpdateDone)
          .onMessage(ReadForPublish.class, this::onReadForPublish)
          .onMessage(Subscribe.class, this::onSubscribe)
          .onMessage(Unsubscribe.class, this::onUnsubscribe)
          .onMessage(
              SubscriberStopped.class,
              stopped -> {
                subscribers.remove(stopped.subscriber());
                return Behaviors.same();
              })
          .onMessage(Seed.class, this::onSeed)
          .onMessage(Seeded.class, seeded -> Behaviors.same())
          .onMessage(GetAll.class, this::onGetAll)
          .onMessage(
              ReadForReply.class,
              read -> {
                read.replyTo().tell(entries(read.rsp()));
                return Behaviors.same();
              })
          .onMessage(Changed.class, this::onChanged)
          .onMessage(
              RegistersChanged.class,
              changed -> {
                registers = changed.listing().getServiceInstances(SERVICE_KEY);
                return Behaviors.same();
              })
          .onMessage(
              FlushChanges.class,
              flush -> {
                localReplicator.tell(Replicator.flushChanges());
                return Behaviors.same();
              })
          .build();
    }

    private Behavior<Command> onPublish(Publish publish) {
      if (!seeded) {
        held.add(publish);
        return Behaviors.same();
      }
      replicator.askUpdate(
          askReplyTo ->
              new Replicator.Update<>(
                  KEY,
                  LWWMap.empty(),
                  write,
                  askReplyTo,
                  map -> putIfNewer(map, self, publish.release(), true)),
          rsp -> new UpdateDone(publish));
      // The replicator tells subscribers of changes only every notify-subscribers-interval;
      // flushing after the update (which it handles first, sent earlier from this thread) starts
      // this node's applier now instead of up to one interval later.
      localReplicator.tell(Replicator.flushChanges());
      return Behaviors.same();
    }

    private Behavior<Command> onUpdateDone(UpdateDone done) {
      // The write reached the other nodes (or timed out): let them tell their appliers at once.
      FlushChanges flush = new FlushChanges(ctx.getSelf().path().address().toString());
      registers.stream().filter(r -> !r.equals(ctx.getSelf())).forEach(r -> r.tell(flush));
      // Whatever the write consistency reached, the local replica has the decision; read it.
      replicator.askGet(
          askReplyTo -> new Replicator.Get<>(KEY, Replicator.readLocal(), askReplyTo),
          rsp -> new ReadForPublish(done.publish(), rsp));
      return Behaviors.same();
    }

    private Behavior<Command> onReadForPublish(ReadForPublish read) {
      DesiredRelease mine = read.publish().release();
      DesiredRelease there = entries(read.rsp()).get(mine.project());
      if (there == null || there.deploymentId().equals(mine.deploymentId())) {
        // Stored as the register holds it, with the release before it: a node that starts and
        // reads the store before it hears the cluster reverts to that one, not to none.
        persist.accept(there == null ? mine : there);
        read.publish().replyTo().tell(new Published(mine));
      } else {
        read.publish().replyTo().tell(new Superseded(mine, there));
      }
      return Behaviors.same();
    }

    private Behavior<Command> onSubscribe(Subscribe sub) {
      if (!subscribers.contains(sub.subscriber())) {
        subscribers.add(sub.subscriber());
        ctx.watchWith(sub.subscriber(), new SubscriberStopped(sub.subscriber()));
      }
      sub.subscriber().tell(current);
      return Behaviors.same();
    }

    private Behavior<Command> onUnsubscribe(Unsubscribe unsub) {
      if (subscribers.remove(unsub.subscriber())) {
        ctx.unwatch(unsub.subscriber());
      }
      return Behaviors.same();
    }

    private Behavior<Command> onSeed(Seed seed) {
      for (DesiredRelease release : seed.releases()) {
        replicator.askUpdate(
            askReplyTo ->
                new Replicator.Update<>(
                    KEY,
                    LWWMap.empty(),
                    Replicator.writeLocal(),
                    askReplyTo,
                    map -> putIfNewer(map, self, release, false)),
            rsp -> new Seeded());
      }
      if (!seeded) {
        // The replicator takes updates in order: the held releases are put after the seeded ones.
        seeded = true;
        held.forEach(this::onPublish);
        held.clear();
      }
      return Behaviors.same();
    }

    private Behavior<Command> onGetAll(GetAll get) {
      replicator.askGet(
          askReplyTo -> new Replicator.Get<>(KEY, Replicator.readLocal(), askReplyTo),
          rsp -> new ReadForReply(get.replyTo(), rsp));
      return Behaviors.same();
    }

    private Behavior<Command> onChanged(Changed changed) {
      if (changed.rsp() instanceof Replicator.Changed<LWWMap<String, DesiredRelease>> c) {
        current = Map.copyOf(c.get(KEY).getEntries());
        subscribers.forEach(s -> s.tell(current));
      }
      return Behaviors.same();
    }
  }

  /**
   * Puts {@code release} if it is newer than the project's entry; with {@code link}, it first
   * learns its previous release from the entry it replaces ({@link DesiredRelease#after}); a seeded
   * one keeps the previous release it was stored with.
   *
   * <p>The entry's last-writer-wins timestamp is the deployment's creation time in microseconds
   * plus its gate revision, whichever node writes it: replicas merge to the newest deployment and,
   * within a deployment, to its highest gate revision, also when a node that just restarted (and so
   * wrote the entry fewer times) writes the next revision. It is never below the entry's last
   * timestamp plus one, so a node's own write also wins over what it replaces when that was written
   * by an older version (which counted writes instead).
   */
  static LWWMap<String, DesiredRelease> putIfNewer(
      LWWMap<String, DesiredRelease> map,
      SelfUniqueAddress self,
      DesiredRelease given,
      boolean link) {
    DesiredRelease existing = map.getEntries().get(given.project());
    if (existing != null && !given.isNewerThan(existing)) {
      return map;
    }
    DesiredRelease release = link && existing != null ? given.after(existing) : given;
    long createdMicros =
        release.createdAt().getEpochSecond() * 1_000_000L + release.createdAt().getNano() / 1000;
    long stamp = createdMicros + release.gate().revision();
    LWWRegister.Clock<DesiredRelease> clock =
        (currentTimestamp, value) -> Math.max(currentTimestamp + 1, stamp);
    return map.put(self, release.project(), release, clock);
  }

  private static Map<String, DesiredRelease> entries(
      Replicator.GetResponse<LWWMap<String, DesiredRelease>> rsp) {
    if (rsp instanceof Replicator.GetSuccess<LWWMap<String, DesiredRelease>> ok) {
      return Map.copyOf(ok.get(KEY).getEntries());
    }
    return Map.of();
  }
}
