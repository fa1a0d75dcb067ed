package dev.deployrt.applier;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * A node's releases on disk: {@code projects/<project>/releases/<deployment_id>/} and the
 * {@code projects/<project>/current} symlink.
 *
 * <p>Guarantees: a release directory appears under its final name only complete (it is extracted
 * into a {@code .staging-*} sibling and renamed), and is never modified afterwards. {@code current}
 * is switched by renaming a new symlink over the old one, so a reader sees the old release or the new
 * one, never a mix and never no link. Staging leftovers of a crash are removed by {@link #open}.
 */
public final class ReleaseDirectory {
  private static final String STAGING_PREFIX = ".staging-";
  private static final String LINK_STAGING_PREFIX = ".current-";

  /** Fills an empty directory with a release's files. */
  @FunctionalInterface
  public interface Filler {
    void fill(Path emptyDir) throws IOException;
  }

  private final Path projects;

  private ReleaseDirectory(Path projects) {
    this.projects = projects;
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

  public Path releasePath(String project, String deploymentId) {
    return projects.resolve(project).resolve("releases").resolve(deploymentId);
  }

  /** True if the release is there: a directory, or an alias (symlink) of another release that is. */
  public boolean hasRelease(String project, String deploymentId) {
    return Files.isDirectory(releasePath(project, deploymentId));
  }

  /**
   * Makes {@code deploymentId} a release with the same tree as {@code sourceId} (a rollback to the
   * same payload): a relative symlink {@code releases/<deploymentId> -> <source's directory>}, made
   * under a staging name and renamed into place. No file is copied; the shared tree stays immutable.
   */
  public void createAlias(String project, String deploymentId, String sourceId) throws IOException {
    Path source = releasePath(project, sourceId);
    if (!hasRelease(project, sourceId)) {
      throw new NoSuchFileException(source.toString(), null, "release is missing");
    }
    Path target = Files.isSymbolicLink(source) ? Files.readSymbolicLink(source) : source.getFileName();
    Path releases = source.getParent();
    Path staging = releases.resolve(STAGING_PREFIX + deploymentId + "-" + UUID.randomUUID());
    Files.createSymbolicLink(staging, target);
    try {
      Files.move(staging, releasePath(project, deploymentId), StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      Files.deleteIfExists(staging);
      throw e;
    }
    syncDirectory(releases);
  }

  /**
   * Creates the release unless it already exists: {@code filler} writes into a staging directory
   * which is renamed into place on success and deleted on any failure.
   *
   * @return true if it was created now, false if it was already there
   */
  public boolean createRelease(String project, String deploymentId, Filler filler) throws IOException {
    Path target = releasePath(project, deploymentId);
    if (hasRelease(project, deploymentId)) {
      return false;
    }
    // An alias whose source is gone is replaced by a real release.
    Files.deleteIfExists(target);
    Path releases = target.getParent();
    Files.createDirectories(releases);
    Path staging = releases.resolve(STAGING_PREFIX + deploymentId + "-" + UUID.randomUUID());
    Files.createDirectory(staging);
    try {
      filler.fill(staging);
      Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
      syncDirectory(releases);
      return true;
    } catch (IOException | RuntimeException e) {
      deleteTree(staging);
      throw e;
    }
  }

  /** Points {@code current} at the release, atomically. The release must exist. */
  public void activate(String project, String deploymentId) throws IOException {
    if (!hasRelease(project, deploymentId)) {
      throw new NoSuchFileException(releasePath(project, deploymentId).toString(), null, "release is missing");
    }
    Path projectDir = projects.resolve(project);
    Path link = projectDir.resolve("current");
    Path fresh = projectDir.resolve(LINK_STAGING_PREFIX + UUID.randomUUID());
    Files.createSymbolicLink(fresh, Path.of("releases", deploymentId));
    try {
      Files.move(fresh, link, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      Files.deleteIfExists(fresh);
      throw e;
    }
    syncDirectory(projectDir);
  }

  /** The deployment id {@code current} points to, if any. */
  public Optional<String> activeRelease(String project) {
    Path link = projects.resolve(project).resolve("current");
    try {
      return Optional.of(Files.readSymbolicLink(link).getFileName().toString());
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Project to active deployment id, for every project with a {@code current} link. */
  public TreeMap<String, String> activeReleases() {
    TreeMap<String, String> out = new TreeMap<>();
    try (DirectoryStream<Path> all = Files.newDirectoryStream(projects)) {
      for (Path project : all) {
        String name = project.getFileName().toString();
        activeRelease(name).ifPresent(id -> out.put(name, id));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /** Removes everything inside {@code dir}, keeping {@code dir} itself. */
  public static void emptyDirectory(Path dir) throws IOException {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path p : entries) {
        deleteTree(p);
      }
    }
  }

  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }

  private static void removeStaging(Path dir, String prefix) throws IOException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, prefix + "*")) {
      for (Path p : entries) {
        deleteTree(p);
      }
    }
  }

  private static void syncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}
