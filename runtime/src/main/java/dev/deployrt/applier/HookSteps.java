package dev.deployrt.applier;

import dev.deployrt.deployment.LogEntry;
import dev.deployrt.hooks.HealthWatch;
import dev.deployrt.hooks.HookRunner;
import dev.deployrt.hooks.ProjectHooks;
import dev.deployrt.release.DesiredRelease;
import java.io.IOException;
import java.time.Instant;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * A release's hooks as {@link ReleaseSteps} runs them: a command (check, activate, or activate
 * again for a revert) or the health watch, in the release's directory with API.md's variables, its
 * output logged on the deployment; a hook that fails is a {@link PhaseFailure} of its phase.
 */
final class HookSteps {
  private final String node;
  private final ReleaseDirectory releases;
  private final NodeReporter reporter;
  private final HookRunner runner;
  private final HealthWatch health;

  HookSteps(String node, ReleaseDirectory releases, NodeReporter reporter, HookRunner runner) {
    this.node = node;
    this.releases = releases;
    this.reporter = reporter;
    this.runner = runner;
    this.health = new HealthWatch(runner);
  }

  /**
   * Runs a hook command in the release {@code inRelease}, logging its output on the deployment.
   *
   * @param phase {@code check}, {@code activate} or {@code revert} (which runs the activate hook)
   */
  void run(
      DesiredRelease release,
      String phase,
      ProjectHooks.Command hook,
      String inRelease,
      Map<String, String> env,
      BooleanSupplier cancelled,
      Instant switchedAt)
      throws PhaseFailure {
    String hookName = phase.equals("revert") ? "activate" : phase;
    HookRunner.Run run =
        PhaseFailure.during(
            phase,
            switchedAt,
            () ->
                runner.run(
                    hookName,
                    hook,
                    releases.releasePath(release.project(), inRelease).toAbsolutePath(),
                    env,
                    cancelled));
    for (String line : run.lastLines()) {
      reporter.log(release.deploymentId(), LogEntry.LOG, phase, line, Map.of());
    }
    reporter.log(
        release.deploymentId(), LogEntry.LOG, phase, node + ": " + run.summary(), Map.of());
    if (!run.ok()) {
      throw new PhaseFailure(phase, new IOException(run.summary()), switchedAt);
    }
  }

  void watch(
      DesiredRelease release,
      ProjectHooks.Health hook,
      Map<String, String> env,
      BooleanSupplier cancelled,
      Instant switchedAt)
      throws PhaseFailure {
    String id = release.deploymentId();
    HealthWatch.Result result =
        PhaseFailure.during(
            "health",
            switchedAt,
            () ->
                health.watch(
                    hook,
                    release.rollout().healthWindow(),
                    releases.releasePath(release.project(), id).toAbsolutePath(),
                    env,
                    cancelled));
    if (!result.healthy()) {
      throw new PhaseFailure(
          "health",
          new IOException(hook.failures() + " health check(s) in a row failed: " + result.reason()),
          switchedAt);
    }
    reporter.log(
        id,
        LogEntry.PHASE,
        "health",
        node
            + " stayed healthy for "
            + release.rollout().healthWindowS()
            + " s ("
            + result.polls()
            + " checks of "
            + hook.describe()
            + ")",
        Map.of("polls", (long) result.polls()));
  }

  /** The variables a hook runs with (API.md). */
  Map<String, String> env(DesiredRelease release, String inRelease, String previous) {
    String project = release.project();
    return Map.of(
        "DEPLOY_PROJECT",
        project,
        "DEPLOY_DEPLOYMENT_ID",
        inRelease,
        "DEPLOY_RELEASE_DIR",
        releases.releasePath(project, inRelease).toAbsolutePath().toString(),
        "DEPLOY_PREVIOUS_RELEASE_DIR",
        previous == null
            ? ""
            : releases.releasePath(project, previous).toAbsolutePath().toString());
  }
}
