package dev.deployrt.deployment;

import dev.deployrt.deployment.DeploymentEntity.Completed;
import dev.deployrt.deployment.DeploymentEntity.Event;
import dev.deployrt.deployment.DeploymentEntity.Logged;
import dev.deployrt.deployment.DeploymentEntity.NodeStatusChanged;
import dev.deployrt.deployment.DeploymentEntity.ReportNodeStatus;
import dev.deployrt.deployment.DeploymentEntity.RolloutAdvanced;
import dev.deployrt.deployment.DeploymentEntity.RolloutStopped;
import dev.deployrt.errors.ErrorCode;
import dev.deployrt.rollout.RolloutPlan;
import dev.deployrt.rollout.Stop;
import dev.deployrt.rollout.Strategy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiPredicate;

/**
 * What a node's report does to a distributing deployment, as journal events: the node's new status,
 * the switch skew once every target has switched, the rollout's next step (API.md, "Rollout
 * strategies and hooks") and the outcome. Pure: the entity persists what this returns.
 *
 * <p>The rollout's steps: a two-phase rollout opens (the switch order) once every target is
 * prepared, and stops (aborted) if one fails first; a canary rollout opens to every node once its
 * canaries are active (their health watch passed), and stops if one fails (reverted if it had
 * switched and the plan reverts, else aborted); any rollout with auto-revert is reverted when a
 * node fails after its switch. When a rollout stops, every target that has not switched ends {@code
 * aborted} at once; with a revert, the nodes that switched end {@code reverted} when they report
 * that they switched back.
 */
final class RolloutProgress {
  private RolloutProgress() {}

  /** The events {@code report} yields on {@code state} (none if it changes nothing). */
  static List<Event> onReport(Deployment state, ReportNodeStatus report, Instant at) {
    NodeResult before = state.nodes().get(report.node());
    if (!accepts(state, before, report.status())) {
      return List.of();
    }
    List<Event> events = new ArrayList<>();
    Deployment after =
        add(
            events,
            state,
            new NodeStatusChanged(
                report.node(), report.status(), report.error(), report.switchedAt(), at));
    if (state.isTerminal()) {
      return events;
    }
    after = add(events, after, skew(state, after, at));
    after = nextStep(events, after, at);
    DeploymentStatus outcome = after.outcome();
    if (outcome != null) {
      add(events, after, new Completed(outcome, after.firstNodeError(), at));
    }
    return events;
  }

  /**
   * Nodes only move forward; a report that would not is redundant. Once a rollout is being
   * reverted, a node that switched may move on to {@code reverted}.
   */
  static boolean accepts(Deployment state, NodeResult before, NodeStatus status) {
    if (before == null) {
      return true;
    }
    if (status == NodeStatus.REVERTED) {
      return state.gate().stop() == Stop.REVERTED
          && before.status() != NodeStatus.REVERTED
          && before.status() != NodeStatus.ABORTED
          && before.status() != NodeStatus.SUPERSEDED;
    }
    return !before.status().isTerminal() && status.ordinal() > before.status().ordinal();
  }

  /** The rollout's next step on {@code d}, added to {@code events}; the state after it. */
  private static Deployment nextStep(List<Event> events, Deployment d, Instant at) {
    if (d.gate().stop() != null) {
      return d;
    }
    RolloutPlan plan = d.rollout();
    for (String node : d.targetNodes()) {
      NodeResult r = d.nodes().get(node);
      if (plan.autoRevert()
          && r != null
          && r.status() == NodeStatus.FAILED
          && r.switchedAt() != null) {
        return stop(events, d, Stop.REVERTED, r.error(), at);
      }
    }
    if (d.gate().isOpen()) {
      return d;
    }
    return plan.strategy() == Strategy.TWO_PHASE ? twoPhase(events, d, at) : canary(events, d, at);
  }

  private static Deployment twoPhase(List<Event> events, Deployment d, Instant at) {
    int prepared = 0;
    for (String node : d.targetNodes()) {
      NodeResult r = d.nodes().get(node);
      if (r.status().isTerminal()) {
        return stop(events, d, Stop.ABORTED, failureOf(node, r), at);
      }
      if (r.status() == NodeStatus.PREPARED) {
        prepared++;
      }
    }
    if (prepared < d.targetNodes().size()) {
      return d;
    }
    return add(
        events,
        d,
        new RolloutAdvanced(
            d.gate().opened(),
            "activate",
            "all " + prepared + " target nodes are prepared: switch order sent",
            at));
  }

  private static Deployment canary(List<Event> events, Deployment d, Instant at) {
    List<String> canaries = d.gate().startNodes();
    for (String node : canaries) {
      NodeResult r = d.nodes().get(node);
      if (r != null && r.status().isTerminal() && r.status() != NodeStatus.ACTIVE) {
        boolean revert = d.rollout().autoRevert() && anySwitched(d);
        return stop(events, d, revert ? Stop.REVERTED : Stop.ABORTED, failureOf(node, r), at);
      }
      if (r == null || r.status() != NodeStatus.ACTIVE) {
        return d;
      }
    }
    return add(
        events,
        d,
        new RolloutAdvanced(
            d.gate().opened(),
            "health",
            "canary node(s) "
                + String.join(", ", canaries)
                + " passed: the rollout continues to the other "
                + (d.targetNodes().size() - canaries.size())
                + " target node(s)",
            at));
  }

  private static boolean anySwitched(Deployment d) {
    return d.nodes().values().stream().anyMatch(NodeResult::awaitsRevert);
  }

  /** The rollout stops: every target that has not switched (and is not done) is aborted. */
  private static Deployment stop(
      List<Event> events, Deployment d, Stop why, ErrorInfo cause, Instant at) {
    String message =
        why == Stop.REVERTED
            ? "reverting: "
                + describe(cause)
                + "; every node that switched goes back to the release before"
            : "rollout stopped: " + describe(cause) + "; no other node will switch";
    return stopRollout(
        events,
        d,
        why,
        cause,
        message,
        at,
        (node, r) -> !r.status().isTerminal() && !r.status().mayHaveSwitched());
  }

  /**
   * The rollout stops ({@code why}, told as {@code message}); then every target whose result {@code
   * abort} accepts (node, result) ends {@code aborted}. The state after both.
   */
  static Deployment stopRollout(
      List<Event> events,
      Deployment d,
      Stop why,
      ErrorInfo cause,
      String message,
      Instant at,
      BiPredicate<String, NodeResult> abort) {
    Deployment stopped =
        add(events, d, new RolloutStopped(d.gate().stopped(why), cause, message, at));
    Deployment after = stopped;
    for (String node : d.targetNodes()) {
      NodeResult r = d.nodes().get(node);
      if (r != null && abort.test(node, r)) {
        after = add(events, after, new NodeStatusChanged(node, NodeStatus.ABORTED, null, null, at));
      }
    }
    return after;
  }

  private static String describe(ErrorInfo cause) {
    return cause == null
        ? "a target node failed"
        : cause.node() + " failed (" + cause.code() + ": " + cause.message() + ")";
  }

  private static ErrorInfo failureOf(String node, NodeResult r) {
    if (r.error() != null) {
      return r.error();
    }
    return ErrorInfo.of(
        node + " ended " + r.status().apiName() + " before the rollout could go on",
        r.status() == NodeStatus.SUPERSEDED ? ErrorCode.SUPERSEDED : ErrorCode.APPLY_FAILED,
        "distribute",
        node);
  }

  /**
   * Once every target has switched (and there are several), an {@code activate} phase event with
   * the skew between the first and the last switch; null otherwise.
   */
  private static Logged skew(Deployment before, Deployment after, Instant at) {
    if (after.targetNodes().size() < 2 || allSwitched(before) || !allSwitched(after)) {
      return null;
    }
    Instant first = null;
    Instant last = null;
    for (String node : after.targetNodes()) {
      Instant t = after.nodes().get(node).switchedAt();
      first = first == null || t.isBefore(first) ? t : first;
      last = last == null || t.isAfter(last) ? t : last;
    }
    long skewMs = Duration.between(first, last).toMillis();
    return new Logged(
        LogEntry.PHASE,
        "activate",
        null,
        after.targetNodes().size() + " nodes switched within " + skewMs + " ms",
        Map.of("nodes", (long) after.targetNodes().size(), "skew_ms", skewMs),
        at);
  }

  private static boolean allSwitched(Deployment d) {
    for (String node : d.targetNodes()) {
      NodeResult r = d.nodes().get(node);
      if (r == null || r.switchedAt() == null) {
        return false;
      }
    }
    return true;
  }

  private static Deployment add(List<Event> events, Deployment d, Event event) {
    if (event == null) {
      return d;
    }
    events.add(event);
    return DeploymentEventHandler.apply(d, event);
  }

  /** Whether {@code events} move the rollout's gate (so the register must hear of it). */
  static boolean movesGate(List<Event> events) {
    return events.stream()
        .anyMatch(e -> e instanceof RolloutAdvanced || e instanceof RolloutStopped);
  }
}
