package dev.deployrt.deployment;

import com.fasterxml.jackson.annotation.JsonIgnore;
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
    EventLog log)
    implements JsonSerializable {

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
        EventLog.EMPTY);
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
        log);
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
        log);
  }

  Deployment distributing(
      String sha, long size, List<String> targets, Instant deadline, Instant at) {
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
        log);
  }

  Deployment withNode(String node, NodeStatus nodeStatus, ErrorInfo nodeError, Instant at) {
    TreeMap<String, NodeResult> updated = new TreeMap<>(nodes);
    updated.put(node, new NodeResult(nodeStatus, at, nodeError));
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
        log);
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
        log);
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
        log);
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
        log.append(entry));
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
   * succeeded; any superseded → superseded; some active → partial; none active → failed.
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
      if (r.status() == NodeStatus.ACTIVE) {
        active++;
      } else if (r.status() == NodeStatus.SUPERSEDED) {
        superseded = true;
      }
    }
    if (active == targetNodes.size()) {
      return DeploymentStatus.SUCCEEDED;
    }
    if (superseded) {
      return DeploymentStatus.SUPERSEDED;
    }
    return active > 0 ? DeploymentStatus.PARTIAL : DeploymentStatus.FAILED;
  }
}
