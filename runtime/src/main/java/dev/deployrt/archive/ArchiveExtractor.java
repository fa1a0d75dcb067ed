package dev.deployrt.archive;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
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
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Extracts a {@code .tar.gz} into an empty directory, applying {@link EntryRules} to every entry
 * before anything is created for it, so a refused archive never writes outside {@code root}.
 *
 * <p>It does not clean up after a failure: the caller extracts into a staging directory and deletes
 * it on any exception, then publishes by renaming (see the applier). Never follows a symlink when
 * writing: the rules guarantee no entry's parent is a symlink and no path is written twice.
 * Permission bits are kept, except set-id, sticky and world-write bits ({@link EntryRules}); owners
 * are not. Every directory stays owner-{@code rwx} while the archive is extracted and gets its own
 * mode only at the end, deepest first, so an archive that lists a directory's contents before a
 * read-only directory, or a directory after its children, extracts the same for an ordinary user as
 * for root. Modes do not depend on the process umask: what the umask would change is set.
 *
 * <p>Errors: a problem of the archive is an {@link InvalidArchiveException}; a problem of the file
 * system (a full disk, a refused path) is a {@link FileSystemException}, so it is not reported as a
 * bad payload.
 */
public final class ArchiveExtractor {
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

  private ArchiveExtractor() {}

  public static ArchiveSummary extract(
      Path archive, Path root, ArchiveLimits limits, BooleanSupplier cancelled) throws IOException {
    return extract(Files.newInputStream(archive), root, limits, cancelled);
  }

  /**
   * Extracts a {@code .tar.gz} read from {@code compressed} (closed when done), e.g. while it still
   * arrives from a peer. Reads the gzip stream to its end after the last tar entry, as the upload
   * validator does, so the gzip trailer is checked too.
   */
  public static ArchiveSummary extract(
      InputStream compressed, Path root, ArchiveLimits limits, BooleanSupplier cancelled)
      throws IOException {
    EntryRules rules = new EntryRules(limits);
    // Every directory created, with the entry that gives its final mode (null: implied by a path).
    Map<String, SafeEntry> createdDirs = new HashMap<>();
    byte[] buf = new byte[256 * 1024];
    try (InputStream gz = new ParallelGunzip(compressed, limits.maxCompressionRatio())) {
      TarArchiveInputStream tar = new BoundedTarInputStream(gz, limits);
      TarArchiveEntry entry;
      while ((entry = ArchiveValidator.nextEntry(tar)) != null) {
        if (cancelled.getAsBoolean()) {
          throw new CancellationException("extraction cancelled");
        }
        SafeEntry safe = rules.accept(entry);
        if (safe == null) {
          continue;
        }
        Path target = root.resolve(safe.path());
        ensureParent(root, safe.path(), createdDirs);
        switch (safe.kind()) {
          case DIRECTORY -> {
            if (!createdDirs.containsKey(safe.path())) {
              Files.createDirectory(target, WHILE_EXTRACTING);
            }
            createdDirs.put(safe.path(), safe);
          }
          case FILE -> writeFile(tar, target, safe, buf);
          case SYMLINK -> Files.createSymbolicLink(target, Path.of(safe.linkTarget()));
          case HARDLINK -> Files.createLink(target, root.resolve(safe.linkTarget()));
        }
      }
      rules.finish();
      while (gz.read(buf) >= 0) {
        // the tar end is not the gzip end: read through the trailer
      }
    } catch (InvalidArchiveException | CancellationException e) {
      throw e;
    } catch (IOException e) {
      if (e.getClass().getName().startsWith("java.nio.file")) {
        throw e;
      }
      throw ArchiveValidator.asInvalid(e);
    }
    applyDirectoryModes(root, createdDirs);
    return new ArchiveSummary(rules.entries(), rules.expandedBytes());
  }

  /**
   * Gives each directory its final mode and time, children before parents (a path sorts after its
   * parent's, so reverse order is deepest first): a directory made read-only no longer needs to be
   * entered.
   */
  private static void applyDirectoryModes(Path root, Map<String, SafeEntry> createdDirs)
      throws IOException {
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

  private static void writeFile(TarArchiveInputStream tar, Path target, SafeEntry safe, byte[] buf)
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

  private static void ensureParent(Path root, String path, Map<String, SafeEntry> createdDirs)
      throws IOException {
    int slash = path.lastIndexOf('/');
    if (slash < 0) {
      return;
    }
    String parent = path.substring(0, slash);
    if (createdDirs.containsKey(parent)) {
      return;
    }
    ensureParent(root, parent, createdDirs);
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
