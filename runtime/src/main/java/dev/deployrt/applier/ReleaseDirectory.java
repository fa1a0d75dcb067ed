package dev.deployrt.applier;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotLinkException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's releases on disk: {@code projects/<project>/releases/<deployment_id>/} and the {@code
 * projects/<project>/current} symlink.
 *
 * <p>Guarantees: a release directory appears under its final name only complete (it is extracted
 * into a {@code .staging-*} sibling and renamed), and is never modified afterwards. {@code current}
 * is switched by renaming a new symlink over the old one, so a reader sees the old release or the
 * new one, never a mix and never no link. Each switch is appended to the project's activation log
 * ({@code projects/<project>/.activations}, synced), which {@link ReleasePruner} reads to know
 * which releases were active and in which order; {@link StepMarks} records which steps after a
 * switch finished (a start takes up what a stop interrupted). Staging leftovers of a crash are
 * removed by {@link #open}.
 *
 * <p>Removal never depends on the modes a release's archive gave its directories: {@link
 * TreeRemoval} gives each directory back its owner's {@code rwx} before emptying it. A leftover
 * that still cannot be removed (e.g. made by another user) is renamed aside and reported, never a
 * reason not to start.
 */
public final class ReleaseDirectory {
  static final String STAGING_PREFIX = ".staging-";

  /** Each project's activation log: the ids {@code current} was switched to, oldest first. */
  private static final String ACTIVATIONS = ".activations";

  static final String LINK_STAGING_PREFIX = ".current-";
  private static final Set<PosixFilePermission> RELEASE_ROOT =
      java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x");

  private static final Logger log = LoggerFactory.getLogger(ReleaseDirectory.class);

  /** Fills an empty directory with a release's files. */
  @FunctionalInterface
  public interface Filler {
    void fill(Path emptyDir) throws IOException;
  }

  private final Path projects;
  private final StepMarks marks;

  private ReleaseDirectory(Path projects) {
    this.projects = projects;
    this.marks = new StepMarks(projects);
  }

  public static ReleaseDirectory open(Path dataDir) {
    ReleaseDirectory dirs = new ReleaseDirectory(dataDir.resolve("projects"));
    try {
      Files.createDirectories(dirs.projects);
      try (DirectoryStream<Path> all = Files.newDirectoryStream(dirs.projects)) {
        for (Path project : all) {
          removeStaging(project, LINK_STAGING_PREFIX);
          removeStaging(project.resolve("releases"), STAGING_PREFIX);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open releases under " + dataDir, e);
    }
    return dirs;
  }

  public Path root() {
    return projects;
  }

  /** The directory holding a project's releases. */
  Path releasesOf(String project) {
    return projects.resolve(project).resolve("releases");
  }

  public Path releasePath(String project, String deploymentId) {
    return projects.resolve(project).resolve("releases").resolve(deploymentId);
  }

  /**
   * True if the release is there: a directory, or an alias (symlink) of another release that is.
   */
  public boolean hasRelease(String project, String deploymentId) {
    return Files.isDirectory(releasePath(project, deploymentId));
  }

  /**
   * Makes {@code deploymentId} a release with the same tree as {@code sourceId} (a rollback to the
   * same payload): a relative symlink {@code releases/<deploymentId> -> <source's directory>}, made
   * under a staging name and renamed into place. No file is copied; the shared tree stays
   * immutable.
   */
  public void createAlias(String project, String deploymentId, String sourceId) throws IOException {
    Path source = releasePath(project, sourceId);
    if (!hasRelease(project, sourceId)) {
      throw new NoSuchFileException(source.toString(), null, "release is missing");
    }
    Path target =
        Files.isSymbolicLink(source) ? Files.readSymbolicLink(source) : source.getFileName();
    Path releases = source.getParent();
    Path staging = releases.resolve(STAGING_PREFIX + deploymentId + "-" + UUID.randomUUID());
    Files.createSymbolicLink(staging, target);
    try {
      Files.move(staging, releasePath(project, deploymentId), StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      Files.deleteIfExists(staging);
      throw e;
    }
    ProjectFiles.syncDirectory(releases);
  }

  /**
   * Creates the release unless it already exists: {@code filler} writes into a staging directory
   * which is renamed into place on success and deleted on any failure.
   *
   * @return true if it was created now, false if it was already there
   */
  public boolean createRelease(String project, String deploymentId, Filler filler)
      throws IOException {
    if (hasRelease(project, deploymentId)) {
      return false;
    }
    Path staging = newStaging(project, deploymentId);
    try {
      filler.fill(staging);
    } catch (IOException | RuntimeException e) {
      discard(staging);
      throw e;
    }
    return adopt(project, deploymentId, staging);
  }

  /**
   * An empty staging directory for release {@code deploymentId}, to fill and then {@link #adopt} or
   * {@link #discard}. Nothing sees it as a release; the next start removes it if a crash left it.
   */
  public Path newStaging(String project, String deploymentId) throws IOException {
    Path releases = releasesOf(project);
    Path staging = releases.resolve(STAGING_PREFIX + deploymentId + "-" + UUID.randomUUID());
    for (int attempt = 1; ; attempt++) {
      Files.createDirectories(releases);
      try {
        Files.createDirectory(staging);
        break;
      } catch (NoSuchFileException removedMeanwhile) {
        // a discard emptied the project and removed its directories in between (see discard)
        if (attempt == 3) {
          throw removedMeanwhile;
        }
      }
    }
    try {
      // The release's root has the usual directory mode, whatever the umask (its contents get
      // theirs).
      Files.setPosixFilePermissions(staging, RELEASE_ROOT);
    } catch (IOException | RuntimeException e) {
      discard(staging);
      throw e;
    }
    return staging;
  }

  /**
   * Makes the filled {@code staging} directory the release {@code deploymentId}: one rename, then
   * synced. If the release is already there, {@code staging} is discarded instead.
   *
   * @return true if {@code staging} became the release
   */
  public boolean adopt(String project, String deploymentId, Path staging) throws IOException {
    Path target = releasePath(project, deploymentId);
    if (hasRelease(project, deploymentId)) {
      discard(staging);
      return false;
    }
    try {
      // An alias whose source is gone is replaced by a real release.
      Files.deleteIfExists(target);
      Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException | RuntimeException e) {
      discard(staging);
      throw e;
    }
    ProjectFiles.syncDirectory(target.getParent());
    return true;
  }

  /**
   * Removes a staging directory, or a release that nothing runs or needs (never {@code current}'s
   * target), and then the project's directories if nothing else is left in them (a project's first
   * upload that failed leaves no trace); never throws.
   */
  public void discard(Path stagingOrUnused) {
    if (!Files.exists(stagingOrUnused, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    TreeRemoval.removeOrSetAside(stagingOrUnused, "an unused release or its staging directory,");
    Path releases = stagingOrUnused.getParent();
    try {
      Files.delete(releases);
      Files.delete(releases.getParent());
    } catch (IOException notEmpty) {
      // the project has other releases, a current link or an activation log: it stays
    }
  }

  /**
   * Points {@code current} at the release, atomically, and makes that durable. The release must
   * exist.
   *
   * @return when the switch happened: the moment the new link was renamed over the old one (readers
   *     see the new release from then on), before it was synced
   */
  public Instant activate(String project, String deploymentId) throws IOException {
    if (!hasRelease(project, deploymentId)) {
      throw new NoSuchFileException(
          releasePath(project, deploymentId).toString(), null, "release is missing");
    }
    Path projectDir = projects.resolve(project);
    Path link = projectDir.resolve("current");
    marks.beforeSwitch(project, deploymentId);
    Path fresh = projectDir.resolve(LINK_STAGING_PREFIX + UUID.randomUUID());
    Files.createSymbolicLink(fresh, Path.of("releases", deploymentId));
    try {
      Files.move(fresh, link, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      Files.deleteIfExists(fresh);
      throw e;
    }
    Instant switched = Instant.now();
    ProjectFiles.syncDirectory(projectDir);
    Files.writeString(
        projectDir.resolve(ACTIVATIONS),
        deploymentId + "\n",
        StandardOpenOption.CREATE,
        StandardOpenOption.APPEND,
        StandardOpenOption.SYNC);
    return switched;
  }

  /**
   * Removes the project's {@code current} link (a revert of its first release): the project then
   * runs no release on this node. Its releases stay until pruned.
   */
  public void deactivate(String project) throws IOException {
    Path projectDir = projects.resolve(project);
    if (Files.deleteIfExists(projectDir.resolve("current"))) {
      ProjectFiles.syncDirectory(projectDir);
    }
  }

  /**
   * The ids the project's {@code current} was switched to, oldest first (repeats included); null if
   * the project has no activation log (switched by a version that kept none).
   */
  List<String> activations(String project) throws IOException {
    try {
      return Files.readAllLines(projects.resolve(project).resolve(ACTIVATIONS)).stream()
          .map(String::strip)
          .filter(line -> !line.isEmpty())
          .toList();
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  /** Whether {@code current} was ever switched to the release, as the activation log has it. */
  public boolean everSwitchedTo(String project, String deploymentId) {
    try {
      List<String> log = activations(project);
      return log != null && log.contains(deploymentId);
    } catch (IOException | UncheckedIOException e) {
      return false;
    }
  }

  /**
   * The release {@code current} pointed to before its last switch, as the activation log has it;
   * empty if unknown (no log, a first switch, or the log does not end with the current release).
   */
  public Optional<String> switchedFrom(String project) {
    try {
      List<String> log = activations(project);
      Optional<String> current = activeRelease(project);
      if (log == null || log.size() < 2 || current.isEmpty()) {
        return Optional.empty();
      }
      if (!current.get().equals(log.get(log.size() - 1))) {
        return Optional.empty();
      }
      for (int i = log.size() - 2; i >= 0; i--) {
        if (!log.get(i).equals(current.get())) {
          return Optional.of(log.get(i)); // a switch to the release it was on is no switch
        }
      }
      return Optional.empty();
    } catch (IOException | UncheckedIOException e) {
      return Optional.empty();
    }
  }

  /** Replaces the project's activation log with {@code oldestFirst}, atomically. */
  void rewriteActivations(String project, List<String> oldestFirst) throws IOException {
    StringBuilder text = new StringBuilder();
    oldestFirst.forEach(id -> text.append(id).append('\n'));
    ProjectFiles.replace(projects.resolve(project), ACTIVATIONS, text, true);
  }

  /** The marks of which steps after a switch finished here. */
  StepMarks marks() {
    return marks;
  }

  /** The deployment id {@code current} points to, if any. */
  public Optional<String> activeRelease(String project) {
    Path link = projects.resolve(project).resolve("current");
    try {
      return Optional.of(Files.readSymbolicLink(link).getFileName().toString());
    } catch (NoSuchFileException | NotLinkException e) {
      // none, or something that is not ours (the next switch renames a link over it)
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * When {@code current} was last switched (the link's own modification time, set when the link
   * that was renamed over it was made), or null if the project has none.
   */
  public Instant switchedAt(String project) throws IOException {
    Path link = projects.resolve(project).resolve("current");
    try {
      return Files.getLastModifiedTime(link, LinkOption.NOFOLLOW_LINKS).toInstant();
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  /** Project to active deployment id, for every project with a {@code current} link. */
  public TreeMap<String, String> activeReleases() {
    TreeMap<String, String> out = new TreeMap<>();
    try (DirectoryStream<Path> all = Files.newDirectoryStream(projects)) {
      for (Path project : all) {
        String name = project.getFileName().toString();
        if (Files.isDirectory(project, LinkOption.NOFOLLOW_LINKS)) {
          activeRelease(name).ifPresent(id -> out.put(name, id));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  private static void removeStaging(Path dir, String prefix) throws IOException {
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, prefix + "*")) {
      for (Path p : entries) {
        log.info("removing {}, left by an earlier run", p);
        TreeRemoval.removeOrSetAside(p, "a leftover of an earlier run,");
      }
    }
  }
}
