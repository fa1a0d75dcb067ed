package dev.deployrt.deployment;

import dev.deployrt.deployment.DeploymentEntity.Completed;
import dev.deployrt.deployment.DeploymentEntity.Event;
import dev.deployrt.deployment.DeploymentEntity.NodeStatusChanged;
import dev.deployrt.errors.ErrorCode;
import dev.deployrt.rollout.Gate;
import dev.deployrt.rollout.Stop;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * How a distribution ends without every node's report, as journal events: at its deadline, or when
 * a newer deployment of the project took over. Pure: the entity persists what this returns.
 */
final class DistributionEnd {
  private DistributionEnd() {}

  /** Every target that has not ended is superseded by {@code newerId}; then the outcome. */
  static List<Event> superseded(Deployment state, String newerId, Instant at) {
    List<Event> events = new ArrayList<>();
    endUnfinished(
        events,
        state,
        NodeStatus.SUPERSEDED,
        node ->
            ErrorInfo.of(
                "superseded by deployment " + newerId, ErrorCode.SUPERSEDED, "distribute", node),
        at);
    return events;
  }

  /**
   * The distribution deadline: every target that has not reported an end fails ({@code
   * NODE_TIMEOUT}). A rollout still waiting for its targets to prepare or its canaries to pass
   * stops first: the targets that were waiting for it (prepared, or not allowed to start) are
   * aborted, not timed out, and no node switches any more.
   */
  static List<Event> atDeadline(Deployment state, Duration timeout, Instant at) {
    List<Event> events = new ArrayList<>();
    Deployment after = state;
    if (!state.gate().isOpen() && state.gate().stop() == null) {
      Gate gate = state.gate();
      after =
          RolloutProgress.stopRollout(
              events,
              state,
              Stop.ABORTED,
              null,
              "rollout stopped: not every target was ready within "
                  + timeout.toSeconds()
                  + " s; no other node will switch",
              at,
              (node, r) ->
                  r.status() == NodeStatus.PREPARED
                      || (r.status() == NodeStatus.PENDING && !gate.mayStart(node)));
    }
    Deployment before = after;
    endUnfinished(
        events,
        after,
        NodeStatus.FAILED,
        node -> {
          NodeResult r = before.nodes().get(node);
          return ErrorInfo.of(
              "node did not report within " + timeout.toSeconds() + " s",
              ErrorCode.NODE_TIMEOUT,
              DeploymentEventHandler.phaseOf(r == null ? NodeStatus.PENDING : r.status()),
              node);
        },
        at);
    return events;
  }

  /**
   * Every target node that has not reached a terminal status is given {@code status} with the error
   * {@code why} names for it, then the deployment completes with the outcome.
   */
  private static void endUnfinished(
      List<Event> events,
      Deployment state,
      NodeStatus status,
      java.util.function.Function<String, ErrorInfo> why,
      Instant at) {
    Deployment after = state;
    for (String node : state.targetNodes()) {
      NodeResult r = after.nodes().get(node);
      if (r == null || !r.status().isTerminal()) {
        after = add(events, after, new NodeStatusChanged(node, status, why.apply(node), null, at));
      }
    }
    events.add(new Completed(after.outcomeOfTerminalNodes(), after.firstNodeError(), at));
  }

  private static Deployment add(List<Event> events, Deployment d, Event event) {
    events.add(event);
    return DeploymentEventHandler.apply(d, event);
  }
}
