package dev.deployrt.deployment;

import dev.deployrt.deployment.DeploymentEntity.Command;
import dev.deployrt.deployment.DeploymentEntity.Finished;
import dev.deployrt.deployment.DeploymentEntity.Live;
import dev.deployrt.deployment.DeploymentEntity.Snapshot;
import dev.deployrt.deployment.DeploymentEntity.SubscriberGone;
import dev.deployrt.deployment.DeploymentEntity.TailMessage;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * The entity's side of live tails ({@link LiveTail} is the reader's side): who is subscribed to one
 * deployment and what they have been sent.
 *
 * <p>Guarantees: a subscriber first gets a {@link Snapshot} of the state, then each new log entry
 * once, in seq order, in {@link Live} batches, then one {@link Finished} when the deployment ends,
 * after which it is dropped. Subscribers that stop are forgotten (the entity watches them). In
 * memory only: after the entity moves, readers resubscribe and resume from the last seq they saw.
 */
final class TailSubscribers {

  private final ActorContext<Command> ctx;
  private final Set<ActorRef<TailMessage>> subscribers = new LinkedHashSet<>();

  /** The last seq that subscribers have been sent. */
  private long publishedSeq;

  TailSubscribers(ActorContext<Command> ctx) {
    this.ctx = ctx;
  }

  /**
   * After recovery: what the recovered state holds counts as sent (new subscribers get it in a
   * snapshot).
   */
  void recovered(Deployment state) {
    publishedSeq = state.eventCount();
  }

  void subscribe(Deployment state, ActorRef<TailMessage> subscriber) {
    subscriber.tell(new Snapshot(state.exists() ? state : null, ctx.getSelf()));
    if (state.exists() && !state.isTerminal() && subscribers.add(subscriber)) {
      ctx.watchWith(subscriber, new SubscriberGone(subscriber));
    }
  }

  void gone(ActorRef<TailMessage> subscriber) {
    subscribers.remove(subscriber);
  }

  /**
   * Sends the log entries persisted since the last call, and the end if the deployment finished.
   */
  void publish(Deployment state) {
    if (state.eventCount() > publishedSeq && !subscribers.isEmpty()) {
      List<LogEntry> fresh = new ArrayList<>();
      for (LogEntry e : state.events()) {
        if (e.seq() > publishedSeq && !LogEntry.TRUNCATED.equals(e.type())) {
          fresh.add(e);
        }
      }
      Live live = new Live(List.copyOf(fresh));
      subscribers.forEach(s -> s.tell(live));
    }
    publishedSeq = state.eventCount();
    if (state.isTerminal() && !subscribers.isEmpty()) {
      Finished finished = new Finished(state);
      subscribers.forEach(
          s -> {
            s.tell(finished);
            ctx.unwatch(s);
          });
      subscribers.clear();
    }
  }
}
