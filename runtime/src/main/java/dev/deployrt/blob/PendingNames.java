package dev.deployrt.blob;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The blob store's notes of uploads whose record may not name their bytes yet: one empty file
 * {@code <deployment id>.<sha256>} per upload, written before the commit and removed once the
 * record names the bytes, so a blob never becomes visible unnamed and unnoted. The node's start-up
 * sweep settles the notes a stop left behind.
 */
final class PendingNames {
  private static final Pattern PENDING_NAME =
      Pattern.compile("^([A-Za-z0-9_-]{1,128})\\.([0-9a-f]{64})$");

  private final Path directory;

  PendingNames(Path directory) {
    this.directory = directory;
  }

  Path directory() {
    return directory;
  }

  /**
   * Notes that deployment {@code deploymentId} is about to commit {@code sha256} and its record
   * does not name the bytes yet.
   */
  void note(String sha256, String deploymentId) throws IOException {
    Path note = pendingNameFile(sha256, deploymentId);
    try {
      Files.createFile(note);
    } catch (FileAlreadyExistsException e) {
      // noted already (a repeated commit of the same upload)
    }
  }

  /** Removes the note of {@link #note}: the record names the bytes, or nothing was committed. */
  void forget(String sha256, String deploymentId) {
    try {
      Files.deleteIfExists(pendingNameFile(sha256, deploymentId));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Every note left by {@link #note}; a file there that is not one is ignored. */
  List<BlobStore.PendingName> list() {
    List<BlobStore.PendingName> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(directory)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Matcher m = PENDING_NAME.matcher(p.getFileName().toString());
        if (m.matches()) {
          out.add(new BlobStore.PendingName(m.group(2), m.group(1)));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  private Path pendingNameFile(String sha256, String deploymentId) {
    String name = deploymentId + "." + sha256;
    if (!PENDING_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("not a deployment id and a SHA-256: " + name);
    }
    return directory.resolve(name);
  }
}
