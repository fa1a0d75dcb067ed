package dev.deployrt.deployment;

import dev.deployrt.deployment.DeploymentEntity.AppendLog;
import dev.deployrt.deployment.DeploymentEntity.AwaitTerminal;
import dev.deployrt.deployment.DeploymentEntity.Command;
import dev.deployrt.deployment.DeploymentEntity.Completed;
import dev.deployrt.deployment.DeploymentEntity.Create;
import dev.deployrt.deployment.DeploymentEntity.Created;
import dev.deployrt.deployment.DeploymentEntity.DistributionDeadlinePassed;
import dev.deployrt.deployment.DeploymentEntity.Event;
import dev.deployrt.deployment.DeploymentEntity.FailUpload;
import dev.deployrt.deployment.DeploymentEntity.Get;
import dev.deployrt.deployment.DeploymentEntity.Logged;
import dev.deployrt.deployment.DeploymentEntity.MarkPayloadStored;
import dev.deployrt.deployment.DeploymentEntity.NewerRelease;
import dev.deployrt.deployment.DeploymentEntity.PassivateNow;
import dev.deployrt.deployment.DeploymentEntity.PayloadPruned;
import dev.deployrt.deployment.DeploymentEntity.PayloadStored;
import dev.deployrt.deployment.DeploymentEntity.PrunePayload;
import dev.deployrt.deployment.DeploymentEntity.RecordUploadProgress;
import dev.deployrt.deployment.DeploymentEntity.ReportNodeStatus;
import dev.deployrt.deployment.DeploymentEntity.Subscribe;
import dev.deployrt.deployment.DeploymentEntity.SubscriberGone;
import dev.deployrt.deployment.DeploymentEntity.UploadFailed;
import dev.deployrt.deployment.DeploymentEntity.UploadLeaseExpired;
import dev.deployrt.deployment.DeploymentEntity.UploadProgressed;
import dev.deployrt.deployment.DeploymentEntity.Wake;
import dev.deployrt.errors.ErrorCode;
import dev.deployrt.release.ReleaseRegister;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EffectBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * Runs one deployment's {@link DeploymentEntity} protocol: the command handlers, the timers (upload
 * lease, distribution deadline, passivation) re-armed from the state after every change and
 * recovery, the waiters for the terminal status, and the links to the release register and the
 * live-tail subscribers. The event handler is {@link DeploymentEventHandler}, pure.
 */
final class DeploymentBehavior
    extends EventSourcedBehaviorWithEnforcedReplies<Command, Event, Deployment> {

  private final String deploymentId;
  private final DeploymentSettings settings;
  private final ActorContext<Command> ctx;
  private final DeploymentTimers clocks;
  private final List<ActorRef<Deployment>> waiters = new ArrayList<>();
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final RegisterLink register;
  private final TailSubscribers subscribers;

  /** Told once, when a change (not a recovery) makes the deployment terminal: for metrics. */
  private final Consumer<Deployment> onFinished;

  private boolean finishReported;

  DeploymentBehavior(
      String deploymentId,
      DeploymentSettings settings,
      ActorRef<ReleaseRegister.Command> register,
      ActorRef<ClusterSharding.ShardCommand> shard,
      Consumer<Deployment> onFinished,
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers) {
    super(PersistenceId.of(DeploymentEntity.ENTITY_TYPE_KEY.name(), deploymentId));
    this.deploymentId = deploymentId;
    this.settings = settings;
    this.register = new RegisterLink(register, ctx);
    this.shard = shard;
    this.onFinished = onFinished;
    this.ctx = ctx;
    this.clocks = new DeploymentTimers(timers, settings, shard != null);
    this.subscribers = new TailSubscribers(ctx);
  }

  @Override
  public Deployment emptyState() {
    return Deployment.empty(deploymentId);
  }

  @Override
  public Set<String> tagsFor(Event event) {
    return Set.of(DeploymentEntity.tagFor(deploymentId));
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }

  @Override
  public SignalHandler<Deployment> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(
            RecoveryCompleted.instance(),
            state -> {
              subscribers.recovered(state);
              finishReported = state.isTerminal();
              afterChange(state);
            })
        .build();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, Deployment> commandHandler() {
    return newCommandHandlerWithReplyBuilder()
        .forAnyState()
        .onCommand(Create.class, this::onCreate)
        .onCommand(RecordUploadProgress.class, this::onUploadProgress)
        .onCommand(MarkPayloadStored.class, this::onPayloadStored)
        .onCommand(FailUpload.class, this::onFailUpload)
        .onCommand(ReportNodeStatus.class, this::onNodeStatus)
        .onCommand(AppendLog.class, this::onAppendLog)
        .onCommand(Get.class, (state, cmd) -> Effect().reply(cmd.replyTo(), state))
        .onCommand(AwaitTerminal.class, this::onAwaitTerminal)
        .onCommand(
            Subscribe.class,
            (state, cmd) -> {
              subscribers.subscribe(state, cmd.subscriber());
              return Effect().noReply();
            })
        .onCommand(
            SubscriberGone.class,
            (state, cmd) -> {
              subscribers.gone(cmd.subscriber());
              return Effect().noReply();
            })
        .onCommand(Wake.class, (state, cmd) -> Effect().noReply())
        .onCommand(PrunePayload.class, this::onPrunePayload)
        .onCommand(NewerRelease.class, this::onNewerRelease)
        .onCommand(UploadLeaseExpired.class, this::onUploadLeaseExpired)
        .onCommand(DistributionDeadlinePassed.class, this::onDeadline)
        .onCommand(
            PassivateNow.class,
            (state, cmd) -> {
              shard.tell(new ClusterSharding.Passivate<>(ctx.getSelf()));
              return Effect().noReply();
            })
        .build();
  }

  private ReplyEffect<Event, Deployment> onCreate(Deployment state, Create cmd) {
    if (state.exists()) {
      return Effect()
          .reply(
              cmd.replyTo(), StatusReply.error("deployment " + deploymentId + " already exists"));
    }
    return persist(
            new Created(
                cmd.project(),
                cmd.description(),
                cmd.user(),
                cmd.originNode(),
                cmd.rollbackOf(),
                now()))
        .thenRun(this::afterChange)
        .thenReply(cmd.replyTo(), StatusReply::success);
  }

  /** Every persist goes through here, so subscribers hear of each new log entry. */
  private EffectBuilder<Event, Deployment> persist(Event event) {
    return Effect().persist(event).thenRun(this::publish);
  }

  private EffectBuilder<Event, Deployment> persist(List<Event> events) {
    return Effect().persist(events).thenRun(this::publish);
  }

  private void publish(Deployment state) {
    if (state.isTerminal() && !finishReported) {
      finishReported = true;
      onFinished.accept(state);
    }
    subscribers.publish(state);
  }

  private ReplyEffect<Event, Deployment> onPrunePayload(Deployment state, PrunePayload cmd) {
    if (!state.exists()) {
      return Effect().reply(cmd.replyTo(), StatusReply.error(notPending(state)));
    }
    if (!state.isTerminal()) {
      return Effect()
          .reply(
              cmd.replyTo(),
              StatusReply.error(
                  "deployment "
                      + deploymentId
                      + " is "
                      + state.status().apiName()
                      + ": its payload can be deleted once it has finished"));
    }
    if (!state.payloadPresent()) {
      return Effect().reply(cmd.replyTo(), StatusReply.success(state));
    }
    return persist(new PayloadPruned(cmd.user(), now()))
        .thenReply(cmd.replyTo(), StatusReply::success);
  }

  private ReplyEffect<Event, Deployment> onUploadProgress(
      Deployment state, RecordUploadProgress cmd) {
    if (state.status() != DeploymentStatus.PENDING) {
      return Effect().noReply();
    }
    clocks.renewUploadLease();
    if (cmd.bytesReceived() <= state.lastProgressBytes()) {
      return Effect().noReply();
    }
    return persist(new UploadProgressed(cmd.bytesReceived(), now())).thenNoReply();
  }

  private ReplyEffect<Event, Deployment> onPayloadStored(Deployment state, MarkPayloadStored cmd) {
    if (state.status() != DeploymentStatus.PENDING) {
      return Effect().reply(cmd.replyTo(), StatusReply.error(notPending(state)));
    }
    Instant at = now();
    Instant deadline = at.plus(settings.distributionTimeout());
    List<Event> events = new ArrayList<>();
    if (cmd.bytesReceived() > state.lastProgressBytes()) {
      events.add(new UploadProgressed(cmd.bytesReceived(), at));
    }
    events.addAll(logged(cmd.notes(), at));
    events.add(
        new PayloadStored(
            cmd.sha256(), cmd.size(), List.copyOf(cmd.targetNodes()), deadline, cmd.rollout(), at));
    return persist(events)
        .thenRun(this::afterChange)
        .thenReply(cmd.replyTo(), StatusReply::success);
  }

  private ReplyEffect<Event, Deployment> onFailUpload(Deployment state, FailUpload cmd) {
    if (state.status() == DeploymentStatus.FAILED) {
      return Effect().reply(cmd.replyTo(), StatusReply.success(state));
    }
    if (state.status() != DeploymentStatus.PENDING) {
      return Effect().reply(cmd.replyTo(), StatusReply.error(notPending(state)));
    }
    ErrorInfo error = new ErrorInfo(cmd.message(), cmd.code(), cmd.phase(), state.originNode());
    return persist(new UploadFailed(error, now()))
        .thenRun(this::afterChange)
        .thenReply(cmd.replyTo(), StatusReply::success);
  }

  /** A node's report, and what follows from it ({@link RolloutProgress}). */
  private ReplyEffect<Event, Deployment> onNodeStatus(Deployment state, ReportNodeStatus cmd) {
    if (state.status() == null || state.status() == DeploymentStatus.PENDING) {
      return acknowledged(cmd);
    }
    Instant at = now();
    List<Event> events = RolloutProgress.onReport(state, cmd, at);
    if (events.isEmpty()) {
      // Nodes only move forward; repeated reports are harmless. A late report's notes (the record
      // ended this node otherwise meanwhile) are still the node's log; a resent one's are written
      // once, with the report that was taken.
      NodeResult before = state.nodes().get(cmd.node());
      boolean resent = before != null && before.status() == cmd.status();
      List<Event> notes = logged(cmd.notes(), at);
      return notes.isEmpty() || resent ? acknowledged(cmd) : acknowledged(persist(notes), cmd);
    }
    List<Event> withNotes = logged(cmd.notes(), at);
    withNotes.addAll(events);
    events = withNotes;
    EffectBuilder<Event, Deployment> effect = persist(events);
    if (RolloutProgress.movesGate(events)) {
      effect = effect.thenRun(register::publish);
    }
    if (events.get(events.size() - 1) instanceof Completed) {
      effect = effect.thenRun(this::afterChange);
    }
    return acknowledged(effect, cmd);
  }

  private ReplyEffect<Event, Deployment> acknowledged(ReportNodeStatus cmd) {
    return cmd.replyTo() == null
        ? Effect().noReply()
        : Effect().reply(cmd.replyTo(), Done.getInstance());
  }

  private ReplyEffect<Event, Deployment> acknowledged(
      EffectBuilder<Event, Deployment> effect, ReportNodeStatus cmd) {
    return cmd.replyTo() == null
        ? effect.thenNoReply()
        : effect.thenReply(cmd.replyTo(), s -> Done.getInstance());
  }

  private ReplyEffect<Event, Deployment> onAppendLog(Deployment state, AppendLog cmd) {
    if (!state.exists()) {
      return Effect().noReply();
    }
    return persist(
            new Logged(cmd.type(), cmd.phase(), cmd.node(), cmd.message(), cmd.data(), now()))
        .thenNoReply();
  }

  private ReplyEffect<Event, Deployment> onAwaitTerminal(Deployment state, AwaitTerminal cmd) {
    if (!state.exists() || state.isTerminal()) {
      return Effect().reply(cmd.replyTo(), state);
    }
    waiters.add(cmd.replyTo());
    return Effect().noReply();
  }

  /**
   * A newer deployment of the project took the register: whether this one was published first or
   * never reached some nodes (they see only the newest release), the nodes that have not finished
   * will not apply it.
   */
  private ReplyEffect<Event, Deployment> onNewerRelease(Deployment state, NewerRelease cmd) {
    String newerId = cmd.deploymentId();
    if (newerId == null || state.status() != DeploymentStatus.DISTRIBUTING) {
      return Effect().noReply();
    }
    return persist(DistributionEnd.superseded(state, newerId, now()))
        .thenRun(this::afterChange)
        .thenNoReply();
  }

  private ReplyEffect<Event, Deployment> onUploadLeaseExpired(
      Deployment state, UploadLeaseExpired cmd) {
    if (state.status() != DeploymentStatus.PENDING) {
      return Effect().noReply();
    }
    ErrorInfo error =
        ErrorInfo.of(
            "the upload stopped without completing: the node receiving it sent no heartbeat for "
                + settings.uploadLease().toSeconds()
                + " s (it may have restarted)",
            ErrorCode.UPLOAD_ABORTED,
            "upload",
            state.originNode());
    return persist(new UploadFailed(error, now())).thenRun(this::afterChange).thenNoReply();
  }

  /** The distribution deadline ({@link DistributionEnd#atDeadline}). */
  private ReplyEffect<Event, Deployment> onDeadline(
      Deployment state, DistributionDeadlinePassed cmd) {
    if (state.status() != DeploymentStatus.DISTRIBUTING) {
      return Effect().noReply();
    }
    List<Event> events = DistributionEnd.atDeadline(state, settings.distributionTimeout(), now());
    EffectBuilder<Event, Deployment> effect = persist(events).thenRun(this::afterChange);
    if (RolloutProgress.movesGate(events)) {
      effect = effect.thenRun(register::publish);
    }
    return effect.thenNoReply();
  }

  /** Side effects that follow from the state, run after each change and after recovery. */
  private void afterChange(Deployment state) {
    if (state.status() == null) {
      clocks.absent();
      return;
    }
    switch (state.status()) {
      case PENDING -> clocks.pending();
      case DISTRIBUTING -> {
        if (clocks.distributing(state.distributionDeadline())) {
          register.publish(state);
        }
        register.watch(state);
      }
      default -> {
        clocks.ended();
        register.unwatch();
        waiters.forEach(w -> w.tell(state));
        waiters.clear();
      }
    }
  }

  /** {@code notes} (null: none) as log events at {@code at}, in a list the caller may extend. */
  private static List<Event> logged(List<AppendLog> notes, Instant at) {
    List<Event> events = new ArrayList<>();
    if (notes != null) {
      for (AppendLog n : notes) {
        events.add(new Logged(n.type(), n.phase(), n.node(), n.message(), n.data(), at));
      }
    }
    return events;
  }

  private static String notPending(Deployment state) {
    return state.exists()
        ? "deployment " + state.deploymentId() + " is " + state.status().apiName() + ", not pending"
        : "deployment " + state.deploymentId() + " does not exist";
  }

  private static Instant now() {
    return Instant.now().truncatedTo(ChronoUnit.MILLIS);
  }

  // ---- event handler: pure ----------------------------------------------------------------------

  @Override
  public EventHandler<Deployment, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(DeploymentEventHandler::apply);
  }
}
