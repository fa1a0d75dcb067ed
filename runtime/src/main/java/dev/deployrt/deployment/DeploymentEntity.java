package dev.deployrt.deployment;

import dev.deployrt.errors.ErrorCode;
import dev.deployrt.release.ReleaseRegister;
import dev.deployrt.serialization.JsonSerializable;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
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
 * One deployment, event-sourced and sharded by {@code deployment_id}: the audited record of a
 * deploy.
 *
 * <p>Lifecycle: created {@code pending} before any payload byte arrives; the origin reports upload
 * progress (which also renews an upload lease) and then either the stored payload or the failure.
 * Once stored, the entity itself publishes the project's desired release to the {@link
 * ReleaseRegister} (again after every recovery, which is idempotent) and waits for the target
 * nodes' reports; the terminal status follows from them, or from the distribution deadline.
 *
 * <p>Guarantees: every state change is an event in the journal before anyone hears of it; the event
 * handler is pure, so a restart or rebalance recovers the same state, log and seq numbering; timers
 * (upload lease, distribution deadline) are re-armed from the recovered state. Waiters for the
 * terminal status are kept in memory only: after a rebalance they time out and re-read the state.
 */
public final class DeploymentEntity
    extends EventSourcedBehaviorWithEnforcedReplies<
        DeploymentEntity.Command, DeploymentEntity.Event, Deployment> {

  public static final EntityTypeKey<Command> ENTITY_TYPE_KEY =
      EntityTypeKey.create(Command.class, "Deployment");
  public static final int TAG_COUNT = 4;

  // ---- commands -------------------------------------------------------------------------------

  public sealed interface Command extends JsonSerializable {}

  public record Create(
      String project,
      String description,
      String user,
      String originNode,
      String rollbackOf,
      ActorRef<StatusReply<Deployment>> replyTo)
      implements Command {}

  /** Heartbeat from the origin while bytes arrive; renews the upload lease. No reply. */
  public record RecordUploadProgress(long bytesReceived) implements Command {}

  public record MarkPayloadStored(
      String sha256, long size, List<String> targetNodes, ActorRef<StatusReply<Deployment>> replyTo)
      implements Command {}

  public record FailUpload(
      String code, String message, String phase, ActorRef<StatusReply<Deployment>> replyTo)
      implements Command {}

  /**
   * A node's progress applying this deployment. With {@code replyTo} (terminal reports, which nodes
   * resend until acknowledged) it answers {@code Done} once the report is recorded or known to be
   * redundant; repeated reports change nothing.
   */
  public record ReportNodeStatus(
      String node, NodeStatus status, ErrorInfo error, ActorRef<Done> replyTo) implements Command {
    public ReportNodeStatus(String node, NodeStatus status, ErrorInfo error) {
      this(node, status, error, null);
    }
  }

  /** A free-form log, warning or error event. No reply. */
  public record AppendLog(
      String type, String phase, String node, String message, Map<String, Long> data)
      implements Command {}

  /** Replies with the state; {@link Deployment#exists()} is false for an unknown id. */
  public record Get(ActorRef<Deployment> replyTo) implements Command {}

  /** Replies once the deployment is terminal (at once if it already is, or does not exist). */
  public record AwaitTerminal(ActorRef<Deployment> replyTo) implements Command {}

  /**
   * Starts a live tail: the entity answers {@code subscriber} with a {@link Snapshot} and then
   * sends every new log entry ({@link Live}) and, once terminal, {@link Finished}, in order.
   * Snapshot and subscription are taken in one step, so a subscriber that continues from the
   * snapshot's last seq sees no gap and no duplicate. A subscriber that stops is forgotten (death
   * watch).
   */
  public record Subscribe(ActorRef<TailMessage> subscriber) implements Command {}

  /**
   * Marks the payload as reclaimed. Refused (error reply) unless the deployment is terminal; a
   * repeat is answered with the unchanged state. The caller removes the bytes.
   */
  public record PrunePayload(String user, ActorRef<StatusReply<Deployment>> replyTo)
      implements Command {}

  /**
   * From the {@link RegisterLink}: a newer deployment of the project holds the release register
   * (null: the register answered, but no newer one holds it).
   */
  record NewerRelease(String deploymentId) implements Command {}

  record SubscriberGone(ActorRef<TailMessage> subscriber) implements Command {}

  private enum UploadLeaseExpired implements Command {
    INSTANCE
  }

  private enum DistributionDeadlinePassed implements Command {
    INSTANCE
  }

  private enum PassivateNow implements Command {
    INSTANCE
  }

  // ---- messages to live-tail subscribers --------------------------------------------------------

  /**
   * What a live-tail subscriber receives (not sealed: a subscriber may add its own local messages).
   */
  public interface TailMessage extends JsonSerializable {}

  /**
   * The state when the subscription started; {@code entity} is the actor to watch. Null state:
   * unknown id.
   */
  public record Snapshot(Deployment state, ActorRef<Command> entity) implements TailMessage {}

  /** Log entries appended since the previous message, in seq order. */
  public record Live(List<LogEntry> entries) implements TailMessage {}

  /** The deployment became terminal; no more messages follow. */
  public record Finished(Deployment state) implements TailMessage {}

  // ---- events ---------------------------------------------------------------------------------

  public sealed interface Event extends JsonSerializable {
    Instant at();
  }

  public record Created(
      String project,
      String description,
      String user,
      String originNode,
      String rollbackOf,
      Instant at)
      implements Event {}

  public record UploadProgressed(long bytes, Instant at) implements Event {}

  public record PayloadStored(
      String sha256, long size, List<String> targetNodes, Instant deadline, Instant at)
      implements Event {}

  public record UploadFailed(ErrorInfo error, Instant at) implements Event {}

  public record NodeStatusChanged(String node, NodeStatus status, ErrorInfo error, Instant at)
      implements Event {}

  public record Completed(DeploymentStatus status, ErrorInfo error, Instant at) implements Event {}

  public record Logged(
      String type, String phase, String node, String message, Map<String, Long> data, Instant at)
      implements Event {}

  public record PayloadPruned(String user, Instant at) implements Event {}

  // ---- behaviour ------------------------------------------------------------------------------

  private final String deploymentId;
  private final DeploymentSettings settings;
  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final List<ActorRef<Deployment>> waiters = new ArrayList<>();
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final RegisterLink register;
  private final TailSubscribers subscribers;

  /** Told once, when a change (not a recovery) makes the deployment terminal: for metrics. */
  private final Consumer<DeploymentStatus> onFinished;

  private boolean finishReported;

  /** Outside sharding (tests): never passivates itself. */
  public static Behavior<Command> create(
      String deploymentId,
      DeploymentSettings settings,
      ActorRef<ReleaseRegister.Command> register) {
    return create(deploymentId, settings, register, null, status -> {});
  }

  /**
   * @param shard the entity's shard, asked to passivate it {@code
   *     deploy.deployment.passivate-after} after it became terminal (sharding runs with
   *     remember-entities, which does no idle passivation)
   * @param onFinished told the terminal status when this incarnation persists the change that ends
   *     the deployment; never for a deployment recovered already terminal, so each end is told once
   */
  public static Behavior<Command> create(
      String deploymentId,
      DeploymentSettings settings,
      ActorRef<ReleaseRegister.Command> register,
      ActorRef<ClusterSharding.ShardCommand> shard,
      Consumer<DeploymentStatus> onFinished) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers ->
                    new DeploymentEntity(
                        deploymentId, settings, register, shard, onFinished, ctx, timers)));
  }

  private DeploymentEntity(
      String deploymentId,
      DeploymentSettings settings,
      ActorRef<ReleaseRegister.Command> register,
      ActorRef<ClusterSharding.ShardCommand> shard,
      Consumer<DeploymentStatus> onFinished,
      ActorContext<Command> ctx,
      TimerScheduler<Command> timers) {
    super(PersistenceId.of(ENTITY_TYPE_KEY.name(), deploymentId));
    this.deploymentId = deploymentId;
    this.settings = settings;
    this.register = new RegisterLink(register, ctx);
    this.shard = shard;
    this.onFinished = onFinished;
    this.ctx = ctx;
    this.timers = timers;
    this.subscribers = new TailSubscribers(ctx);
  }

  public static String tagFor(String deploymentId) {
    return tag(Math.floorMod(deploymentId.hashCode(), TAG_COUNT));
  }

  /**
   * The event tag number {@code i} of {@link #TAG_COUNT} (each has its own projection instance).
   */
  public static String tag(int i) {
    return "deployment-" + i;
  }

  @Override
  public Deployment emptyState() {
    return Deployment.empty(deploymentId);
  }

  @Override
  public Set<String> tagsFor(Event event) {
    return Set.of(tagFor(deploymentId));
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
      onFinished.accept(state.status());
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
    armUploadLease();
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
    return persist(
            new PayloadStored(
                cmd.sha256(), cmd.size(), List.copyOf(cmd.targetNodes()), deadline, at))
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

  private ReplyEffect<Event, Deployment> onNodeStatus(Deployment state, ReportNodeStatus cmd) {
    if (state.status() == null || state.status() == DeploymentStatus.PENDING) {
      return acknowledged(cmd);
    }
    NodeResult before = state.nodes().get(cmd.node());
    if (before != null
        && (before.status().isTerminal() || before.status().ordinal() >= cmd.status().ordinal())) {
      return acknowledged(cmd); // nodes only move forward; repeated reports are harmless
    }
    Instant at = now();
    NodeStatusChanged changed = new NodeStatusChanged(cmd.node(), cmd.status(), cmd.error(), at);
    if (state.isTerminal()) {
      return acknowledged(persist(changed), cmd);
    }
    Deployment after = state.withNode(cmd.node(), cmd.status(), cmd.error(), at);
    DeploymentStatus outcome = after.outcome();
    if (outcome == null) {
      return acknowledged(persist(changed), cmd);
    }
    return acknowledged(
        persist(List.of(changed, new Completed(outcome, after.firstNodeError(), at)))
            .thenRun(this::afterChange),
        cmd);
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
    return endUnfinishedNodes(
        state,
        NodeStatus.SUPERSEDED,
        (node, result) ->
            ErrorInfo.of(
                "superseded by deployment " + newerId, ErrorCode.SUPERSEDED, "distribute", node));
  }

  /**
   * Ends the distribution: every target node that has not reached a terminal status is given {@code
   * status} with the error {@code why} names for it, then the deployment completes with the
   * outcome.
   */
  private ReplyEffect<Event, Deployment> endUnfinishedNodes(
      Deployment state, NodeStatus status, BiFunction<String, NodeResult, ErrorInfo> why) {
    Instant at = now();
    List<Event> events = new ArrayList<>();
    Deployment after = state;
    for (String node : state.targetNodes()) {
      NodeResult r = after.nodes().get(node);
      if (r == null || !r.status().isTerminal()) {
        ErrorInfo error = why.apply(node, r);
        events.add(new NodeStatusChanged(node, status, error, at));
        after = after.withNode(node, status, error, at);
      }
    }
    events.add(new Completed(after.outcome(), after.firstNodeError(), at));
    return persist(events).thenRun(this::afterChange).thenNoReply();
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

  private ReplyEffect<Event, Deployment> onDeadline(
      Deployment state, DistributionDeadlinePassed cmd) {
    if (state.status() != DeploymentStatus.DISTRIBUTING) {
      return Effect().noReply();
    }
    return endUnfinishedNodes(
        state,
        NodeStatus.FAILED,
        (node, r) ->
            ErrorInfo.of(
                "node did not report within " + settings.distributionTimeout().toSeconds() + " s",
                ErrorCode.NODE_TIMEOUT,
                DeploymentEventHandler.phaseOf(r == null ? NodeStatus.PENDING : r.status()),
                node));
  }

  /** Side effects that follow from the state, run after each change and after recovery. */
  private void afterChange(Deployment state) {
    if (state.status() == null) {
      return;
    }
    switch (state.status()) {
      case PENDING -> {
        if (!timers.isTimerActive(UploadLeaseExpired.INSTANCE)) {
          armUploadLease();
        }
      }
      case DISTRIBUTING -> {
        timers.cancel(UploadLeaseExpired.INSTANCE);
        if (!timers.isTimerActive(DistributionDeadlinePassed.INSTANCE)) {
          Duration left = Duration.between(Instant.now(), state.distributionDeadline());
          timers.startSingleTimer(
              DistributionDeadlinePassed.INSTANCE,
              DistributionDeadlinePassed.INSTANCE,
              left.isNegative() ? Duration.ZERO : left);
          register.publish(state);
        }
        register.watch(state);
      }
      default -> {
        timers.cancelAll();
        if (shard != null) {
          timers.startSingleTimer(
              PassivateNow.INSTANCE, PassivateNow.INSTANCE, settings.passivateAfter());
        }
        register.unwatch();
        waiters.forEach(w -> w.tell(state));
        waiters.clear();
      }
    }
  }

  private void armUploadLease() {
    timers.startSingleTimer(
        UploadLeaseExpired.INSTANCE, UploadLeaseExpired.INSTANCE, settings.uploadLease());
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
