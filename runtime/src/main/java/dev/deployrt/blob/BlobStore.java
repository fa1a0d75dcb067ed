package dev.deployrt.blob;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A content-addressed store of payloads on the local filesystem: {@code sha256/ab/abcd…}.
 *
 * <p>Guarantee: a blob is visible under its address only once complete, synced and verified. Bytes
 * are written to a staging file under {@code staging/}; {@link #commit} syncs the file, renames it
 * atomically into place and syncs the directory, so after a crash a blob is either whole under its
 * address or absent. Staging files left by a crash are deleted by {@link #open}. Committing bytes
 * that are already present discards the new copy (the address says they are the same).
 *
 * <p>Thread-safe: every method works on distinct paths or relies on atomic renames. Waiters
 * ({@link #whenPresent}) and the commit listener are told after the blob is visible.
 */
public final class BlobStore {
  private static final Pattern SHA256 = Pattern.compile("^[0-9a-f]{64}$");
  private static final String STAGING_SUFFIX = ".part";

  private final Path blobs;
  private final Path staging;
  private final Consumer<String> onCommitted;
  private final ConcurrentHashMap<String, CompletableFuture<Path>> waiters = new ConcurrentHashMap<>();

  private BlobStore(Path root, Consumer<String> onCommitted) {
    this.blobs = root.resolve("sha256");
    this.staging = root.resolve("staging");
    this.onCommitted = onCommitted;
  }

  /** Opens (creating if needed) the store under {@code root} and removes leftover staging files. */
  public static BlobStore open(Path root) {
    return open(root, sha256 -> { });
  }

  /** As {@link #open(Path)}; {@code onCommitted} hears of every blob that becomes visible. */
  public static BlobStore open(Path root, Consumer<String> onCommitted) {
    BlobStore store = new BlobStore(root, onCommitted);
    try {
      Files.createDirectories(store.blobs);
      Files.createDirectories(store.staging);
      try (Stream<Path> leftovers = Files.list(store.staging)) {
        for (Path p : (Iterable<Path>) leftovers::iterator) {
          Files.deleteIfExists(p);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open blob store at " + root, e);
    }
    return store;
  }

  public static boolean isValidDigest(String sha256) {
    return sha256 != null && SHA256.matcher(sha256).matches();
  }

  /** A fresh, not yet existing path in the staging area. */
  public Path newStagingFile() {
    return staging.resolve(UUID.randomUUID() + STAGING_SUFFIX);
  }

  /**
   * Publishes a fully written staging file under {@code sha256}. The caller has verified that the
   * file's digest is {@code sha256}. The staging file is gone afterwards, whatever the outcome.
   */
  public Path commit(Path stagedFile, String sha256) throws IOException {
    requireDigest(sha256);
    Path target = pathOf(sha256);
    try {
      if (Files.exists(target)) {
        return target;
      }
      try (FileChannel ch = FileChannel.open(stagedFile, StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      Files.createDirectories(target.getParent());
      try {
        Files.move(stagedFile, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
        if (!Files.exists(target)) {
          throw e;
        }
      }
      syncDirectory(target.getParent());
      onCommitted.accept(sha256);
      CompletableFuture<Path> waiting = waiters.remove(sha256);
      if (waiting != null) {
        waiting.complete(target);
      }
      return target;
    } finally {
      Files.deleteIfExists(stagedFile);
    }
  }

  /**
   * Completes with the blob's path once it is visible: at once if it is, else when it is committed.
   * Callers bound the wait themselves (e.g. {@code orTimeout}); a timed-out wait leaves no trace.
   */
  public CompletionStage<Path> whenPresent(String sha256) {
    requireDigest(sha256);
    CompletableFuture<Path> waiting = waiters.computeIfAbsent(sha256, k -> new CompletableFuture<>());
    find(sha256).ifPresent(p -> {
      waiters.remove(sha256, waiting);
      waiting.complete(p);
    });
    return waiting.copy();
  }

  /** The digests of every blob in the store. */
  public Set<String> all() {
    TreeSet<String> out = new TreeSet<>();
    try (Stream<Path> files = Files.walk(blobs, 2)) {
      files.filter(Files::isRegularFile)
          .map(p -> p.getFileName().toString())
          .filter(BlobStore::isValidDigest)
          .forEach(out::add);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /** Bytes of every committed blob (a blob deleted while this runs is skipped). */
  public long totalBytes() {
    long total = 0;
    for (String sha : all()) {
      try {
        total += Files.size(pathOf(sha));
      } catch (NoSuchFileException e) {
        // deleted meanwhile
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return total;
  }

  public void discard(Path stagedFile) {
    try {
      Files.deleteIfExists(stagedFile);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public boolean contains(String sha256) {
    return isValidDigest(sha256) && Files.isRegularFile(pathOf(sha256));
  }

  public Optional<Path> find(String sha256) {
    return contains(sha256) ? Optional.of(pathOf(sha256)) : Optional.empty();
  }

  /** Removes a blob; returns the bytes freed (0 if it was not there). Idempotent. */
  public long delete(String sha256) throws IOException {
    requireDigest(sha256);
    Path p = pathOf(sha256);
    try {
      long size = Files.size(p);
      Files.delete(p);
      return size;
    } catch (NoSuchFileException e) {
      return 0;
    }
  }

  /** Paths currently in the staging area (for tests and diagnostics). */
  public Path stagingDirectory() {
    return staging;
  }

  private Path pathOf(String sha256) {
    return blobs.resolve(sha256.substring(0, 2)).resolve(sha256);
  }

  private static void requireDigest(String sha256) {
    if (!isValidDigest(sha256)) {
      throw new IllegalArgumentException("not a sha256 digest: " + sha256);
    }
  }

  static void syncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}
