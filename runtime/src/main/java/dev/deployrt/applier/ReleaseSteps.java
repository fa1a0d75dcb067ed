package dev.deployrt.applier;

import dev.deployrt.archive.ArchiveExtractor;
import dev.deployrt.archive.ArchiveLimits;
import dev.deployrt.deployment.LogEntry;
import dev.deployrt.deployment.NodeStatus;
import dev.deployrt.hooks.HookRunner;
import dev.deployrt.hooks.HookSettings;
import dev.deployrt.hooks.ProjectHooks;
import dev.deployrt.release.DesiredRelease;
import dev.deployrt.rollout.Strategy;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;

/**
 * The blocking steps of taking one release on this node (run by the {@link Applier}, one job per
 * project at a time): fetch and extract it if it is not here, run its check hook, tell a two-phase
 * rollout it is prepared, switch {@code current}, run the activate hook, watch the health hook for
 * the rollout's health window, report it active; the steps a restart interrupted after a switch
 * (the activate hook, the watch) again; and the revert, which switches back to the release before.
 * Each step reports the node's status; a failure is a {@link PhaseFailure} naming its phase (and,
 * after the switch, when the node switched).
 */
final class ReleaseSteps {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ReleaseSteps.class);

  /** How a job that applied a release ended. */
  enum Applied {
    /** Switched to and reported active. */
    ACTIVE,
    /** Prepared (and reported so), waiting for the rollout to let this node switch. */
    PREPARED
  }

  private final String node;
  private final ReleaseDirectory releases;
  private final BlobSource blobs;
  private final ArchiveLimits limits;
  private final NodeReporter reporter;
  private final HookSettings hooks;
  private final HookSteps hookSteps;
  private final ReleasePruning pruning;
  private final Set<String> checked = java.util.concurrent.ConcurrentHashMap.newKeySet();

  ReleaseSteps(
      String node,
      ReleaseDirectory releases,
      BlobSource blobs,
      ArchiveLimits limits,
      NodeReporter reporter,
      HookSettings hooks,
      HookRunner runner,
      ReleasePruning pruning) {
    this.node = node;
    this.releases = releases;
    this.blobs = blobs;
    this.limits = limits;
    this.reporter = reporter;
    this.hooks = hooks;
    this.hookSteps = new HookSteps(node, releases, reporter, runner);
    this.pruning = pruning;
  }

  /**
   * Takes {@code release}: everything up to the switch, then the switch itself only if {@code
   * maySwitch} says so by then.
   */
  Applied apply(DesiredRelease release, BooleanSupplier cancelled, BooleanSupplier maySwitch)
      throws PhaseFailure {
    String project = release.project();
    String id = release.deploymentId();
    obtain(release, cancelled);
    check(release, cancelled);
    if (release.rollout().strategy() == Strategy.TWO_PHASE && release.targets().contains(node)) {
      reporter.report(project, id, NodeStatus.PREPARED, null);
    }
    if (!maySwitch.getAsBoolean()) {
      return Applied.PREPARED;
    }
    checkCancelled(cancelled);
    reporter.report(project, id, NodeStatus.ACTIVATING, null);
    String before = releases.activeRelease(project).orElse(null);
    Instant switchedAt =
        PhaseFailure.during("activate", null, () -> releases.activate(project, id));
    ProjectHooks hooksHere = hooks.of(project);
    Map<String, String> env = hookSteps.env(release, id, before);
    if (hooksHere.activate() != null) {
      hookSteps.run(release, "activate", hooksHere.activate(), id, env, cancelled, switchedAt);
      releases.marks().markActivated(project, id);
    }
    return watchAndReport(release, env, cancelled, switchedAt);
  }

  /**
   * Whether a start that finds {@code release} current, and not {@link ReleaseDirectory#settled}
   * here, has a step left to take ({@link #resume}): its health watch, or its activate hook if that
   * was interrupted.
   */
  boolean resumes(DesiredRelease release) {
    return watches(release) || activateInterrupted(release);
  }

  /** An activate hook that is configured and did not finish here after the switch. */
  private boolean activateInterrupted(DesiredRelease release) {
    String project = release.project();
    return hooks.of(project).activate() != null
        && releases.marks().keepsMarks(project)
        && !releases.marks().activated(project, release.deploymentId());
  }

  /** Whether {@code release} is watched after the switch: a health hook and a health window. */
  boolean watches(DesiredRelease release) {
    return hooks.of(release.project()).health() != null && release.rollout().healthWindowS() > 0;
  }

  /**
   * Takes up {@code release} where a restart left it: current on this node, but the steps after its
   * switch did not all finish here (the node stopped during them). The activate hook runs again if
   * it had not finished (hooks must bear running twice), then the health watch runs again for the
   * whole window, before the release is reported active.
   */
  Applied resume(DesiredRelease release, BooleanSupplier cancelled) throws PhaseFailure {
    String id = release.deploymentId();
    String project = release.project();
    Instant switchedAt = null;
    try {
      switchedAt = releases.switchedAt(release.project());
    } catch (IOException unreadable) {
      log.warn("cannot read when project {} was switched", release.project(), unreadable);
    }
    if (switchedAt == null) {
      // It did switch (it found the release current): a failure without a switch time would not
      // be reverted.
      switchedAt = Instant.now();
    }
    // The release current before the switch, as this node's activation log has it (the register's
    // release before may differ: this node may have run an older one).
    String before =
        releases
            .switchedFrom(project)
            .orElse(release.previous() == null ? null : release.previous().deploymentId());
    Map<String, String> env = hookSteps.env(release, id, before);
    if (activateInterrupted(release)) {
      reporter.log(
          id,
          LogEntry.PHASE,
          "activate",
          node + " stopped before the activate hook finished: running it again",
          Map.of());
      hookSteps.run(
          release, "activate", hooks.of(project).activate(), id, env, cancelled, switchedAt);
      releases.marks().markActivated(project, id);
    }
    return watchAndReport(release, env, cancelled, switchedAt);
  }

  /** The health watch (if the release has one), then the prune and the {@code active} report. */
  private Applied watchAndReport(
      DesiredRelease release,
      Map<String, String> env,
      BooleanSupplier cancelled,
      Instant switchedAt)
      throws PhaseFailure {
    String project = release.project();
    String id = release.deploymentId();
    if (watches(release)) {
      reporter.report(project, id, NodeStatus.WATCHING, null, switchedAt);
      hookSteps.watch(release, hooks.of(project).health(), env, cancelled, switchedAt);
    }
    releases.marks().markSettled(project, id);
    List<NodeReporter.Note> notes = new ArrayList<>();
    ReleasePruner.SetAside aside = pruning.setAside(release, cancelled, notes);
    reporter.report(project, id, NodeStatus.ACTIVE, null, switchedAt, notes);
    pruning.finish(aside);
    return Applied.ACTIVE;
  }

  /** Fetches and extracts the release unless it is here (as a directory, or an alias of one). */
  private void obtain(DesiredRelease release, BooleanSupplier cancelled) throws PhaseFailure {
    String project = release.project();
    String id = release.deploymentId();
    String source = release.sourceDeploymentId();
    if (!releases.hasRelease(project, id)
        && source != null
        && releases.hasRelease(project, source)) {
      PhaseFailure.act("activate", null, () -> releases.createAlias(project, id, source));
      reporter.log(
          id,
          LogEntry.LOG,
          "activate",
          "release of deployment "
              + source
              + " is already on "
              + node
              + ": switching back to it without fetching or extracting",
          Map.of());
    }
    if (!releases.hasRelease(project, id)) {
      reporter.report(project, id, NodeStatus.FETCHING, null);
      fetchAndExtract(release, cancelled);
    }
  }

  /** Runs the check hook in the new release, once per release per run of this node. */
  private void check(DesiredRelease release, BooleanSupplier cancelled) throws PhaseFailure {
    ProjectHooks.Command hook = hooks.of(release.project()).check();
    String id = release.deploymentId();
    if (hook == null || checked.contains(id)) {
      return;
    }
    reporter.report(release.project(), id, NodeStatus.CHECKING, null);
    String current = releases.activeRelease(release.project()).orElse(null);
    hookSteps.run(release, "check", hook, id, hookSteps.env(release, id, current), cancelled, null);
    checked.add(id);
  }

  /**
   * Switches the project back from {@code release} to the release before it (or to none, if it was
   * the first), running the activate hook again, and reports the node {@code reverted}.
   */
  void revert(DesiredRelease release, BooleanSupplier cancelled) {
    String project = release.project();
    String id = release.deploymentId();
    DesiredRelease previous = release.previous();
    try {
      if (previous == null) {
        PhaseFailure.act("revert", null, () -> releases.deactivate(project));
      } else {
        obtain(previous, cancelled);
        String back = previous.deploymentId();
        PhaseFailure.act("revert", null, () -> releases.activate(project, back));
        ProjectHooks.Command activate = hooks.of(project).activate();
        try {
          if (activate != null) {
            Map<String, String> env = hookSteps.env(previous, back, id);
            hookSteps.run(release, "revert", activate, back, env, cancelled, null);
            releases.marks().markActivated(project, back);
          }
        } finally {
          // The revert's steps end with its hook, and their outcome (a failed hook included) goes
          // on the record: a start neither takes them up nor reverts again. Only a stop during
          // the hook leaves the release unsettled.
          releases.marks().markSettled(project, back);
        }
      }
      reporter.log(
          id,
          LogEntry.PHASE,
          "revert",
          node
              + " switched back to "
              + (previous == null
                  ? "no release (this was the project's first)"
                  : previous.deploymentId()),
          Map.of());
      reporter.report(project, id, NodeStatus.REVERTED, null);
    } catch (PhaseFailure e) {
      log.warn("reverting {} of project {} failed", id, project, e);
      reporter.report(project, id, NodeStatus.REVERTED, PhaseFailure.errorInfo(e, node));
    }
  }

  /**
   * Fetch and extraction overlap: the archive is extracted into the release's staging directory
   * while the payload arrives, and the directory is published only once the payload's digest
   * matched. Each fetch attempt starts from an empty directory.
   */
  private void fetchAndExtract(DesiredRelease release, BooleanSupplier cancelled)
      throws PhaseFailure {
    String project = release.project();
    String id = release.deploymentId();
    try {
      releases.createRelease(
          project,
          id,
          dir -> {
            try {
              blobs.obtain(
                  release,
                  cancelled,
                  () -> reporter.report(project, id, NodeStatus.EXTRACTING, null),
                  in -> {
                    TreeRemoval.emptyDirectory(dir);
                    ArchiveExtractor.extract(in, dir, limits, cancelled);
                  });
            } catch (IOException | RuntimeException e) {
              throw e;
            } catch (Exception e) {
              throw new IOException(e);
            }
          });
    } catch (CancellationException e) {
      throw e;
    } catch (BlobSource.ExtractionFailed e) {
      throw new PhaseFailure("extract", e.getCause());
    } catch (Exception e) {
      throw new PhaseFailure("fetch", e);
    }
  }

  private static void checkCancelled(BooleanSupplier cancelled) {
    if (cancelled.getAsBoolean()) {
      throw new CancellationException("superseded");
    }
  }

  /** Releases a job needs besides the ones pruning keeps anyway. */
  static Set<String> needed(DesiredRelease release) {
    Set<String> needed = new HashSet<>();
    needed.add(release.deploymentId());
    if (release.sourceDeploymentId() != null) {
      needed.add(release.sourceDeploymentId());
    }
    if (release.previous() != null) {
      needed.add(release.previous().deploymentId());
    }
    return needed;
  }
}
