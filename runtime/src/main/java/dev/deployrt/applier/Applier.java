package dev.deployrt.applier;

import dev.deployrt.archive.ArchiveLimits;
import dev.deployrt.async.Failures;
import dev.deployrt.deployment.ErrorInfo;
import dev.deployrt.deployment.NodeStatus;
import dev.deployrt.errors.ErrorCode;
import dev.deployrt.hooks.HookRunner;
import dev.deployrt.hooks.HookSettings;
import dev.deployrt.release.DesiredRelease;
import dev.deployrt.release.ReleaseRegister;
import dev.deployrt.rollout.Gate;
import dev.deployrt.rollout.Stop;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * One per node: makes the node converge to every project's desired release, as far as the release's
 * rollout lets this node go ({@link Gate}).
 *
 * <p>Per project, one job at a time ({@link ReleaseSteps}): fetch the payload (if absent), extract
 * it into a new release directory (validated again, entry by entry), run the check hook, switch
 * {@code current} when the gate lets this node switch (else report {@code prepared} and wait), run
 * the activate hook, watch the health hook, report each step. A node the gate does not let start
 * runs the release before ({@link DesiredRelease#previous}). When the rollout stops, a node that
 * had switched switches back if it is reverted ({@code reverted}), and one that had not drops the
 * release ({@code aborted}). A newer desired release cancels a job in progress (reported {@code
 * superseded}) and runs when it has stopped. A release already extracted (a redo after restart) is
 * switched to without extracting again; a rollback whose source release is on the node becomes an
 * alias of it (no fetch, no extract); one already active is just reported active, unless the steps
 * after its switch did not all finish on this node ({@link StepMarks#settled}): then an interrupted
 * activate hook runs again, and the health watch again in full, first. A release that failed here
 * is not tried again until the node restarts or a newer one comes.
 *
 * <p>After a release is active, once per project after the node starts, and every {@code
 * pruneInterval}, the project's releases past its {@code keep_releases} are pruned in the same
 * serial job, so pruning never races an extraction or a switch.
 *
 * <p>Threading: the actor owns the bookkeeping; the blocking work runs on {@code blocking} and
 * reports back with a message. A crash mid-extract leaves only a staging directory, removed at the
 * next start, and the job is redone when the register is read again.
 */
public final class Applier {
  public sealed interface Command {}

  /** The whole register, as the release register publishes it. */
  public record DesiredChanged(Map<String, DesiredRelease> desired) implements Command {}

  private record JobEnded(Job job, ReleaseSteps.Applied applied, Throwable failure)
      implements Command {}

  /** Time to prune every project again (orphans: releases a crash or a failed prune left). */
  private enum PruneAll implements Command {
    INSTANCE
  }

  /** How many active releases of a project to keep (its {@code keep_releases}). Blocking. */
  @FunctionalInterface
  public interface KeepReleases {
    int of(String project) throws Exception;
  }

  /** What a job does with its release. */
  private enum Kind {
    APPLY,
    /** The steps after the switch (activate hook, health watch) that a restart interrupted. */
    RESUME,
    REVERT,
    PRUNE
  }

  private record Job(DesiredRelease release, Kind kind, AtomicBoolean cancelled) {
    boolean does(Job other) {
      return other != null
          && kind == other.kind
          && release.deploymentId().equals(other.release.deploymentId());
    }
  }

  private final String node;
  private final ReleaseDirectory releases;
  private final Executor blocking;
  private final NodeReporter reporter;
  private final ActorContext<Command> ctx;
  private final ReleaseSteps steps;
  private final ReleasePruning pruning;
  private final Map<String, Job> running = new HashMap<>();
  private final Set<String> reportedActive = new HashSet<>();
  private final Set<String> prepared = new HashSet<>();
  private final Set<String> failed = new HashSet<>();
  private final Set<String> stopReported = new HashSet<>();
  private final Set<String> prunedSinceStart = new HashSet<>();

  /** The register as last heard, read by jobs to know whether they may switch yet. */
  private final Map<String, DesiredRelease> latest = new ConcurrentHashMap<>();

  /**
   * Subscribes to {@code register} and converges to what it says.
   *
   * @param runner runs the hooks (may be null if {@code hooks} has none)
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  public static Behavior<Command> create(
      String node,
      ReleaseDirectory releases,
      BlobSource blobs,
      ArchiveLimits limits,
      Executor blocking,
      NodeReporter reporter,
      KeepReleases keepReleases,
      Duration pruneInterval,
      ActorRef<ReleaseRegister.Command> register,
      HookSettings hooks,
      HookRunner runner) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  ActorRef<Map> desired =
                      ctx.messageAdapter(
                          Map.class, m -> new DesiredChanged((Map<String, DesiredRelease>) m));
                  register.tell(new ReleaseRegister.Subscribe((ActorRef) desired));
                  timers.startTimerWithFixedDelay(PruneAll.INSTANCE, pruneInterval);
                  ReleasePruning pruning =
                      new ReleasePruning(node, releases, keepReleases, reporter);
                  ReleaseSteps steps =
                      new ReleaseSteps(
                          node, releases, blobs, limits, reporter, hooks, runner, pruning);
                  return new Applier(node, releases, blocking, reporter, steps, pruning, ctx)
                      .behavior();
                }));
  }

  private Applier(
      String node,
      ReleaseDirectory releases,
      Executor blocking,
      NodeReporter reporter,
      ReleaseSteps steps,
      ReleasePruning pruning,
      ActorContext<Command> ctx) {
    this.node = node;
    this.releases = releases;
    this.blocking = blocking;
    this.reporter = reporter;
    this.steps = steps;
    this.pruning = pruning;
    this.ctx = ctx;
  }

  private Behavior<Command> behavior() {
    return Behaviors.receive(Command.class)
        .onMessage(DesiredChanged.class, this::onDesiredChanged)
        .onMessage(JobEnded.class, this::onJobEnded)
        .onMessage(PruneAll.class, this::onPruneAll)
        .build();
  }

  private Behavior<Command> onDesiredChanged(DesiredChanged msg) {
    latest.keySet().retainAll(msg.desired().keySet());
    latest.putAll(msg.desired());
    // Jobs that are no longer wanted are cancelled before anything else is reported or started.
    msg.desired().values().stream()
        .filter(d -> running.containsKey(d.project()))
        .forEach(this::converge);
    msg.desired().values().stream()
        .filter(d -> !running.containsKey(d.project()))
        .forEach(this::converge);
    return Behaviors.same();
  }

  /** Prunes every project whose current release is active here and that runs no job now. */
  private Behavior<Command> onPruneAll(PruneAll tick) {
    for (DesiredRelease release : latest.values()) {
      DesiredRelease current = release.current();
      String project = release.project();
      if (current != null
          && !running.containsKey(project)
          && releases.activeRelease(project).filter(current.deploymentId()::equals).isPresent()) {
        start(new Job(current, Kind.PRUNE, new AtomicBoolean()));
      }
    }
    return Behaviors.same();
  }

  /**
   * Starts what the project's desired release asks of this node now, or cancels the job running if
   * it no longer does that (it converges again when it has stopped).
   */
  private void converge(DesiredRelease desired) {
    String project = desired.project();
    String active = releases.activeRelease(project).orElse(null);
    Job job = running.get(project);
    if (job != null) {
      if (outdated(job, desired, active)) {
        job.cancelled().set(true);
      }
      return;
    }
    Job wanted = wanted(desired, active);
    if (wanted != null) {
      start(wanted);
    } else if (active != null && prunedSinceStart.add(project)) {
      DesiredRelease current = desired.current();
      if (current != null && current.deploymentId().equals(active)) {
        start(new Job(current, Kind.PRUNE, new AtomicBoolean()));
      }
    }
  }

  /**
   * Whether the running {@code job} is no longer what {@code desired} asks of this node: a newer
   * release came, the rollout stopped before this node switched (or was reverted), or the rollout
   * now lets this node start the release it was waiting for instead of running the one before. Its
   * own release's health watch goes on while the rollout goes on.
   */
  private boolean outdated(Job job, DesiredRelease desired, String active) {
    DesiredRelease release = job.release();
    Gate gate = desired.gate();
    if (job.kind() == Kind.PRUNE) {
      // a newer release stops further removals (its job prunes), so a rollback's source survives
      return !desired.isSameDeployment(release) && desired.isNewerThan(release);
    }
    if (desired.isSameDeployment(release)) {
      if (job.kind() == Kind.REVERT || gate.stop() == null) {
        return job.kind() == Kind.APPLY && !gate.mayStart(node);
      }
      return gate.stop() == Stop.REVERTED || !release.deploymentId().equals(active);
    }
    if (desired.previous() != null && desired.previous().isSameDeployment(release)) {
      return gate.mayStart(node);
    }
    return desired.isNewerThan(release);
  }

  /**
   * The job {@code desired} asks of this node whose project runs {@code active}, or null if none
   * (then it reports what needs no job: already active, or the rollout stopped before it switched).
   */
  private Job wanted(DesiredRelease desired, String active) {
    String id = desired.deploymentId();
    Gate gate = desired.gate();
    if (gate.stop() != null) {
      if (id.equals(active)) {
        return gate.stop() == Stop.REVERTED && !stopReported.contains(id)
            ? new Job(desired, Kind.REVERT, new AtomicBoolean())
            : null;
      }
      if (gate.stop() == Stop.REVERTED
          && !stopReported.contains(id)
          && releases.everSwitchedTo(desired.project(), id)) {
        return revertTakenUp(desired, active);
      }
      if (desired.targets().contains(node) && stopReported.add(id)) {
        reporter.report(desired.project(), id, NodeStatus.ABORTED, null);
      }
      return toPrevious(desired, active);
    }
    if (gate.mayStart(node)) {
      if (id.equals(active)) {
        // A release that failed here after its switch (its health watch) stays current until the
        // rollout reverts it or a newer one comes; it is never reported active.
        if (failed.contains(id) || reportedActive.contains(id)) {
          return null;
        }
        // Current but not reported since this node started: if the steps after its switch did
        // not all finish here, the node stopped during them, and they are taken up again.
        if (interrupted(desired)) {
          return new Job(desired, Kind.RESUME, new AtomicBoolean());
        }
        reportedActive.add(id);
        reporter.report(desired.project(), id, NodeStatus.ACTIVE, null);
        return null;
      }
      boolean waiting = prepared.contains(id) && !gate.maySwitch(node);
      return waiting || failed.contains(id)
          ? null
          : new Job(desired, Kind.APPLY, new AtomicBoolean());
    }
    return toPrevious(desired, active);
  }

  /**
   * For a reverted release this node switched to, and had left when it started: its revert (or the
   * report of it) may not have finished before the node stopped. A finished one (back on the
   * release before, its steps settled, or a project switched by a version without marks) is only
   * reported again (if this node is one of its targets); else the revert runs again.
   */
  private Job revertTakenUp(DesiredRelease desired, String active) {
    String project = desired.project();
    DesiredRelease back = desired.previous();
    boolean finished =
        back == null
            ? active == null
            : back.deploymentId().equals(active)
                && (releases.marks().settled(project, active)
                    || !releases.marks().keepsMarks(project));
    if (!finished) {
      return new Job(desired, Kind.REVERT, new AtomicBoolean());
    }
    stopReported.add(desired.deploymentId());
    if (desired.targets().contains(node)) {
      reporter.report(project, desired.deploymentId(), NodeStatus.REVERTED, null);
    }
    return null;
  }

  /**
   * Whether {@code current} (the project's current release here) is one whose steps after its
   * switch a stop of this node interrupted, and that has a step to take up.
   */
  private boolean interrupted(DesiredRelease current) {
    String id = current.deploymentId();
    return !reportedActive.contains(id)
        && !releases.marks().settled(current.project(), id)
        && steps.resumes(current);
  }

  /**
   * The job that brings this node to the release before {@code desired}, if it runs another, or
   * takes up the steps a stop interrupted after its switch to it.
   */
  private Job toPrevious(DesiredRelease desired, String active) {
    DesiredRelease previous = desired.previous();
    if (previous == null || failed.contains(previous.deploymentId())) {
      return null;
    }
    if (previous.deploymentId().equals(active)) {
      return interrupted(previous) ? new Job(previous, Kind.RESUME, new AtomicBoolean()) : null;
    }
    return new Job(previous, Kind.APPLY, new AtomicBoolean());
  }

  private void start(Job job) {
    DesiredRelease release = job.release();
    running.put(release.project(), job);
    prunedSinceStart.add(release.project());
    ActorRef<Command> self = ctx.getSelf();
    BooleanSupplier cancelled = job.cancelled()::get;
    CompletableFuture.supplyAsync(() -> run(job, cancelled), blocking)
        .whenComplete(
            (applied, failure) -> self.tell(new JobEnded(job, applied, Failures.cause(failure))));
  }

  /** The blocking part of a job. Runs off the actor. */
  private ReleaseSteps.Applied run(Job job, BooleanSupplier cancelled) {
    DesiredRelease release = job.release();
    try {
      switch (job.kind()) {
        case APPLY -> {
          return steps.apply(release, cancelled, () -> maySwitch(release));
        }
        case RESUME -> {
          return steps.resume(release, cancelled);
        }
        case REVERT -> steps.revert(release, cancelled);
        case PRUNE -> pruning.finish(pruning.setAside(release, cancelled, null));
      }
      return null;
    } catch (PhaseFailure e) {
      throw new CompletionException(e);
    }
  }

  /**
   * Whether this node may switch to {@code release} now: the register still wants it and its gate
   * lets this node switch; or it is the release before the desired one, which this node runs while
   * the rollout does not let it start.
   */
  private boolean maySwitch(DesiredRelease release) {
    DesiredRelease desired = latest.get(release.project());
    if (desired == null || !desired.isSameDeployment(release)) {
      return desired != null
          && desired.previous() != null
          && desired.previous().isSameDeployment(release);
    }
    return desired.gate().maySwitch(node);
  }

  private Behavior<Command> onJobEnded(JobEnded ended) {
    Job job = ended.job();
    DesiredRelease release = job.release();
    running.remove(release.project());
    Throwable failure = ended.failure();
    DesiredRelease desired = latest.get(release.project());
    if (job.kind() == Kind.REVERT) {
      stopReported.add(release.deploymentId());
    } else if (job.kind() == Kind.PRUNE) {
      // nothing to record: a failed prune is logged and redone later
    } else if (failure == null) {
      (ended.applied() == ReleaseSteps.Applied.ACTIVE ? reportedActive : prepared)
          .add(release.deploymentId());
    } else if (failure instanceof CancellationException) {
      if (desired != null && !desired.isSameDeployment(release) && desired.isNewerThan(release)) {
        reporter.report(
            release.project(),
            release.deploymentId(),
            NodeStatus.SUPERSEDED,
            ErrorInfo.of(
                "superseded by deployment " + desired.deploymentId(),
                ErrorCode.SUPERSEDED,
                "distribute",
                node));
      }
    } else {
      failed.add(release.deploymentId());
      ctx.getLog()
          .warn(
              "applying {} of project {} failed",
              release.deploymentId(),
              release.project(),
              failure);
      reporter.report(
          release.project(),
          release.deploymentId(),
          NodeStatus.FAILED,
          PhaseFailure.errorInfo(failure, node),
          failure instanceof PhaseFailure p ? p.switchedAt : null);
    }
    if (desired != null) {
      converge(desired);
    }
    return Behaviors.same();
  }
}
