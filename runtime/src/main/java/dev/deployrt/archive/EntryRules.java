package dev.deployrt.archive;

import dev.deployrt.text.ClientText;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;

/**
 * Decides, entry by entry, whether an archive is safe to extract under a release root, so that the
 * upload validator and the extractor apply exactly the same rules.
 *
 * <p>Refused: absolute paths, Windows-style paths (backslashes, drive letters), ".." parts, empty
 * or over-long names, devices, fifos, sparse and other special entries, duplicate entries (except a
 * directory repeated), an entry placed under a symlink or under a file, a hard link to anything but
 * a regular file seen earlier, and a symlink that resolves outside the root, following every
 * symlink of the archive the way the kernel would (checked in {@link #finish()}, once all links are
 * known). Also refused: more than {@code maxEntries} entries or more than {@code maxExpandedBytes}
 * of file content (checked against the declared size before any content is read, so a gzip bomb is
 * refused without being inflated).
 *
 * <p>Modes: only {@link #INSTALLED_MODE_BITS} of an entry's mode are kept.
 *
 * <p>Not thread-safe: one instance per archive pass.
 */
public final class EntryRules {
  private static final int MAX_SYMLINK_HOPS = 40;

  /**
   * Permission bits a release keeps from its archive: never set-user-id, set-group-id, sticky or
   * writable by others, whatever the archive says (a release is code the host runs: it must not
   * gain privileges from an upload, nor be changed by other users).
   */
  static final int INSTALLED_MODE_BITS = 0775;

  private final ArchiveLimits limits;
  private final Map<String, EntryKind> seen = new HashMap<>();
  private final Map<String, String> symlinks = new HashMap<>();
  private long entries;
  private long expandedBytes;

  public EntryRules(ArchiveLimits limits) {
    this.limits = limits;
  }

  public long entries() {
    return entries;
  }

  public long expandedBytes() {
    return expandedBytes;
  }

  /**
   * Checks one entry.
   *
   * @return the entry to create, or null for an entry that names the root itself ("./")
   */
  public SafeEntry accept(TarArchiveEntry entry) throws InvalidArchiveException {
    if (++entries > limits.maxEntries()) {
      throw new InvalidArchiveException(
          "archive has more than " + limits.maxEntries() + " entries");
    }
    String rawName = entry.getName();
    EntryKind kind = kindOf(entry, rawName);
    String path = normalise(rawName);
    if (path.isEmpty()) {
      if (kind == EntryKind.DIRECTORY) {
        return null;
      }
      throw new InvalidArchiveException("entry '" + printable(rawName) + "' has no name");
    }
    long size = kind == EntryKind.FILE ? entry.getSize() : 0;
    if (size < 0 || size > limits.maxExpandedBytes() - expandedBytes) {
      throw new InvalidArchiveException(
          "archive expands to more than "
              + limits.maxExpandedBytes()
              + " bytes (entry '"
              + printable(path)
              + "')");
    }
    expandedBytes += size;
    checkAncestors(path);
    EntryKind before = seen.get(path);
    if (before != null && !(before == EntryKind.DIRECTORY && kind == EntryKind.DIRECTORY)) {
      throw new InvalidArchiveException("duplicate entry '" + printable(path) + "'");
    }
    String linkTarget = null;
    if (kind == EntryKind.SYMLINK) {
      linkTarget = entry.getLinkName();
      checkSymlinkTarget(path, linkTarget);
      symlinks.put(path, linkTarget);
    } else if (kind == EntryKind.HARDLINK) {
      String target = normalise(entry.getLinkName());
      if (seen.get(target) != EntryKind.FILE) {
        throw new InvalidArchiveException(
            "hard link '"
                + printable(path)
                + "' must point to a regular file earlier in the archive, not '"
                + printable(entry.getLinkName())
                + "'");
      }
      linkTarget = target;
    }
    seen.put(path, kind);
    int mode = entry.getMode() & INSTALLED_MODE_BITS;
    // Times before 1970 (a negative or corrupt header field) become the epoch: files cannot carry
    // them.
    long modified = Math.max(0, entry.getModTime().getTime());
    return new SafeEntry(path, kind, size, mode, linkTarget, modified);
  }

  /** Checks what can only be judged once every entry is known: where each symlink leads. */
  public void finish() throws InvalidArchiveException {
    if (entries == 0) {
      throw new InvalidArchiveException("archive contains no entries");
    }
    for (Map.Entry<String, String> link : symlinks.entrySet()) {
      if (!staysInsideRoot(link.getKey(), link.getValue())) {
        throw new InvalidArchiveException(
            "symlink '"
                + printable(link.getKey())
                + "' -> '"
                + printable(link.getValue())
                + "' leads outside the release");
      }
    }
  }

  private static EntryKind kindOf(TarArchiveEntry entry, String name)
      throws InvalidArchiveException {
    if (entry.isCharacterDevice() || entry.isBlockDevice()) {
      throw new InvalidArchiveException("entry '" + printable(name) + "' is a device file");
    }
    if (entry.isFIFO()) {
      throw new InvalidArchiveException("entry '" + printable(name) + "' is a fifo");
    }
    if (entry.isSparse()) {
      throw new InvalidArchiveException(
          "entry '" + printable(name) + "' is a sparse file, which is not supported");
    }
    if (entry.isSymbolicLink()) {
      return EntryKind.SYMLINK;
    }
    if (entry.isLink()) {
      return EntryKind.HARDLINK;
    }
    if (entry.isDirectory()) {
      return EntryKind.DIRECTORY;
    }
    if (entry.isFile()) {
      return EntryKind.FILE;
    }
    throw new InvalidArchiveException(
        "entry '"
            + printable(name)
            + "' has unsupported type '"
            + (char) entry.getLinkFlag()
            + "'");
  }

  /** "./a//b/" → "a/b"; refuses anything that could name a place outside the root. */
  String normalise(String name) throws InvalidArchiveException {
    if (name == null) {
      throw new InvalidArchiveException("entry without a name");
    }
    if (name.indexOf('\0') >= 0) {
      throw new InvalidArchiveException("entry name contains a NUL byte");
    }
    if (name.indexOf('\\') >= 0) {
      throw new InvalidArchiveException(
          "entry '" + printable(name) + "' contains a backslash (Windows-style path)");
    }
    if (name.startsWith("/")) {
      throw new InvalidArchiveException("entry '" + printable(name) + "' has an absolute path");
    }
    if (name.length() >= 2 && name.charAt(1) == ':' && Character.isLetter(name.charAt(0))) {
      throw new InvalidArchiveException(
          "entry '" + printable(name) + "' has a drive letter (Windows-style path)");
    }
    if (name.getBytes(StandardCharsets.UTF_8).length > limits.maxPathLength()) {
      throw new InvalidArchiveException(
          "entry path is longer than " + limits.maxPathLength() + " bytes");
    }
    StringBuilder out = new StringBuilder(name.length());
    for (String part : name.split("/")) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..")) {
        throw new InvalidArchiveException("entry '" + printable(name) + "' contains '..'");
      }
      if (part.getBytes(StandardCharsets.UTF_8).length > ArchiveLimits.MAX_NAME_COMPONENT) {
        throw new InvalidArchiveException(
            "entry '" + printable(name) + "' has a name part over 255 bytes");
      }
      if (out.length() > 0) {
        out.append('/');
      }
      out.append(part);
    }
    return out.toString();
  }

  /** No entry may sit under a symlink or a file; its ancestors become known directories. */
  private void checkAncestors(String path) throws InvalidArchiveException {
    int slash = path.indexOf('/');
    List<String> implicitDirs = new ArrayList<>();
    while (slash >= 0) {
      String ancestor = path.substring(0, slash);
      EntryKind kind = seen.get(ancestor);
      if (kind == EntryKind.SYMLINK) {
        throw new InvalidArchiveException(
            "entry '"
                + printable(path)
                + "' is placed under symlink '"
                + printable(ancestor)
                + "'");
      }
      if (kind != null && kind != EntryKind.DIRECTORY) {
        throw new InvalidArchiveException(
            "entry '"
                + printable(path)
                + "' is placed under non-directory '"
                + printable(ancestor)
                + "'");
      }
      if (kind == null) {
        implicitDirs.add(ancestor);
      }
      slash = path.indexOf('/', slash + 1);
    }
    for (String dir : implicitDirs) {
      seen.put(dir, EntryKind.DIRECTORY);
    }
  }

  private static void checkSymlinkTarget(String path, String target)
      throws InvalidArchiveException {
    if (target == null || target.isEmpty()) {
      throw new InvalidArchiveException("symlink '" + printable(path) + "' has an empty target");
    }
    if (target.indexOf('\0') >= 0 || target.indexOf('\\') >= 0) {
      throw new InvalidArchiveException(
          "symlink '" + printable(path) + "' has a target with a NUL or a backslash");
    }
    if (target.startsWith("/")) {
      throw new InvalidArchiveException(
          "symlink '" + printable(path) + "' -> '" + printable(target) + "' is absolute");
    }
  }

  /**
   * Resolves a link the way the kernel does, component by component, following the archive's own
   * symlinks, and says whether it ever climbs above the root.
   */
  private boolean staysInsideRoot(String linkPath, String target) throws InvalidArchiveException {
    Deque<String> stack = new ArrayDeque<>();
    String[] parts = linkPath.split("/");
    for (int i = 0; i < parts.length - 1; i++) {
      stack.addLast(parts[i]);
    }
    Deque<String> pending = new ArrayDeque<>(List.of(target.split("/")));
    int hops = 0;
    while (!pending.isEmpty()) {
      String part = pending.removeFirst();
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..")) {
        if (stack.isEmpty()) {
          return false;
        }
        stack.removeLast();
        continue;
      }
      stack.addLast(part);
      String next = symlinks.get(String.join("/", stack));
      if (next != null) {
        if (++hops > MAX_SYMLINK_HOPS) {
          throw new InvalidArchiveException(
              "symlink '" + printable(linkPath) + "' is part of a loop");
        }
        stack.removeLast();
        if (next.startsWith("/")) {
          return false;
        }
        List<String> expanded = new ArrayList<>(List.of(next.split("/")));
        expanded.addAll(pending);
        pending = new ArrayDeque<>(expanded);
      }
    }
    return true;
  }

  static String printable(String s) {
    return ClientText.printable(s, 200);
  }
}
