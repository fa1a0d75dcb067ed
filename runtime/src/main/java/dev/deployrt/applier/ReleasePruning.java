package dev.deployrt.applier;

import dev.deployrt.deployment.LogEntry;
import dev.deployrt.release.DesiredRelease;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Pruning as part of applying a release: the project's releases past its {@code keep_releases} are
 * set aside ({@link ReleasePruner}) before the node reports the release active, so the {@code
 * prune} phase event is part of the deployment before it ends, and deleted after. Never the
 * release, its rollback source or the release before it (a revert's target). A failure is logged,
 * never the deployment's.
 */
final class ReleasePruning {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(ReleasePruning.class);

  private final String node;
  private final ReleasePruner pruner;
  private final Applier.KeepReleases keepReleases;
  private final NodeReporter reporter;

  ReleasePruning(
      String node,
      ReleaseDirectory releases,
      Applier.KeepReleases keepReleases,
      NodeReporter reporter) {
    this.node = node;
    this.pruner = new ReleasePruner(releases);
    this.keepReleases = keepReleases;
    this.reporter = reporter;
  }

  /**
   * Sets the project's releases past its {@code keep_releases} aside: quick, so it runs before the
   * node reports the release active, and with {@code notes} its {@code prune} phase event is part
   * of the deployment (added to {@code notes}, which the caller sends with that report). Sets
   * nothing aside if a newer release is waiting (its job prunes).
   *
   * @param notes where the prune event goes; null: no event, a log line if anything was removed
   * @return what was set aside, or null if nothing (cancelled, or failed: logged)
   */
  ReleasePruner.SetAside setAside(
      DesiredRelease release, BooleanSupplier cancelled, List<NodeReporter.Note> notes) {
    if (cancelled.getAsBoolean()) {
      return null;
    }
    String project = release.project();
    try {
      int keep = keepReleases.of(project);
      ReleasePruner.SetAside aside =
          pruner.setAside(project, keep, ReleaseSteps.needed(release), cancelled);
      if (notes != null) {
        notes.add(
            new NodeReporter.Note(
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
                    "kept_releases", (long) aside.kept().size())));
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
  void finish(ReleasePruner.SetAside aside) {
    if (aside != null) {
      reporter.pruned(aside.project(), pruner.finish(aside));
    }
  }
}
