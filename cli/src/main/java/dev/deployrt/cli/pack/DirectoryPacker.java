package dev.deployrt.cli.pack;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Packs a directory as a tar.gz written to a stream, one file at a time through a fixed buffer, so
 * a directory of any size needs the same little memory and no temporary file. Entries are in a
 * stable order (names sorted per directory), paths are relative to the directory, and regular
 * files, directories and symbolic links (kept as links; the node decides whether they are safe) are
 * packed with their permission bits and modification times. {@code .deployignore} rules leave
 * entries out; other file types (sockets, fifos, devices) are skipped and reported through {@code
 * skipped}. A file that changes size while it is packed fails the pack rather than sending a wrong
 * archive. A file whose first block does not compress is stored in the gzip stream, not deflated
 * ({@link AdaptiveGzip}): the archive stays a valid {@code .tar.gz}, only larger by what deflate
 * would not have saved anyway.
 */
public final class DirectoryPacker {
  private static final int BUFFER = 256 * 1024;

  /** Files from this size on are sampled to decide whether to store them. */
  private static final long SAMPLED_FROM_BYTES = 1 << 20;

  private record Item(Path path, String name, BasicFileAttributes attributes) {}

  private final Path root;
  private final List<Item> items;
  private final long totalBytes;
  private final AtomicLong packedBytes = new AtomicLong();
  private final AtomicLong storedFiles = new AtomicLong();
  private final int compressionLevel;

  private DirectoryPacker(Path root, List<Item> items, long totalBytes, int compressionLevel) {
    this.root = root;
    this.items = items;
    this.totalBytes = totalBytes;
    this.compressionLevel = compressionLevel;
  }

  /**
   * Lists what will be packed (honouring {@code root/.deployignore}); reads no file content yet.
   */
  public static DirectoryPacker scan(Path root, int compressionLevel, Consumer<String> skipped)
      throws IOException {
    DeployIgnore ignore = DeployIgnore.of(root);
    List<Item> items = new ArrayList<>();
    long[] total = {0};
    walk(root, root, ignore, items, total, skipped);
    return new DirectoryPacker(root, List.copyOf(items), total[0], compressionLevel);
  }

  private static void walk(
      Path root,
      Path dir,
      DeployIgnore ignore,
      List<Item> items,
      long[] total,
      Consumer<String> skipped)
      throws IOException {
    List<Path> children;
    try (Stream<Path> list = Files.list(dir)) {
      children = list.sorted().toList();
    }
    for (Path child : children) {
      Path relative = root.relativize(child);
      BasicFileAttributes attrs =
          Files.readAttributes(child, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      if (ignore.excludes(relative, attrs.isDirectory())) {
        continue;
      }
      String name = relative.toString().replace('\\', '/');
      if (attrs.isDirectory()) {
        items.add(new Item(child, name + "/", attrs));
        walk(root, child, ignore, items, total, skipped);
      } else if (attrs.isRegularFile()) {
        items.add(new Item(child, name, attrs));
        total[0] += attrs.size();
      } else if (attrs.isSymbolicLink()) {
        items.add(new Item(child, name, attrs));
      } else {
        skipped.accept(name + " (not a file, directory or symbolic link)");
      }
    }
  }

  public int entries() {
    return items.size();
  }

  /** Bytes of file content that will be packed (before compression). */
  public long totalBytes() {
    return totalBytes;
  }

  /** Bytes of file content packed so far; safe to read from another thread. */
  public long packedBytes() {
    return packedBytes.get();
  }

  /** Files packed so far that were stored, not deflated (they did not compress). */
  public long storedFiles() {
    return storedFiles.get();
  }

  public void writeTo(OutputStream out) throws IOException {
    AdaptiveGzip gzip = new AdaptiveGzip(out, BUFFER, compressionLevel);
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(gzip)) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
      byte[] buffer = new byte[BUFFER];
      for (Item item : items) {
        TarArchiveEntry entry;
        if (item.attributes().isSymbolicLink()) {
          entry = new TarArchiveEntry(item.name(), TarConstants.LF_SYMLINK);
          entry.setLinkName(Files.readSymbolicLink(item.path()).toString());
        } else {
          entry = new TarArchiveEntry(item.name());
          if (item.attributes().isRegularFile()) {
            entry.setSize(item.attributes().size());
          }
        }
        entry.setMode(mode(item));
        entry.setModTime(item.attributes().lastModifiedTime());
        tar.putArchiveEntry(entry);
        if (item.attributes().isRegularFile()) {
          copy(item, tar, gzip, buffer);
        }
        tar.closeArchiveEntry();
      }
      tar.finish();
    }
  }

  /**
   * Copies a file's content into the tar; the first block read also decides whether the file is
   * stored or compressed ({@link AdaptiveGzip}).
   */
  private void copy(Item item, OutputStream tar, AdaptiveGzip gzip, byte[] buffer)
      throws IOException {
    long remaining = item.attributes().size();
    try (InputStream in = Files.newInputStream(item.path())) {
      boolean first = true;
      while (remaining > 0) {
        int n = in.readNBytes(buffer, 0, (int) Math.min(buffer.length, remaining));
        if (n == 0) {
          throw new IOException(root.relativize(item.path()) + " shrank while it was being packed");
        }
        if (first) {
          // Smaller files are not sampled: a sample would cost as much as compressing them.
          boolean store =
              item.attributes().size() >= SAMPLED_FROM_BYTES && gzip.isIncompressible(buffer, n);
          gzip.storeNext(store);
          if (store) {
            storedFiles.incrementAndGet();
          }
          first = false;
        }
        tar.write(buffer, 0, n);
        remaining -= n;
        packedBytes.addAndGet(n);
      }
      if (in.read() >= 0) {
        throw new IOException(root.relativize(item.path()) + " grew while it was being packed");
      }
    }
  }

  private static int mode(Item item) throws IOException {
    int type =
        item.attributes().isDirectory()
            ? 040000
            : item.attributes().isSymbolicLink() ? 0120000 : 0100000;
    try {
      Set<PosixFilePermission> perms =
          Files.readAttributes(item.path(), PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
              .permissions();
      int bits = 0;
      for (PosixFilePermission p : perms) {
        bits |= 1 << (8 - p.ordinal());
      }
      return type | bits;
    } catch (UnsupportedOperationException e) {
      return type | (item.attributes().isDirectory() ? 0755 : 0644);
    }
  }
}
