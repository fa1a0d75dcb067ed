package dev.deployrt.deployment;

import dev.deployrt.release.ReleaseRegister;
import dev.deployrt.rollout.Gate;
import dev.deployrt.rollout.RolloutPlan;
import dev.deployrt.serialization.JsonSerializable;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;

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
 *
 * <p>This class is the entity's protocol (commands, events, messages to live-tail subscribers) and
 * its factory; {@link DeploymentBehavior} runs it. The records stay nested here: their class names
 * are the manifests in the journal and between nodes, so moving them would orphan stored events and
 * break rolling upgrades.
 */
public final class DeploymentEntity {

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

  /**
   * The payload is stored: distribution starts to {@code targetNodes}, rolling out as {@code
   * rollout} says (null: all at once, no health watch). Written in the same journal write as the
   * mark, before it: the upload's final byte count ({@code bytesReceived}, if more than the last
   * progress said; 0 for none) and {@code notes} (null for none), so a small upload's last steps
   * cost one write.
   */
  public record MarkPayloadStored(
      String sha256,
      long size,
      List<String> targetNodes,
      RolloutPlan rollout,
      long bytesReceived,
      List<AppendLog> notes,
      ActorRef<StatusReply<Deployment>> replyTo)
      implements Command {
    public MarkPayloadStored(
        String sha256,
        long size,
        List<String> targetNodes,
        RolloutPlan rollout,
        ActorRef<StatusReply<Deployment>> replyTo) {
      this(sha256, size, targetNodes, rollout, 0, null, replyTo);
    }
  }

  public record FailUpload(
      String code, String message, String phase, ActorRef<StatusReply<Deployment>> replyTo)
      implements Command {}

  /**
   * A node's progress applying this deployment. With {@code replyTo} (terminal reports, which nodes
   * resend until acknowledged) it answers {@code Done} once the report is recorded or known to be
   * redundant; repeated reports change nothing. {@code notes} (null: none) are the node's log
   * events on the way to this status, recorded just before it in the same write, and only with a
   * report that changes something.
   */
  public record ReportNodeStatus(
      String node,
      NodeStatus status,
      ErrorInfo error,
      Instant switchedAt,
      List<AppendLog> notes,
      ActorRef<Done> replyTo)
      implements Command {
    public ReportNodeStatus(String node, NodeStatus status, ErrorInfo error) {
      this(node, status, error, null, null, null);
    }

    public ReportNodeStatus(
        String node, NodeStatus status, ErrorInfo error, ActorRef<Done> replyTo) {
      this(node, status, error, null, null, replyTo);
    }

    public ReportNodeStatus(
        String node,
        NodeStatus status,
        ErrorInfo error,
        Instant switchedAt,
        ActorRef<Done> replyTo) {
      this(node, status, error, switchedAt, null, replyTo);
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

  enum UploadLeaseExpired implements Command {
    INSTANCE
  }

  enum DistributionDeadlinePassed implements Command {
    INSTANCE
  }

  enum PassivateNow implements Command {
    INSTANCE
  }

  /**
   * Starts the entity if it is not running (and does nothing else): an unfinished deployment's
   * record must run to keep its lease, deadline and release going ({@code UnfinishedDeployments}).
   */
  public enum Wake implements Command {
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

  /**
   * @param rollout null in events recorded before rollouts existed (all at once)
   */
  public record PayloadStored(
      String sha256,
      long size,
      List<String> targetNodes,
      Instant deadline,
      RolloutPlan rollout,
      Instant at)
      implements Event {}

  public record UploadFailed(ErrorInfo error, Instant at) implements Event {}

  /**
   * @param switchedAt when the node switched to the release (its own clock), if this report says
   */
  public record NodeStatusChanged(
      String node, NodeStatus status, ErrorInfo error, Instant switchedAt, Instant at)
      implements Event {}

  /**
   * The rollout moved on: {@code gate} lets more nodes start or switch (every target prepared, or
   * the canaries passed). {@code phase} and {@code message} are its log entry.
   */
  public record RolloutAdvanced(Gate gate, String phase, String message, Instant at)
      implements Event {}

  /**
   * The rollout stopped ({@code gate.stop()}) because of {@code cause}: no node that has not
   * switched will; with a revert, every node that did switches back.
   */
  public record RolloutStopped(Gate gate, ErrorInfo cause, String message, Instant at)
      implements Event {}

  public record Completed(DeploymentStatus status, ErrorInfo error, Instant at) implements Event {}

  public record Logged(
      String type, String phase, String node, String message, Map<String, Long> data, Instant at)
      implements Event {}

  public record PayloadPruned(String user, Instant at) implements Event {}

  private DeploymentEntity() {}

  /** Outside sharding (tests): never passivates itself. */
  public static Behavior<Command> create(
      String deploymentId,
      DeploymentSettings settings,
      ActorRef<ReleaseRegister.Command> register) {
    return create(deploymentId, settings, register, null, status -> {});
  }

  /**
   * @param shard the entity's shard, asked to passivate it {@code
   *     deploy.deployment.passivate-after} after it became terminal (sharding does no idle
   *     passivation of these records)
   * @param onFinished told the deployment as it ended when this incarnation persists the change
   *     that ends the deployment; never for a deployment recovered already terminal, so each end is
   *     told once
   */
  public static Behavior<Command> create(
      String deploymentId,
      DeploymentSettings settings,
      ActorRef<ReleaseRegister.Command> register,
      ActorRef<ClusterSharding.ShardCommand> shard,
      Consumer<Deployment> onFinished) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers ->
                    new DeploymentBehavior(
                        deploymentId, settings, register, shard, onFinished, ctx, timers)));
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
}
