package dev.deployrt.applier;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removing what a node wrote under its releases: a release, a staging directory, a pruned release.
 * Removal never depends on the modes an archive gave its directories (each directory gets its
 * owner's {@code rwx} back before it is emptied); what still cannot be removed (e.g. made by
 * another user) is renamed aside and reported, never a reason to fail.
 */
final class TreeRemoval {
  /**
   * A leftover that could not be removed is renamed with this prefix, which no sweep looks at
   * again.
   */
  static final String SET_ASIDE_PREFIX = ".unremovable-";

  private static final Logger log = LoggerFactory.getLogger(TreeRemoval.class);

  private static final Set<PosixFilePermission> OWNER_RWX =
      EnumSet.of(
          PosixFilePermission.OWNER_READ,
          PosixFilePermission.OWNER_WRITE,
          PosixFilePermission.OWNER_EXECUTE);

  private TreeRemoval() {}

  /**
   * Removes {@code path} ({@code what} says what it is, for the log); if that fails, renames it
   * aside (a rename within its own directory needs no permission on the thing renamed) so that no
   * later start or sweep trips over it again. Never throws.
   *
   * @return the bytes of the regular files it deleted (those deleted before a failure count too)
   */
  static long removeOrSetAside(Path path, String what) {
    AtomicLong freed = new AtomicLong();
    try {
      deleteTree(path, freed);
    } catch (IOException e) {
      Path aside =
          path.resolveSibling(SET_ASIDE_PREFIX + path.getFileName() + "-" + UUID.randomUUID());
      try {
        Files.move(path, aside, StandardCopyOption.ATOMIC_MOVE);
        log.warn(
            "could not remove {} {} ({}); moved it to {}: remove it by hand",
            what,
            path,
            e.toString(),
            aside);
      } catch (IOException moveFailed) {
        log.error(
            "could not remove {} {} ({}), nor move it aside ({}): remove it by hand",
            what,
            path,
            e.toString(),
            moveFailed.toString());
      }
    }
    return freed.get();
  }

  /** Removes everything inside {@code dir}, keeping {@code dir} itself. */
  static void emptyDirectory(Path dir) throws IOException {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path p : entries) {
        deleteTree(p);
      }
    }
  }

  /**
   * Deletes a file, a symlink (not what it points to) or a directory with everything in it. A
   * directory whose owner lacks {@code rwx} on it (an archive can make one {@code 0000}) is given
   * them first, so whatever this process created it can also remove.
   */
  static void deleteTree(Path path) throws IOException {
    deleteTree(path, new AtomicLong());
  }

  /**
   * As {@link #deleteTree(Path)}, adding the bytes of each regular file deleted to {@code freed}.
   */
  private static void deleteTree(Path path, AtomicLong freed) throws IOException {
    BasicFileAttributes attributes;
    try {
      attributes = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return;
    }
    if (attributes.isDirectory()) {
      ownerMayEnter(path);
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(path)) {
        for (Path p : entries) {
          deleteTree(p, freed);
        }
      }
    }
    if (Files.deleteIfExists(path) && attributes.isRegularFile()) {
      freed.addAndGet(attributes.size());
    }
  }

  private static void ownerMayEnter(Path dir) throws IOException {
    Set<PosixFilePermission> permissions =
        Files.getPosixFilePermissions(dir, LinkOption.NOFOLLOW_LINKS);
    if (!permissions.containsAll(OWNER_RWX)) {
      permissions.addAll(OWNER_RWX);
      Files.setPosixFilePermissions(dir, permissions);
    }
  }
}
