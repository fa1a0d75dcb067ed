package dev.deployrt.deployment;

import java.time.Duration;
import java.util.UUID;
import java.util.function.Function;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.javadsl.Source;

/**
 * A deployment's event stream for one reader: the retained events after a given seq, then the live
 * ones, then the terminal state; from any node, whichever node hosts the entity.
 *
 * <p>Guarantees: every item has a seq one higher than the one before, except across the {@code
 * truncated} marker (which stands for the events dropped from the retained log); no duplicates; the
 * stream ends with {@link End} once the deployment is terminal. The entity takes the snapshot and
 * the subscription in one step ({@link DeploymentEntity.Subscribe}); a gap in the live messages, a
 * lost subscription, or the entity moving (rebalance, its node crashing: death watch) all lead to a
 * fresh subscription whose snapshot fills the gap, and seq numbers drop what was already delivered.
 *
 * <p>Memory is bounded per reader: the stream buffers at most {@code buffer} items. A reader too
 * slow for that is not allowed to slow the deployment; live messages are then ignored and, once the
 * reader has room again, a fresh snapshot catches it up (events that meanwhile left the retained
 * log appear as the {@code truncated} marker).
 */
public final class LiveTail {
  /** One item of the stream. */
  public sealed interface Item {}

  /** An event of the deployment's log. */
  public record Entry(LogEntry entry) implements Item {}

  /** The deployment is terminal: the last item. */
  public record End(Deployment deployment) implements Item {}

  /** The stream fails with this if the deployment does not exist. */
  public static final class NoSuchDeployment extends RuntimeException {
    public NoSuchDeployment(String id) {
      super("no deployment " + id);
    }
  }

  private static final Duration RESUBSCRIBE_AFTER = Duration.ofSeconds(3);
  private static final Duration ENTITY_RESTART = Duration.ofMillis(200);
  private static final Duration AWAIT_CREATION = Duration.ofMillis(100);

  private LiveTail() {}

  /**
   * @param afterSeq deliver events with a higher seq only (0: all; a {@code Last-Event-ID})
   * @param awaitCreation keep asking while the deployment does not exist yet (for a deploy whose
   *     record is being created), instead of failing with {@link NoSuchDeployment}
   */
  public static Source<Item, NotUsed> source(
      ActorSystem<?> system,
      Function<String, EntityRef<DeploymentEntity.Command>> entities,
      String deploymentId,
      long afterSeq,
      int buffer,
      boolean awaitCreation) {
    return Source.<Item>queue(buffer)
        .mapMaterializedValue(
            queue ->
                system.systemActorOf(
                    new Reader(
                            entities.apply(deploymentId),
                            deploymentId,
                            afterSeq,
                            queue,
                            awaitCreation)
                        .behavior(),
                    "live-tail-" + UUID.randomUUID(),
                    Props.empty()))
        .watchTermination(
            (reader, done) -> {
              // The reader goes when the stream does (the client disconnected, or the end was
              // delivered).
              done.whenComplete((d, e) -> reader.tell(Stop.INSTANCE));
              return NotUsed.getInstance();
            });
  }

  private enum Resubscribe implements DeploymentEntity.TailMessage {
    INSTANCE
  }

  private enum Check implements DeploymentEntity.TailMessage {
    INSTANCE
  }

  private enum Stop implements DeploymentEntity.TailMessage {
    INSTANCE
  }

  /** The per-reader actor between the entity and the stream's queue. */
  private static final class Reader {
    private final EntityRef<DeploymentEntity.Command> entity;
    private final String id;
    private final BoundedSourceQueue<Item> queue;
    private boolean awaitCreation;
    private long lastSeq;
    private boolean lagging;
    private ActorRef<DeploymentEntity.Command> watched;

    /** Set when the actor starts. */
    private ActorContext<DeploymentEntity.TailMessage> ctx;

    private TimerScheduler<DeploymentEntity.TailMessage> timers;

    Reader(
        EntityRef<DeploymentEntity.Command> entity,
        String id,
        long afterSeq,
        BoundedSourceQueue<Item> queue,
        boolean awaitCreation) {
      this.entity = entity;
      this.id = id;
      this.lastSeq = afterSeq;
      this.queue = queue;
      this.awaitCreation = awaitCreation;
    }

    Behavior<DeploymentEntity.TailMessage> behavior() {
      return Behaviors.setup(
          ctx ->
              Behaviors.withTimers(
                  timers -> {
                    this.ctx = ctx;
                    this.timers = timers;
                    subscribe();
                    timers.startTimerWithFixedDelay(Check.INSTANCE, Duration.ofSeconds(1));
                    return Behaviors.receive(DeploymentEntity.TailMessage.class)
                        .onMessage(DeploymentEntity.Snapshot.class, this::onSnapshot)
                        .onMessage(DeploymentEntity.Live.class, this::onLive)
                        .onMessage(
                            DeploymentEntity.Finished.class,
                            finished ->
                                deliver(finished.state()) ? Behaviors.stopped() : Behaviors.same())
                        .onMessage(
                            Resubscribe.class,
                            r -> {
                              subscribe();
                              return Behaviors.same();
                            })
                        .onMessage(
                            Check.class,
                            c -> {
                              if (lagging) {
                                subscribe(); // the reader may have room again
                              }
                              return Behaviors.same();
                            })
                        .onMessage(Stop.class, stop -> Behaviors.stopped())
                        .onSignal(Terminated.class, this::onTerminated)
                        .build();
                  }));
    }

    private void subscribe() {
      entity.tell(new DeploymentEntity.Subscribe(ctx.getSelf()));
      // If no snapshot comes (the message was lost while the entity moved), ask again.
      timers.startSingleTimer(Resubscribe.INSTANCE, RESUBSCRIBE_AFTER);
    }

    private Behavior<DeploymentEntity.TailMessage> onSnapshot(DeploymentEntity.Snapshot snapshot) {
      timers.cancel(Resubscribe.INSTANCE);
      Deployment state = snapshot.state();
      if (state == null) {
        if (awaitCreation) {
          timers.startSingleTimer(Resubscribe.INSTANCE, AWAIT_CREATION);
          return Behaviors.same();
        }
        queue.fail(new NoSuchDeployment(id));
        return Behaviors.stopped();
      }
      awaitCreation = false;
      if (watched == null || !watched.equals(snapshot.entity())) {
        if (watched != null) {
          ctx.unwatch(watched);
        }
        watched = snapshot.entity();
        ctx.watch(watched);
      }
      lagging = false;
      return deliver(state) ? Behaviors.stopped() : Behaviors.same();
    }

    private Behavior<DeploymentEntity.TailMessage> onLive(DeploymentEntity.Live live) {
      if (lagging) {
        return Behaviors.same();
      }
      for (LogEntry e : live.entries()) {
        if (e.seq() <= lastSeq) {
          continue;
        }
        if (e.seq() != lastSeq + 1) {
          subscribe(); // a gap: a fresh snapshot fills it
          return Behaviors.same();
        }
        if (!offer(new Entry(e), e.seq())) {
          return lagging ? Behaviors.same() : Behaviors.stopped();
        }
      }
      return Behaviors.same();
    }

    private Behavior<DeploymentEntity.TailMessage> onTerminated(Terminated t) {
      if (t.getRef().equals(watched)) {
        // The entity stopped (rebalance, its node crashed): sharding starts it again.
        watched = null;
        timers.startSingleTimer(Resubscribe.INSTANCE, ENTITY_RESTART);
      }
      return Behaviors.same();
    }

    /**
     * Offers the state's retained events after lastSeq, and the end if terminal; true when done.
     */
    private boolean deliver(Deployment state) {
      for (LogEntry e : state.events()) {
        if (e.seq() > lastSeq && !offer(new Entry(e), e.seq())) {
          return !lagging;
        }
      }
      if (state.isTerminal()) {
        if (queue.offer(new End(state)) == QueueOfferResult.enqueued()) {
          queue.complete();
          return true;
        }
        lagging = true; // room for the end later
      }
      return false;
    }

    /** False if the item was not taken: the reader is lagging, or the stream is gone. */
    private boolean offer(Item item, long seq) {
      QueueOfferResult result = queue.offer(item);
      if (result == QueueOfferResult.enqueued()) {
        lastSeq = seq;
        return true;
      }
      if (result == QueueOfferResult.dropped()) {
        lagging = true;
        return false;
      }
      lagging = false;
      return false; // closed or failed: the client went away
    }
  }
}
