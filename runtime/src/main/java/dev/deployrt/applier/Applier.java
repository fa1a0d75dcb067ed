package dev.deployrt.applier;

import dev.deployrt.archive.ArchiveExtractor;
import dev.deployrt.archive.ArchiveLimits;
import dev.deployrt.async.Failures;
import dev.deployrt.deployment.ErrorInfo;
import dev.deployrt.deployment.LogEntry;
import dev.deployrt.deployment.NodeStatus;
import dev.deployrt.errors.ErrorCode;
import dev.deployrt.release.DesiredRelease;
import dev.deployrt.release.ReleaseRegister;
import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * One per node: makes the node converge to every project's desired release.
 *
 * <p>Per project, serially: fetch the payload (if absent), extract it into a new release directory
 * (validated again, entry by entry), switch {@code current}, report each step. A newer desired
 * release cancels one still in progress (reported {@code superseded}) and runs when it has stopped.
 * A release already extracted (a redo after restart) is switched to without extracting again; a
 * rollback whose source release is on the node becomes an alias of it (no fetch, no extract); one
 * already active is just reported active. After a release is active, and once per project after the
 * node starts, and every {@code pruneInterval} (releases a crash or a failed prune left), the
 * project's releases past its {@code keep_releases} are pruned ({@link ReleasePruner}) in the same
 * serial job, so pruning never races an extraction or a switch.
 *
 * <p>Threading: the actor owns the bookkeeping; the blocking work runs on {@code blocking} and
 * reports back with a message. A crash mid-extract leaves only a staging directory, removed at the
 * next start, and the job is redone when the register is read again.
 */
public final class Applier {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Applier.class);

  public sealed interface Command {}

  /** The whole register, as the release register publishes it. */
  public record DesiredChanged(Map<String, DesiredRelease> desired) implements Command {}

  private record JobEnded(DesiredRelease release, Throwable failure) implements Command {}

  /** Time to prune every project again (orphans: releases a crash or a failed prune left). */
  private enum PruneAll implements Command {
    INSTANCE
  }

  /** How many active releases of a project to keep (its {@code keep_releases}). Blocking. */
  @FunctionalInterface
  public interface KeepReleases {
    int of(String project) throws Exception;
  }

  private record Job(DesiredRelease release, AtomicBoolean cancelled) {}

  private final String node;
  private final ReleaseDirectory releases;
  private final BlobSource blobs;
  private final ArchiveLimits limits;
  private final Executor blocking;
  private final NodeReporter reporter;
  private final ActorContext<Command> ctx;
  private final Map<String, Job> running = new HashMap<>();
  private final Map<String, DesiredRelease> queued = new HashMap<>();
  private final Set<String> reportedActive = new HashSet<>();
  private final Set<String> prunedSinceStart = new HashSet<>();
  private Map<String, DesiredRelease> latest = Map.of();
  private final ReleasePruner pruner;
  private final KeepReleases keepReleases;

  /** Subscribes to {@code register} and converges to what it says. */
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
      ActorRef<ReleaseRegister.Command> register) {
    return Behaviors.setup(
        ctx ->
            Behaviors.withTimers(
                timers -> {
                  ActorRef<Map> desired =
                      ctx.messageAdapter(
                          Map.class, m -> new DesiredChanged((Map<String, DesiredRelease>) m));
                  register.tell(new ReleaseRegister.Subscribe((ActorRef) desired));
                  timers.startTimerWithFixedDelay(PruneAll.INSTANCE, pruneInterval);
                  return new Applier(
                          node, releases, blobs, limits, blocking, reporter, keepReleases, ctx)
                      .behavior();
                }));
  }

  private Applier(
      String node,
      ReleaseDirectory releases,
      BlobSource blobs,
      ArchiveLimits limits,
      Executor blocking,
      NodeReporter reporter,
      KeepReleases keepReleases,
      ActorContext<Command> ctx) {
    this.node = node;
    this.pruner = new ReleasePruner(releases);
    this.keepReleases = keepReleases;
    this.releases = releases;
    this.blobs = blobs;
    this.limits = limits;
    this.blocking = blocking;
    this.reporter = reporter;
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
    latest = Map.copyOf(msg.desired());
    msg.desired().values().forEach(this::converge);
    return Behaviors.same();
  }

  /** Prunes every project whose desired release is active here and that runs no job now. */
  private Behavior<Command> onPruneAll(PruneAll tick) {
    for (DesiredRelease release : latest.values()) {
      String project = release.project();
      if (!running.containsKey(project)
          && releases.activeRelease(project).filter(release.deploymentId()::equals).isPresent()) {
        start(release, true);
      }
    }
    return Behaviors.same();
  }

  private void converge(DesiredRelease release) {
    String project = release.project();
    Job job = running.get(project);
    if (job != null) {
      if (!job.release().deploymentId().equals(release.deploymentId())
          && release.isNewerThan(job.release())) {
        job.cancelled().set(true);
        queued.put(project, release);
      }
      return;
    }
    if (releases.activeRelease(project).filter(release.deploymentId()::equals).isPresent()) {
      if (reportedActive.add(release.deploymentId())) {
        reporter.report(project, release.deploymentId(), NodeStatus.ACTIVE, null);
      }
      if (prunedSinceStart.add(project)) {
        start(release, true);
      }
      return;
    }
    start(release, false);
  }

  /** Runs the release's job: applying it (then pruning), or with {@code pruneOnly} pruning. */
  private void start(DesiredRelease release, boolean pruneOnly) {
    AtomicBoolean cancelled = new AtomicBoolean();
    running.put(release.project(), new Job(release, cancelled));
    prunedSinceStart.add(release.project());
    ActorRef<Command> self = ctx.getSelf();
    Runnable job =
        pruneOnly
            ? () -> finishPrune(setAside(release, cancelled, false))
            : () -> apply(release, cancelled);
    CompletableFuture.runAsync(job, blocking)
        .whenComplete((ok, failure) -> self.tell(new JobEnded(release, Failures.cause(failure))));
  }

  private Behavior<Command> onJobEnded(JobEnded ended) {
    DesiredRelease release = ended.release();
    running.remove(release.project());
    Throwable failure = ended.failure();
    DesiredRelease next = queued.remove(release.project());
    if (failure == null) {
      reportedActive.add(release.deploymentId());
    } else if (failure instanceof CancellationException && next != null) {
      reporter.report(
          release.project(),
          release.deploymentId(),
          NodeStatus.SUPERSEDED,
          ErrorInfo.of(
              "superseded by deployment " + next.deploymentId(),
              ErrorCode.SUPERSEDED,
              "distribute",
              node));
    } else {
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
          PhaseFailure.errorInfo(failure, node));
    }
    if (next != null) {
      converge(next);
    }
    return Behaviors.same();
  }

  /** The blocking part: fetch, extract, activate. Runs off the actor. */
  private void apply(DesiredRelease release, AtomicBoolean cancelled) {
    String project = release.project();
    String id = release.deploymentId();
    try {
      String source = release.sourceDeploymentId();
      if (!releases.hasRelease(project, id)
          && source != null
          && releases.hasRelease(project, source)) {
        step(
            "activate",
            () -> {
              releases.createAlias(project, id, source);
              return null;
            });
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
      checkCancelled(cancelled);
      reporter.report(project, id, NodeStatus.ACTIVATING, null);
      step(
          "activate",
          () -> {
            releases.activate(project, id);
            return null;
          });
      ReleasePruner.SetAside pruning = setAside(release, cancelled, true);
      reporter.report(project, id, NodeStatus.ACTIVE, null);
      finishPrune(pruning);
    } catch (PhaseFailure e) {
      throw new CompletionException(e);
    }
  }

  /**
   * Sets the project's releases past its {@code keep_releases} aside (never {@code release} or its
   * rollback source): quick, so it runs before the node reports the release active, and with {@code
   * logEvent} its {@code prune} phase event is part of the deployment before it ends. Sets nothing
   * aside if a newer release is waiting (its job prunes). A failure is logged, never the
   * deployment's; null then.
   */
  private ReleasePruner.SetAside setAside(
      DesiredRelease release, AtomicBoolean cancelled, boolean logEvent) {
    if (cancelled.get()) {
      return null;
    }
    String project = release.project();
    Set<String> needed = new HashSet<>();
    needed.add(release.deploymentId());
    if (release.sourceDeploymentId() != null) {
      needed.add(release.sourceDeploymentId());
    }
    try {
      int keep = keepReleases.of(project);
      ReleasePruner.SetAside aside = pruner.setAside(project, keep, needed, cancelled::get);
      if (logEvent) {
        reporter.log(
            release.deploymentId(),
            LogEntry.PHASE,
            "prune",
            node
                + " keeps "
                + aside.kept().size()
                + " release directories of "
                + project
                + " (keep_releases "
                + keep
                + "), removed "
                + aside.removed().size(),
            Map.of(
                "removed_releases", (long) aside.removed().size(),
                "kept_releases", (long) aside.kept().size()));
      } else if (!aside.removed().isEmpty()) {
        log.info(
            "removed {} releases of project {}: {}",
            aside.removed().size(),
            project,
            aside.removed());
      }
      return aside;
    } catch (Exception e) {
      log.warn(
          "pruning the releases of project {} failed (retried after its next deployment)",
          project,
          e);
      return null;
    }
  }

  /** Deletes the files of what {@link #setAside} set aside, after the switch was reported. */
  private void finishPrune(ReleasePruner.SetAside aside) {
    if (aside != null) {
      reporter.pruned(aside.project(), pruner.finish(aside));
    }
  }

  /**
   * Fetch and extraction overlap: the archive is extracted into the release's staging directory
   * while the payload arrives, and the directory is published only once the payload's digest
   * matched. Each fetch attempt starts from an empty directory.
   */
  private void fetchAndExtract(DesiredRelease release, AtomicBoolean cancelled)
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
                  cancelled::get,
                  () -> reporter.report(project, id, NodeStatus.EXTRACTING, null),
                  in -> {
                    ReleaseDirectory.emptyDirectory(dir);
                    ArchiveExtractor.extract(in, dir, limits, cancelled::get);
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

  private static void checkCancelled(AtomicBoolean cancelled) {
    if (cancelled.get()) {
      throw new CancellationException("superseded");
    }
  }

  private interface Step<T> {
    T run() throws Exception;
  }

  private static <T> T step(String phase, Step<T> step) throws PhaseFailure {
    try {
      return step.run();
    } catch (CancellationException e) {
      throw e;
    } catch (Exception e) {
      throw new PhaseFailure(phase, e);
    }
  }
}
