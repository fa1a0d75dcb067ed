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
import java.security.SecureRandom;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A content-addressed store of payloads on the local filesystem: {@code sha256/ab/abcd…}.
 *
 * <p>Guarantee: a blob is visible under its address only once complete, synced and verified (and
 * readable by its owner only: mode {@code 0600}). Bytes are written to a staging file under {@code
 * staging/}; {@link #commit} syncs the file, renames it atomically into place and syncs the
 * directory, so after a crash a blob is either whole under its address or absent. Staging files
 * left by a crash are deleted by {@link #open}. Committing bytes that are already present discards
 * the new copy (the address says they are the same).
 *
 * <p>Deletion never races a new use of the same bytes: a caller that decides from other facts (the
 * deployment history, the release register) that a blob is unused takes a {@link #mark()} before it
 * gathers them, and {@link #deleteUnclaimedSince} removes the blob only if nothing claimed it after
 * that mark. A claim is every {@link #commit} of those bytes (also of bytes already present: a new
 * upload of the same content, a fetched or pushed replica), every {@link #claimIfPresent} that
 * found them, and every {@link #hold} taken or released (an upload holds its blob from before its
 * commit until its record names the blob). A mark of an earlier run of the store (before a restart)
 * protects everything: the claims it counted are gone.
 *
 * <p>Pending names: an upload notes {@link #notePendingName} before it commits its bytes and {@link
 * #forgetPendingName} once its deployment's record names them. A note still here at start-up means
 * the process stopped (or the record refused the bytes) in between, so the blob may be named by
 * nothing: the node's start-up sweep settles each one ({@link #pendingNames}). The notes are plain
 * files, kept across a crash of the process; a power loss may lose one, and then its blob simply
 * stays.
 *
 * <p>Thread-safe: every method works on distinct paths or relies on atomic renames; the check and
 * the removal of {@link #deleteUnclaimedSince} and a commit's check and rename are atomic per
 * digest. Waiters ({@link #whenPresent}) and the commit listener are told after the blob is
 * visible.
 */
public final class BlobStore {
  private static final Pattern SHA256 = Pattern.compile("^[0-9a-f]{64}$");
  private static final String STAGING_SUFFIX = ".part";
  private static final java.util.Set<java.nio.file.attribute.PosixFilePermission> OWNER_ONLY =
      java.nio.file.attribute.PosixFilePermissions.fromString("rw-------");

  private final Path blobs;
  private final Path staging;
  private final PendingNames pendingNames;
  private final Consumer<String> onCommitted;
  private final ConcurrentHashMap<String, CompletableFuture<Path>> waiters =
      new ConcurrentHashMap<>();

  /** Names this run of the store in its marks. */
  private final String run = Long.toHexString(new SecureRandom().nextLong() | Long.MIN_VALUE);

  private final AtomicLong claimCount = new AtomicLong();

  /**
   * Committed blobs and their bytes, counted at open and kept up to date by commits and deletes.
   */
  private final AtomicLong blobCount = new AtomicLong();

  private final AtomicLong blobBytes = new AtomicLong();

  /** Per digest: the last claim's number and the holds open; guarded by {@link #lockFor}. */
  private final ConcurrentHashMap<String, Claims> claims = new ConcurrentHashMap<>();

  private final Object[] locks = new Object[64];

  private BlobStore(Path root, Consumer<String> onCommitted) {
    this.blobs = root.resolve("sha256");
    this.staging = root.resolve("staging");
    this.pendingNames = new PendingNames(root.resolve("pending-names"));
    this.onCommitted = onCommitted;
    for (int i = 0; i < locks.length; i++) {
      locks[i] = new Object();
    }
  }

  /** Opens (creating if needed) the store under {@code root} and removes leftover staging files. */
  public static BlobStore open(Path root) {
    return open(root, sha256 -> {});
  }

  /** As {@link #open(Path)}; {@code onCommitted} hears of every blob that becomes visible. */
  public static BlobStore open(Path root, Consumer<String> onCommitted) {
    BlobStore store = new BlobStore(root, onCommitted);
    try {
      Files.createDirectories(store.blobs);
      Files.createDirectories(store.staging);
      Files.createDirectories(store.pendingNames.directory());
      try (Stream<Path> leftovers = Files.list(store.staging)) {
        for (Path p : (Iterable<Path>) leftovers::iterator) {
          try {
            Files.deleteIfExists(p);
          } catch (IOException e) {
            // not a staging file of ours (a directory, another user's): it stays, and is never read
            org.slf4j.LoggerFactory.getLogger(BlobStore.class)
                .warn("could not remove {} from the staging area: {}", p, e.toString());
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open blob store at " + root, e);
    }
    for (String sha : store.all()) {
      try {
        store.blobBytes.addAndGet(Files.size(store.pathOf(sha)));
        store.blobCount.incrementAndGet();
      } catch (IOException e) {
        // gone meanwhile
      }
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
   * Counts as a claim of the blob, also when the bytes were already present.
   */
  public Path commit(Path stagedFile, String sha256) throws IOException {
    requireDigest(sha256);
    Path target = pathOf(sha256);
    try {
      synchronized (lockFor(sha256)) {
        if (Files.exists(target)) {
          claim(sha256, 0);
          return target;
        }
      }
      try (FileChannel ch = FileChannel.open(stagedFile, StandardOpenOption.WRITE)) {
        ch.force(true);
      }
      // Whatever the writer and the umask made of it: a payload is its owner's only.
      Files.setPosixFilePermissions(stagedFile, OWNER_ONLY);
      Files.createDirectories(target.getParent());
      long size = Files.size(stagedFile);
      synchronized (lockFor(sha256)) {
        boolean added = !Files.exists(target);
        try {
          Files.move(stagedFile, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
          if (!Files.exists(target)) {
            throw e;
          }
          added = false;
        }
        if (added) {
          blobCount.incrementAndGet();
          blobBytes.addAndGet(size);
        }
        claim(sha256, 0);
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
   * The blob's path if it is present, counting as a claim of it: for a user of bytes already held
   * (a release about to be extracted from them, a replica pushed again), whom a delete decided from
   * older facts must not take them from.
   */
  public Optional<Path> claimIfPresent(String sha256) {
    requireDigest(sha256);
    synchronized (lockFor(sha256)) {
      if (!Files.isRegularFile(pathOf(sha256))) {
        return Optional.empty();
      }
      claim(sha256, 0);
      return Optional.of(pathOf(sha256));
    }
  }

  /**
   * Keeps the blob {@code sha256} (present or still to be committed) from {@link
   * #deleteUnclaimedSince} until the hold is closed; taking and closing it both count as claims.
   */
  public Hold hold(String sha256) {
    requireDigest(sha256);
    synchronized (lockFor(sha256)) {
      claim(sha256, 1);
    }
    return new Hold(sha256);
  }

  /** A {@link #hold} on one blob; closing it more than once changes nothing. */
  public final class Hold implements AutoCloseable {
    private final String sha256;
    private final AtomicBoolean open = new AtomicBoolean(true);

    private Hold(String sha256) {
      this.sha256 = sha256;
    }

    @Override
    public void close() {
      if (open.compareAndSet(true, false)) {
        synchronized (lockFor(sha256)) {
          claim(sha256, -1);
        }
      }
    }
  }

  /**
   * An upload of {@code sha256} for deployment {@code deploymentId} whose record may not name the
   * bytes.
   */
  public record PendingName(String sha256, String deploymentId) {}

  /**
   * Notes that deployment {@code deploymentId} is about to commit {@code sha256} and its record
   * does not name the bytes yet. Call before {@link #commit}, so a blob never becomes visible
   * unnamed and unnoted.
   */
  public void notePendingName(String sha256, String deploymentId) throws IOException {
    pendingNames.note(sha256, deploymentId);
  }

  /**
   * Removes the note of {@link #notePendingName}: the record names the bytes, or nothing was
   * committed.
   */
  public void forgetPendingName(String sha256, String deploymentId) {
    pendingNames.forget(sha256, deploymentId);
  }

  /** Every note left by {@link #notePendingName}; a file there that is not one is ignored. */
  public List<PendingName> pendingNames() {
    return pendingNames.list();
  }

  /** Where this store's claims stand now; see {@link #deleteUnclaimedSince}. */
  public ClaimMark mark() {
    return new ClaimMark(run, claimCount.get());
  }

  /**
   * Completes with the blob's path once it is visible: at once if it is, else when it is committed.
   * Callers bound the wait themselves (e.g. {@code orTimeout}); a timed-out wait leaves no trace.
   */
  public CompletionStage<Path> whenPresent(String sha256) {
    requireDigest(sha256);
    CompletableFuture<Path> waiting =
        waiters.computeIfAbsent(sha256, k -> new CompletableFuture<>());
    find(sha256)
        .ifPresent(
            p -> {
              waiters.remove(sha256, waiting);
              waiting.complete(p);
            });
    return waiting.copy();
  }

  /** The digests of every blob in the store. */
  public Set<String> all() {
    TreeSet<String> out = new TreeSet<>();
    try (Stream<Path> files = Files.walk(blobs, 2)) {
      files
          .filter(Files::isRegularFile)
          .map(p -> p.getFileName().toString())
          .filter(BlobStore::isValidDigest)
          .forEach(out::add);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /** How many blobs are committed, and their bytes: counts kept up to date, no disk access. */
  public record Usage(long blobs, long bytes) {}

  public Usage usage() {
    return new Usage(blobCount.get(), blobBytes.get());
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

  /**
   * Removes a blob unless something claimed it after {@code since} (a commit of the same bytes, a
   * hold taken, open or released) or {@code since} is from an earlier run of the store. Returns the
   * bytes freed (0 if it was not there), or empty if it was kept. Idempotent.
   */
  public OptionalLong deleteUnclaimedSince(String sha256, ClaimMark since) throws IOException {
    requireDigest(sha256);
    Path p = pathOf(sha256);
    synchronized (lockFor(sha256)) {
      Claims c = claims.get(sha256);
      if (!since.run().equals(run) || c != null && (c.holds > 0 || c.last > since.count())) {
        return OptionalLong.empty();
      }
      long size;
      try {
        size = Files.size(p);
        Files.delete(p);
        blobCount.decrementAndGet();
        blobBytes.addAndGet(-size);
      } catch (NoSuchFileException e) {
        size = 0;
      }
      claims.remove(sha256);
      return OptionalLong.of(size);
    }
  }

  /** Paths currently in the staging area (for tests and diagnostics). */
  public Path stagingDirectory() {
    return staging;
  }

  /**
   * Records a claim of {@code sha256} and changes its open holds by {@code holdDelta}; under its
   * lock.
   */
  private void claim(String sha256, int holdDelta) {
    Claims c = claims.computeIfAbsent(sha256, k -> new Claims());
    c.last = claimCount.incrementAndGet();
    c.holds += holdDelta;
    if (holdDelta < 0 && c.holds == 0 && !Files.exists(pathOf(sha256))) {
      claims.remove(sha256); // a released hold of bytes never committed: nothing left to protect
    }
  }

  private Object lockFor(String sha256) {
    return locks[Integer.parseInt(sha256.substring(0, 2), 16) % locks.length];
  }

  private static final class Claims {
    long last;
    int holds;
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
