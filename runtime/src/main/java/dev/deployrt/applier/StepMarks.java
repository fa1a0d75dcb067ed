package dev.deployrt.applier;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which steps after a switch finished on this node, per project, so a node that starts takes up
 * only what a stop interrupted: {@code projects/<project>/.activated} names the release whose
 * activate hook last finished, {@code .settled} the release whose steps after its switch (activate
 * hook, health watch) all did.
 *
 * <p>{@code .settled} is made (empty) before a project's first switch, so its absence means the
 * current release was switched to by a version that kept no marks. The marks are not synced, and
 * one that cannot be written or read is logged and taken as absent: the step it stands for is then
 * taken again, which costs time but never hides a failure.
 */
final class StepMarks {
  private static final String SETTLED = ".settled";
  private static final String ACTIVATED = ".activated";
  private static final Logger log = LoggerFactory.getLogger(StepMarks.class);

  private final Path projects;

  StepMarks(Path projects) {
    this.projects = projects;
  }

  /** Records that every step after the switch to release {@code deploymentId} finished here. */
  void markSettled(String project, String deploymentId) {
    write(project, SETTLED, deploymentId);
  }

  /** Records that the activate hook of release {@code deploymentId} finished here. */
  void markActivated(String project, String deploymentId) {
    write(project, ACTIVATED, deploymentId);
  }

  /** Whether release {@code deploymentId} is the last one {@link #markSettled} recorded. */
  boolean settled(String project, String deploymentId) {
    return marked(project, SETTLED, deploymentId);
  }

  /** Whether release {@code deploymentId} is the last one {@link #markActivated} recorded. */
  boolean activated(String project, String deploymentId) {
    return marked(project, ACTIVATED, deploymentId);
  }

  /**
   * Whether this node keeps marks for the project (it was made, or last settled, by a version that
   * keeps them); without them a start cannot tell whether an activate hook finished.
   */
  boolean keepsMarks(String project) {
    return Files.exists(projects.resolve(project).resolve(SETTLED), LinkOption.NOFOLLOW_LINKS);
  }

  /**
   * Before {@code current} is switched to {@code deploymentId}: from a project's first switch on,
   * the marks are kept; a release marked by an earlier switch to it loses its marks, which were for
   * that switch.
   */
  void beforeSwitch(String project, String deploymentId) {
    if (!keepsMarks(project)) {
      write(project, SETTLED, "");
    } else if (settled(project, deploymentId) || activated(project, deploymentId)) {
      write(project, SETTLED, "");
      write(project, ACTIVATED, "");
    }
  }

  private void write(String project, String mark, String deploymentId) {
    try {
      ProjectFiles.replace(projects.resolve(project), mark, deploymentId + "\n", false);
    } catch (IOException e) {
      log.warn(
          "cannot write the {} mark of project {}: a start may repeat steps", mark, project, e);
    }
  }

  private boolean marked(String project, String mark, String deploymentId) {
    try {
      return Files.readString(projects.resolve(project).resolve(mark)).strip().equals(deploymentId);
    } catch (NoSuchFileException e) {
      return false;
    } catch (IOException e) {
      log.warn("cannot read the {} mark of project {}", mark, project, e);
      return false;
    }
  }
}
