package dev.deployrt.archive;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Writes the entries of one archive, each already accepted by {@link EntryRules}, into an empty
 * directory: the writing half of {@link ArchiveExtractor}, also driven by {@link ArchiveValidator}
 * when an upload is extracted while it arrives.
 *
 * <p>Never follows a symlink when writing: the rules guarantee no entry's parent is a symlink and
 * no path is written twice. Permission bits are kept, except set-id, sticky and world-write bits
 * ({@link EntryRules}); owners are not. Every directory stays owner-{@code rwx} while entries are
 * written and gets its own mode only in {@link #finish}, deepest first, so an archive that lists a
 * directory's contents before a read-only directory, or a directory after its children, extracts
 * the same for an ordinary user as for root. Modes do not depend on the process umask.
 *
 * <p>Errors: the file system's (a full disk, a refused path) are {@link FileSystemException}s; an
 * entry whose content ends early is an {@link InvalidArchiveException}; a read error of the archive
 * stream passes through as it is. It does not clean up: the caller writes into a staging directory
 * and deletes it on failure.
 */
final class ReleaseWriter {
  private static final int DEFAULT_DIR_MODE = 0755;

  /**
   * What a new file's mode is without a chmod: 0666 less the process umask (bin/deploy-node sets
   * 077); -1 when the umask is unknown, so that every file is chmod'ed.
   */
  private static final int UMASK = umask();

  private static final int CREATED_FILE_MODE = UMASK < 0 ? -1 : 0666 & ~UMASK;

  /** Every directory's mode while the archive is being extracted. */
  private static final FileAttribute<Set<PosixFilePermission>> WHILE_EXTRACTING =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

  private final Path root;

  /**
   * Every directory created, with the entry that gives its final mode (null: implied by a path).
   */
  private final Map<String, SafeEntry> createdDirs = new HashMap<>();

  private final byte[] buf = new byte[256 * 1024];

  /**
   * @param root an empty directory
   */
  ReleaseWriter(Path root) {
    this.root = root;
  }

  Path root() {
    return root;
  }

  /** Creates {@code safe}; a file's content is read from {@code tar}, positioned at the entry. */
  void write(SafeEntry safe, TarArchiveInputStream tar) throws IOException {
    Path target = root.resolve(safe.path());
    ensureParent(safe.path());
    switch (safe.kind()) {
      case DIRECTORY -> {
        if (!createdDirs.containsKey(safe.path())) {
          Files.createDirectory(target, WHILE_EXTRACTING);
        }
        createdDirs.put(safe.path(), safe);
      }
      case FILE -> writeFile(tar, target, safe);
      case SYMLINK -> Files.createSymbolicLink(target, Path.of(safe.linkTarget()));
      case HARDLINK -> Files.createLink(target, root.resolve(safe.linkTarget()));
    }
  }

  /** After the last entry: gives every directory its final mode and time. */
  void finish() throws IOException {
    applyDirectoryModes();
  }

  /**
   * Gives each directory its final mode and time, children before parents (a path sorts after its
   * parent's, so reverse order is deepest first): a directory made read-only no longer needs to be
   * entered.
   */
  private void applyDirectoryModes() throws IOException {
    var deepestFirst =
        createdDirs.entrySet().stream()
            .sorted(Map.Entry.<String, SafeEntry>comparingByKey(Comparator.reverseOrder()))
            .toList();
    for (Map.Entry<String, SafeEntry> dir : deepestFirst) {
      Path p = root.resolve(dir.getKey());
      SafeEntry entry = dir.getValue();
      Files.setPosixFilePermissions(
          p, permissions(entry == null ? DEFAULT_DIR_MODE : entry.mode()));
      if (entry != null) {
        p.toFile().setLastModified(entry.modifiedMillis());
      }
    }
  }

  private void writeFile(TarArchiveInputStream tar, Path target, SafeEntry safe)
      throws IOException {
    long written = 0;
    // CREATE_NEW (O_EXCL) never follows or replaces an existing path: the rules forbid duplicates.
    try (OutputStream out =
        new FileWrites(
            Files.newOutputStream(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
            target)) {
      int n;
      while ((n = tar.read(buf)) > 0) {
        out.write(buf, 0, n);
        written += n;
      }
    }
    if (written != safe.size()) {
      throw new InvalidArchiveException(
          "entry '" + EntryRules.printable(safe.path()) + "' is truncated");
    }
    if (safe.mode() != CREATED_FILE_MODE) {
      Files.setPosixFilePermissions(target, permissions(safe.mode()));
    }
    target.toFile().setLastModified(safe.modifiedMillis());
  }

  /**
   * Reports the file system's errors while a file is written (ENOSPC, EIO: plain {@link
   * IOException}s) as {@link FileSystemException}s, which the extractor passes on as they are;
   * without this they would be taken for a broken archive, like the read errors they share a loop
   * with.
   */
  static final class FileWrites extends FilterOutputStream {
    private final Path file;

    FileWrites(OutputStream out, Path file) {
      super(out);
      this.file = file;
    }

    @Override
    public void write(byte[] bytes, int offset, int length) throws IOException {
      try {
        out.write(bytes, offset, length);
      } catch (IOException e) {
        throw asFileSystemError(e);
      }
    }

    @Override
    public void close() throws IOException {
      try {
        out.close();
      } catch (IOException e) {
        throw asFileSystemError(e);
      }
    }

    private IOException asFileSystemError(IOException e) {
      if (e instanceof FileSystemException) {
        return e;
      }
      FileSystemException error = new FileSystemException(file.toString(), null, e.getMessage());
      error.initCause(e);
      return error;
    }
  }

  private void ensureParent(String path) throws IOException {
    int slash = path.lastIndexOf('/');
    if (slash < 0) {
      return;
    }
    String parent = path.substring(0, slash);
    if (createdDirs.containsKey(parent)) {
      return;
    }
    ensureParent(parent);
    Files.createDirectory(root.resolve(parent), WHILE_EXTRACTING);
    createdDirs.put(parent, null);
  }

  /** The process umask (Linux: /proc/self/status), or -1 if it cannot be read. */
  private static int umask() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Umask:")) {
          return Integer.parseInt(line.substring(6).strip(), 8);
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or no /proc
    }
    return -1;
  }

  static Set<PosixFilePermission> permissions(int mode) {
    Set<PosixFilePermission> out = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] order = {
      PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
          PosixFilePermission.OTHERS_READ,
      PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE,
          PosixFilePermission.GROUP_READ,
      PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
          PosixFilePermission.OWNER_READ
    };
    for (int bit = 0; bit < 9; bit++) {
      if ((mode & (1 << bit)) != 0) {
        out.add(order[bit]);
      }
    }
    return out;
  }
}
