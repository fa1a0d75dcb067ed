package dev.deployrt.deployment;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dev.deployrt.rollout.Gate;
import dev.deployrt.rollout.RolloutPlan;
import dev.deployrt.rollout.Stop;
import dev.deployrt.serialization.JsonSerializable;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The state of one deployment: its record, lifecycle, per-node results and retained event log.
 * Immutable; the entity's event handler derives each new state with the methods below, which are
 * pure (no clock, no IO), so recovery rebuilds exactly the same state.
 *
 * @param targetNodes the nodes that must report; fixed when the payload is stored
 * @param distributionDeadline when nodes that have not reported count as failed
 * @param eventCount every log entry ever emitted, retained or not
 */
public record Deployment(
    String deploymentId,
    String project,
    String description,
    DeploymentStatus status,
    String sha256,
    Long payloadSize,
    boolean payloadPresent,
    String user,
    String originNode,
    String rollbackOf,
    Instant createdAt,
    Instant completedAt,
    ErrorInfo error,
    Map<String, NodeResult> nodes,
    List<String> targetNodes,
    Instant distributionDeadline,
    long eventCount,
    long lastProgressBytes,
    EventLog log,
    RolloutPlan rollout,
    Gate gate)
    implements JsonSerializable {

  public Deployment {
    rollout = rollout == null ? RolloutPlan.LEGACY : rollout;
    gate = gate == null ? Gate.OPEN : gate;
  }

  public static Deployment empty(String deploymentId) {
    return new Deployment(
        deploymentId,
        null,
        null,
        null,
        null,
        null,
        false,
        null,
        null,
        null,
        null,
        null,
        null,
        Map.of(),
        List.of(),
        null,
        0,
        0,
        EventLog.EMPTY,
        null,
        null);
  }

  @JsonIgnore
  public boolean exists() {
    return status != null;
  }

  @JsonIgnore
  public boolean isTerminal() {
    return status != null && status.isTerminal();
  }

  /** The retained events, in seq order, including the truncation marker. */
  @JsonIgnore
  public List<LogEntry> events() {
    return log.retained();
  }

  Deployment created(
      String project,
      String description,
      String user,
      String originNode,
      String rollbackOf,
      Instant at) {
    return new Deployment(
        deploymentId,
        project,
        description,
        DeploymentStatus.PENDING,
        null,
        null,
        false,
        user,
        originNode,
        rollbackOf,
        at,
        null,
        null,
        Map.of(),
        List.of(),
        null,
        eventCount,
        0,
        log,
        rollout,
        gate);
  }

  Deployment withProgress(long bytes) {
    return new Deployment(
        deploymentId,
        project,
        description,
        status,
        sha256,
        payloadSize,
        payloadPresent,
        user,
        originNode,
        rollbackOf,
        createdAt,
        completedAt,
        error,
        nodes,
        targetNodes,
        distributionDeadline,
        eventCount,
        bytes,
        log,
        rollout,
        gate);
  }

  Deployment distributing(
      String sha, long size, List<String> targets, Instant deadline, RolloutPlan plan, Instant at) {
    TreeMap<String, NodeResult> pending = new TreeMap<>();
    for (String node : targets) {
      pending.put(node, new NodeResult(NodeStatus.PENDING, at, null));
    }
    return new Deployment(
        deploymentId,
        project,
        description,
        DeploymentStatus.DISTRIBUTING,
        sha,
        size,
        true,
        user,
        originNode,
        rollbackOf,
        createdAt,
        null,
        null,
        Map.copyOf(pending),
        List.copyOf(targets),
        deadline,
        eventCount,
        lastProgressBytes,
        log,
        plan,
        plan.firstGate(targets));
  }

  Deployment withNode(String node, NodeStatus nodeStatus, ErrorInfo nodeError, Instant at) {
    return withNode(node, nodeStatus, nodeError, null, at);
  }

  /**
   * {@code node} is now in {@code nodeStatus}; a null {@code nodeError} or {@code switchedAt} keeps
   * the one it had (a revert keeps the failure that caused it).
   */
  Deployment withNode(
      String node, NodeStatus nodeStatus, ErrorInfo nodeError, Instant switchedAt, Instant at) {
    TreeMap<String, NodeResult> updated = new TreeMap<>(nodes);
    NodeResult before = nodes.get(node);
    ErrorInfo error = nodeError == null && before != null ? before.error() : nodeError;
    Instant switched = switchedAt == null && before != null ? before.switchedAt() : switchedAt;
    updated.put(node, new NodeResult(nodeStatus, at, error, switched));
    return new Deployment(
        deploymentId,
        project,
        description,
        status,
        sha256,
        payloadSize,
        payloadPresent,
        user,
        originNode,
        rollbackOf,
        createdAt,
        completedAt,
        error,
        Map.copyOf(updated),
        targetNodes,
        distributionDeadline,
        eventCount,
        lastProgressBytes,
        log,
        rollout,
        gate);
  }

  Deployment completed(DeploymentStatus terminal, ErrorInfo failure, Instant at) {
    return new Deployment(
        deploymentId,
        project,
        description,
        terminal,
        sha256,
        payloadSize,
        payloadPresent,
        user,
        originNode,
        rollbackOf,
        createdAt,
        at,
        failure,
        nodes,
        targetNodes,
        distributionDeadline,
        eventCount,
        lastProgressBytes,
        log,
        rollout,
        gate);
  }

  Deployment withPayloadPresent(boolean present) {
    return new Deployment(
        deploymentId,
        project,
        description,
        status,
        sha256,
        payloadSize,
        present,
        user,
        originNode,
        rollbackOf,
        createdAt,
        completedAt,
        error,
        nodes,
        targetNodes,
        distributionDeadline,
        eventCount,
        lastProgressBytes,
        log,
        rollout,
        gate);
  }

  Deployment withGate(Gate next) {
    return new Deployment(
        deploymentId,
        project,
        description,
        status,
        sha256,
        payloadSize,
        payloadPresent,
        user,
        originNode,
        rollbackOf,
        createdAt,
        completedAt,
        error,
        nodes,
        targetNodes,
        distributionDeadline,
        eventCount,
        lastProgressBytes,
        log,
        rollout,
        next);
  }

  Deployment appendLog(
      Instant time,
      String type,
      String phase,
      String node,
      String message,
      Map<String, Long> data) {
    long seq = eventCount + 1;
    LogEntry entry =
        new LogEntry(seq, time, type, phase, node, message, data == null ? Map.of() : data);
    return new Deployment(
        deploymentId,
        project,
        description,
        status,
        sha256,
        payloadSize,
        payloadPresent,
        user,
        originNode,
        rollbackOf,
        createdAt,
        completedAt,
        error,
        nodes,
        targetNodes,
        distributionDeadline,
        seq,
        lastProgressBytes,
        log.append(entry),
        rollout,
        gate);
  }

  /** The first error among the target nodes' results, in target order; null if none failed. */
  @JsonIgnore
  ErrorInfo firstNodeError() {
    for (String node : targetNodes) {
      NodeResult r = nodes.get(node);
      if (r != null && r.error() != null) {
        return r.error();
      }
    }
    return null;
  }

  /**
   * The terminal status once every target node has a terminal node status, else null: all active →
   * succeeded; any superseded → superseded; some active → partial; none active → failed. A rollout
   * being reverted ends only once no node that switched still runs the release ({@link
   * NodeResult#awaitsRevert}), and then as reverted.
   */
  @JsonIgnore
  DeploymentStatus outcome() {
    if (targetNodes.isEmpty()) {
      return DeploymentStatus.FAILED;
    }
    int active = 0;
    boolean superseded = false;
    for (String node : targetNodes) {
      NodeResult r = nodes.get(node);
      if (r == null || !r.status().isTerminal()) {
        return null;
      }
      if (gate.stop() == Stop.REVERTED && r.awaitsRevert()) {
        return null;
      }
      if (r.status() == NodeStatus.ACTIVE) {
        active++;
      } else if (r.status() == NodeStatus.SUPERSEDED) {
        superseded = true;
      }
    }
    return outcomeOfTerminalNodes(active, superseded);
  }

  /** The outcome once every target has a terminal status (or the deadline passed). */
  @JsonIgnore
  DeploymentStatus outcomeOfTerminalNodes() {
    int active = 0;
    boolean superseded = false;
    for (String node : targetNodes) {
      NodeResult r = nodes.get(node);
      if (r != null && r.status() == NodeStatus.ACTIVE) {
        active++;
      } else if (r != null && r.status() == NodeStatus.SUPERSEDED) {
        superseded = true;
      }
    }
    return outcomeOfTerminalNodes(active, superseded);
  }

  private DeploymentStatus outcomeOfTerminalNodes(int active, boolean superseded) {
    if (superseded) {
      return DeploymentStatus.SUPERSEDED;
    }
    if (gate.stop() == Stop.REVERTED) {
      return DeploymentStatus.REVERTED;
    }
    if (active == targetNodes.size()) {
      return DeploymentStatus.SUCCEEDED;
    }
    return active > 0 ? DeploymentStatus.PARTIAL : DeploymentStatus.FAILED;
  }
}
