package dev.deployrt.fanout;

import dev.deployrt.async.Failures;
import dev.deployrt.blob.BlobStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * This node's side of piece relay: a payload's manifest and its pieces, from the blob store when
 * the whole payload is here, else from the fetch that is receiving it ({@link PartialBlobs}), which
 * only ever holds pieces it has checked. A request for what is not here yet waits, within its
 * bound, for the payload or the piece to arrive, so a fetcher can ask its relay before the relay
 * has it. An empty answer means "not here within the wait".
 *
 * <p>Manifests of whole payloads are computed from the verified blob on first request (one read of
 * it) and the last few are kept in memory.
 */
public final class PieceServer {
  private static final int MANIFESTS_KEPT = 16;

  private final BlobStore blobs;
  private final PartialBlobs partials;
  private final int pieceBytes;
  private final Executor blocking;
  private final boolean corruptServedPieces;
  private final AtomicLong relayedWhileReceiving = new AtomicLong();
  private final Map<String, CompletableFuture<PieceManifest>> manifests =
      new LinkedHashMap<>(MANIFESTS_KEPT, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, CompletableFuture<PieceManifest>> e) {
          return size() > MANIFESTS_KEPT;
        }
      };

  /**
   * @param pieceBytes the piece size of the manifests this node makes (the same on every node)
   * @param corruptServedPieces fault injection for tests: flip a byte of every piece served
   */
  public PieceServer(
      BlobStore blobs,
      PartialBlobs partials,
      int pieceBytes,
      Executor blocking,
      boolean corruptServedPieces) {
    this.blobs = blobs;
    this.partials = partials;
    this.pieceBytes = pieceBytes;
    this.blocking = blocking;
    this.corruptServedPieces = corruptServedPieces;
  }

  /** The manifest of payload {@code sha256}, once this node holds or receives it (within wait). */
  public CompletionStage<Optional<PieceManifest>> manifest(String sha256, Duration wait) {
    Optional<Path> whole = blobs.find(sha256);
    if (whole.isPresent()) {
      return manifestOf(sha256, whole.get()).thenApply(Optional::of);
    }
    Optional<PartialBlob> partial = partials.find(sha256);
    if (partial.isPresent()) {
      return CompletableFuture.completedFuture(Optional.of(partial.get().manifest()));
    }
    return arrival(sha256, wait)
        .thenCompose(
            arrived -> arrived ? manifest(sha256, Duration.ZERO) : notHere(PieceManifest.class));
  }

  /** Piece {@code piece} of payload {@code sha256}, once this node holds it (within wait). */
  public CompletionStage<Optional<ByteBuffer>> piece(String sha256, int piece, Duration wait) {
    long deadline = System.nanoTime() + wait.toNanos();
    Optional<Path> whole = blobs.find(sha256);
    if (whole.isPresent()) {
      return CompletableFuture.supplyAsync(() -> readFromBlob(whole.get(), piece), blocking)
          .thenApply(b -> Optional.of(served(b)));
    }
    Optional<PartialBlob> partial = partials.find(sha256);
    if (partial.isPresent()) {
      PartialBlob p = partial.get();
      if (piece < 0 || piece >= p.manifest().count()) {
        return notHere(ByteBuffer.class);
      }
      return p.whenHeld(piece)
          .toCompletableFuture()
          .orTimeout(Math.max(1, remainingMillis(deadline)), TimeUnit.MILLISECONDS)
          .handle((held, e) -> Optional.ofNullable(e))
          .thenComposeAsync(
              failure -> {
                if (failure.isPresent()
                    && Failures.cause(failure.get()) instanceof TimeoutException) {
                  return notHere(ByteBuffer.class);
                }
                if (failure.isEmpty()) {
                  try {
                    ByteBuffer bytes = p.read(piece);
                    relayedWhileReceiving.incrementAndGet();
                    return CompletableFuture.completedFuture(Optional.of(bytes));
                  } catch (IOException stopped) {
                    // committed or failed meanwhile: see below
                  }
                }
                // The fetch stopped: once committed, the blob store has the piece.
                return fromBlobOnceStored(sha256, piece, deadline);
              },
              blocking)
          .thenApply(b -> b.map(this::served));
    }
    return arrival(sha256, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))
        .thenCompose(
            arrived ->
                arrived
                    ? piece(
                        sha256, piece, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))
                    : notHere(ByteBuffer.class));
  }

  /** The piece from the blob store once the payload is committed there (within the deadline). */
  private CompletionStage<Optional<ByteBuffer>> fromBlobOnceStored(
      String sha256, int piece, long deadlineNanos) {
    return blobs
        .whenPresent(sha256)
        .toCompletableFuture()
        .orTimeout(Math.max(1, remainingMillis(deadlineNanos)), TimeUnit.MILLISECONDS)
        .handleAsync(
            (blob, e) -> e != null ? Optional.empty() : Optional.of(readFromBlob(blob, piece)),
            blocking);
  }

  /** Pieces this node served from a payload it was still receiving, since it started. */
  public long relayedWhileReceiving() {
    return relayedWhileReceiving.get();
  }

  /** True once the payload is in the blob store or being received, false after {@code wait}. */
  private CompletionStage<Boolean> arrival(String sha256, Duration wait) {
    if (wait.isZero() || wait.isNegative()) {
      return CompletableFuture.completedFuture(false);
    }
    CompletableFuture<?> started = partials.whenStarted(sha256).toCompletableFuture();
    CompletableFuture<?> stored = blobs.whenPresent(sha256).toCompletableFuture();
    return CompletableFuture.anyOf(started, stored)
        .orTimeout(wait.toMillis(), TimeUnit.MILLISECONDS)
        .handle(
            (any, e) -> {
              started.cancel(false);
              return e == null;
            });
  }

  private CompletionStage<PieceManifest> manifestOf(String sha256, Path blob) {
    CompletableFuture<PieceManifest> made;
    synchronized (manifests) {
      made = manifests.get(sha256);
      if (made == null || made.isCompletedExceptionally()) {
        made =
            CompletableFuture.supplyAsync(
                () -> {
                  try {
                    return PieceManifest.of(blob, sha256, Files.size(blob), pieceBytes);
                  } catch (IOException e) {
                    throw new CompletionException(e);
                  }
                },
                blocking);
        manifests.put(sha256, made);
      }
    }
    return made;
  }

  private ByteBuffer readFromBlob(Path blob, int piece) {
    try (FileChannel in = FileChannel.open(blob, StandardOpenOption.READ)) {
      long offset = (long) piece * pieceBytes;
      if (piece < 0 || offset >= in.size()) {
        throw new IOException("payload " + blob.getFileName() + " has no piece " + piece);
      }
      ByteBuffer out = ByteBuffer.allocate((int) Math.min(pieceBytes, in.size() - offset));
      while (out.hasRemaining() && in.read(out, offset + out.position()) >= 0) {
        // until full
      }
      return out.flip();
    } catch (IOException e) {
      throw new CompletionException(e);
    }
  }

  private ByteBuffer served(ByteBuffer piece) {
    if (!corruptServedPieces || !piece.hasRemaining()) {
      return piece;
    }
    ByteBuffer copy = ByteBuffer.allocate(piece.remaining()).put(piece.duplicate()).flip();
    copy.put(0, (byte) (copy.get(0) ^ 0x5a));
    return copy;
  }

  private static long remainingMillis(long deadlineNanos) {
    return TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
  }

  private static <T> CompletionStage<Optional<T>> notHere(Class<T> type) {
    return CompletableFuture.completedFuture(Optional.empty());
  }
}
