package dev.deployrt.deployment;

import dev.deployrt.deployment.DeploymentEntity.Completed;
import dev.deployrt.deployment.DeploymentEntity.Created;
import dev.deployrt.deployment.DeploymentEntity.Event;
import dev.deployrt.deployment.DeploymentEntity.Logged;
import dev.deployrt.deployment.DeploymentEntity.NodeStatusChanged;
import dev.deployrt.deployment.DeploymentEntity.PayloadPruned;
import dev.deployrt.deployment.DeploymentEntity.PayloadStored;
import dev.deployrt.deployment.DeploymentEntity.RolloutAdvanced;
import dev.deployrt.deployment.DeploymentEntity.RolloutStopped;
import dev.deployrt.deployment.DeploymentEntity.UploadFailed;
import dev.deployrt.deployment.DeploymentEntity.UploadProgressed;
import dev.deployrt.rollout.RolloutPlan;
import dev.deployrt.rollout.Stop;
import java.util.Map;

/**
 * The deployment's event handler as a plain function: the state and log entries each journal event
 * yields. Pure (no clock, no IO), so recovery rebuilds exactly the same state; shared by {@link
 * DeploymentEntity} and the read model's projection, so both derive the same status, nodes and
 * event count from the same events.
 */
public final class DeploymentEventHandler {

  private DeploymentEventHandler() {}

  public static Deployment apply(Deployment s, Event event) {
    if (event instanceof Created e) {
      return applyCreated(s, e);
    } else if (event instanceof UploadProgressed e) {
      return s.withProgress(e.bytes())
          .appendLog(
              e.at(),
              LogEntry.PROGRESS,
              "upload",
              s.originNode(),
              e.bytes() + " bytes received",
              Map.of("bytes", e.bytes()));
    } else if (event instanceof PayloadStored e) {
      return applyPayloadStored(s, e);
    } else if (event instanceof UploadFailed e) {
      return s.completed(DeploymentStatus.FAILED, e.error(), e.at())
          .appendLog(
              e.at(),
              LogEntry.ERROR,
              e.error().phase(),
              e.error().node(),
              e.error().code() + ": " + e.error().message(),
              Map.of());
    } else if (event instanceof NodeStatusChanged e) {
      return applyNodeStatus(s, e);
    } else if (event instanceof Completed e) {
      return s.completed(e.status(), e.error(), e.at())
          .appendLog(
              e.at(),
              LogEntry.PHASE,
              "distribute",
              null,
              "distribution finished: " + e.status().apiName(),
              Map.of());
    } else if (event instanceof Logged e) {
      return s.appendLog(e.at(), e.type(), e.phase(), e.node(), e.message(), e.data());
    } else if (event instanceof RolloutAdvanced e) {
      return s.withGate(e.gate())
          .appendLog(e.at(), LogEntry.PHASE, e.phase(), null, e.message(), Map.of());
    } else if (event instanceof RolloutStopped e) {
      boolean revert = e.gate().stop() == Stop.REVERTED;
      return s.withGate(e.gate())
          .appendLog(
              e.at(),
              revert ? LogEntry.PHASE : LogEntry.WARNING,
              revert ? "revert" : "distribute",
              e.cause() == null ? null : e.cause().node(),
              e.message(),
              Map.of());
    } else if (event instanceof PayloadPruned e) {
      return s.withPayloadPresent(false)
          .appendLog(e.at(), LogEntry.LOG, null, null, "payload deleted by " + e.user(), Map.of());
    }
    throw new IllegalArgumentException("unknown event " + event);
  }

  private static Deployment applyCreated(Deployment s, Created e) {
    Deployment d =
        s.created(e.project(), e.description(), e.user(), e.originNode(), e.rollbackOf(), e.at());
    if (e.rollbackOf() != null) {
      return d.appendLog(
          e.at(),
          LogEntry.LOG,
          null,
          e.originNode(),
          "rollback to the payload of deployment " + e.rollbackOf(),
          Map.of());
    }
    return d.appendLog(
        e.at(), LogEntry.PHASE, "upload", e.originNode(), "upload started", Map.of());
  }

  private static Deployment applyPayloadStored(Deployment s, PayloadStored e) {
    Deployment d = s;
    if (s.rollbackOf() == null) {
      d =
          d.appendLog(
              e.at(),
              LogEntry.PHASE,
              "upload",
              s.originNode(),
              "upload finished",
              Map.of("bytes", e.size()));
    }
    RolloutPlan plan = e.rollout() == null ? RolloutPlan.LEGACY : e.rollout();
    return d.distributing(e.sha256(), e.size(), e.targetNodes(), e.deadline(), plan, e.at())
        .appendLog(
            e.at(),
            LogEntry.PHASE,
            "store",
            s.originNode(),
            "payload verified and stored: sha256 " + e.sha256(),
            Map.of("bytes", e.size()))
        .appendLog(
            e.at(),
            LogEntry.PHASE,
            "distribute",
            null,
            "distribution started to "
                + e.targetNodes().size()
                + " node(s)"
                + (plan.strategy() == dev.deployrt.rollout.Strategy.ALL_AT_ONCE
                    ? ""
                    : ", rollout " + plan.strategy().apiName()),
            Map.of("nodes", (long) e.targetNodes().size()));
  }

  private static Deployment applyNodeStatus(Deployment s, NodeStatusChanged e) {
    NodeResult before = s.nodes().get(e.node());
    NodeStatus from = before == null ? NodeStatus.PENDING : before.status();
    Deployment d = s.withNode(e.node(), e.status(), e.error(), e.switchedAt(), e.at());
    // The phase the node was in ends, the one it enters starts. A node may skip phases (a rollback
    // to a release it holds goes from pending to activating): those were not run and are not
    // logged.
    if (isWorking(from) && e.status().ordinal() > from.ordinal()) {
      d =
          d.appendLog(
              e.at(),
              LogEntry.PHASE,
              phaseOf(from),
              e.node(),
              phaseOf(from) + " finished",
              Map.of());
    }
    if (isWorking(e.status())) {
      d =
          d.appendLog(
              e.at(),
              LogEntry.PHASE,
              phaseOf(e.status()),
              e.node(),
              phaseOf(e.status()) + " started",
              Map.of());
    }
    String message = e.node() + " is " + e.status().apiName();
    d =
        d.appendLog(
            e.at(),
            LogEntry.NODE,
            phaseOf(e.status() == NodeStatus.FAILED ? from : e.status()),
            e.node(),
            message,
            Map.of());
    if (e.error() != null
        && (e.status() == NodeStatus.FAILED || e.status() == NodeStatus.REVERTED)) {
      d =
          d.appendLog(
              e.at(),
              LogEntry.ERROR,
              e.error().phase(),
              e.node(),
              e.error().code() + ": " + e.error().message(),
              Map.of());
    }
    return d;
  }

  private static boolean isWorking(NodeStatus status) {
    return status == NodeStatus.FETCHING
        || status == NodeStatus.EXTRACTING
        || status == NodeStatus.CHECKING
        || status == NodeStatus.ACTIVATING
        || status == NodeStatus.WATCHING;
  }

  /** The lifecycle phase a node in this status is in (or, if it failed, was last in). */
  static String phaseOf(NodeStatus status) {
    return switch (status) {
      case PENDING, FETCHING -> "fetch";
      case EXTRACTING -> "extract";
      case CHECKING, PREPARED -> "check";
      case ACTIVATING, ACTIVE -> "activate";
      case WATCHING -> "health";
      case REVERTED -> "revert";
      case FAILED, SUPERSEDED, ABORTED -> "distribute";
    };
  }
}
