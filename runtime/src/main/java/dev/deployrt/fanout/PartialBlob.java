package dev.deployrt.fanout;

import dev.deployrt.blob.BlobStore;
import dev.deployrt.upload.PayloadUpload;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A payload arriving piece by piece, in any order, into one staging file of the blob store.
 *
 * <p>Guarantees: a piece is written only if its bytes match the {@link PieceManifest}, so whatever
 * this node serves from here (to relays, to the extractor) has been checked; the whole payload's
 * SHA-256 is computed as the pieces arrive (in order, reading back the ones that came early) and
 * {@link #commit} publishes the blob only if it matches; {@link #abort} (or a failed commit)
 * removes the staging file and wakes every waiter with the failure. Nothing of it is visible in the
 * blob store before the commit.
 *
 * <p>Thread-safe: pieces may be written from several threads, read while others arrive.
 */
public final class PartialBlob {
  private final BlobStore blobs;
  private final PieceManifest manifest;
  private final Path file;
  private final FileChannel channel;
  private final BitSet held = new BitSet();
  private final Map<Integer, CompletableFuture<Void>> waiters = new HashMap<>();
  private final MessageDigest whole = PayloadUpload.sha256();

  /** Pieces hashed into {@link #whole} so far: the prefix 0 .. hashedUpTo - 1. */
  private int hashedUpTo;

  private Throwable failure;
  private boolean finished;

  /** Open {@link #inOrder} streams: the file stays open for them after the commit. */
  private int readers;

  /** The committed blob, once {@link #commit} published it. */
  private Path committed;

  /** Thrown when a piece's bytes do not match the manifest: nothing of them was written. */
  public static final class BadPieceException extends IOException {
    BadPieceException(String message) {
      super(message);
    }
  }

  private PartialBlob(BlobStore blobs, PieceManifest manifest, Path file, FileChannel channel) {
    this.blobs = blobs;
    this.manifest = manifest;
    this.file = file;
    this.channel = channel;
  }

  /** A new, empty staging file for the payload {@code manifest} describes. */
  public static PartialBlob create(BlobStore blobs, PieceManifest manifest) throws IOException {
    Path file = blobs.newStagingFile();
    FileChannel channel =
        FileChannel.open(
            file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
    return new PartialBlob(blobs, manifest, file, channel);
  }

  public PieceManifest manifest() {
    return manifest;
  }

  /**
   * Writes piece {@code piece} if {@code bytes} (all that remain) match the manifest; a piece held
   * already is left as it is. Throws {@link BadPieceException} for other bytes.
   */
  public void write(int piece, ByteBuffer bytes) throws IOException {
    if (!manifest.matches(piece, bytes)) {
      throw new BadPieceException(
          "piece " + piece + " of payload " + manifest.sha256() + " has other bytes");
    }
    synchronized (this) {
      checkOpen();
      if (held.get(piece)) {
        return;
      }
    }
    ByteBuffer data = bytes.duplicate();
    ByteBuffer written = bytes.duplicate();
    long at = manifest.offsetOf(piece);
    while (data.hasRemaining()) {
      at += channel.write(data, at);
    }
    CompletableFuture<Void> waiting;
    synchronized (this) {
      checkOpen();
      held.set(piece);
      if (piece == hashedUpTo) {
        whole.update(written);
        hashedUpTo++;
      }
      hashPrefix();
      waiting = waiters.remove(piece);
      notifyAll();
    }
    if (waiting != null) {
      waiting.complete(null);
    }
  }

  /**
   * Hashes the pieces, read back, that now continue the hashed prefix (under this object's lock).
   */
  private void hashPrefix() throws IOException {
    while (hashedUpTo < manifest.count() && held.get(hashedUpTo)) {
      ByteBuffer piece = ByteBuffer.allocate(manifest.lengthOf(hashedUpTo));
      readFully(hashedUpTo, piece);
      whole.update(piece.flip());
      hashedUpTo++;
    }
  }

  private void readFully(int piece, ByteBuffer into) throws IOException {
    long at = manifest.offsetOf(piece);
    while (into.hasRemaining()) {
      int n = channel.read(into, at);
      if (n < 0) {
        throw new IOException("piece " + piece + " is shorter on disk than it was written");
      }
      at += n;
    }
  }

  public synchronized boolean has(int piece) {
    return held.get(piece);
  }

  public synchronized int heldCount() {
    return held.cardinality();
  }

  /** True once the fetch stopped without a commit. */
  public synchronized boolean hasFailed() {
    return failure != null;
  }

  public synchronized boolean isComplete() {
    return held.cardinality() == manifest.count();
  }

  /** Completes once piece {@code piece} is held; fails if this partial blob is aborted first. */
  public synchronized CompletionStage<Void> whenHeld(int piece) {
    if (held.get(piece)) {
      return CompletableFuture.completedFuture(null);
    }
    if (failure != null) {
      return CompletableFuture.failedFuture(failure);
    }
    return waiters.computeIfAbsent(piece, p -> new CompletableFuture<>()).copy();
  }

  /**
   * A held piece's bytes; also after the commit while an {@link #inOrder} stream is open (the
   * committed blob is the same file). Throws once the file is closed.
   */
  public ByteBuffer read(int piece) throws IOException {
    synchronized (this) {
      if (failure != null) {
        checkOpen();
      }
      if (!held.get(piece)) {
        throw new IllegalStateException("piece " + piece + " is not held");
      }
    }
    ByteBuffer out = ByteBuffer.allocate(manifest.lengthOf(piece));
    readFully(piece, out);
    return out.flip();
  }

  /**
   * The payload's bytes in order, each piece as soon as it is held: for an extraction that runs
   * while the pieces arrive. Fails with this partial blob's failure if it is aborted. Asked for
   * once the commit closed the file (no stream was open then), it reads the committed blob.
   */
  public synchronized InputStream inOrder() throws IOException {
    if (committed != null && readers == 0) {
      return Files.newInputStream(committed);
    }
    if (failure != null) {
      checkOpen();
    }
    readers++;
    return new InputStream() {
      private int piece;
      private ByteBuffer current = ByteBuffer.allocate(0);
      private boolean closed;

      @Override
      public void close() {
        if (!closed) {
          closed = true;
          readerDone();
        }
      }

      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
          return 0;
        }
        while (!current.hasRemaining()) {
          if (piece >= manifest.count()) {
            return -1;
          }
          awaitHeld(piece);
          current = PartialBlob.this.read(piece++);
        }
        int n = Math.min(len, current.remaining());
        current.get(b, off, n);
        return n;
      }
    };
  }

  private synchronized void readerDone() {
    readers--;
    if (finished && readers == 0) {
      closeQuietly();
    }
  }

  private void closeQuietly() {
    try {
      channel.close();
    } catch (IOException e) {
      // nothing is read from it any more
    }
  }

  private synchronized void awaitHeld(int piece) throws IOException {
    while (!held.get(piece)) {
      checkOpen();
      try {
        wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting for piece " + piece);
      }
    }
  }

  /**
   * Publishes the payload in the blob store once every piece is held and the whole digest matches;
   * otherwise (and on any failure) removes the staging file. The committed blob's path.
   */
  public Path commit() throws IOException {
    String actual;
    synchronized (this) {
      checkOpen();
      if (held.cardinality() != manifest.count()) {
        throw new IllegalStateException(
            held.cardinality() + " of " + manifest.count() + " pieces held");
      }
      actual = HexFormat.of().formatHex(whole.digest());
      finished = true;
    }
    Path blob;
    try {
      if (!actual.equals(manifest.sha256())) {
        throw new IOException(
            "the pieces make sha256 " + actual + ", not payload " + manifest.sha256());
      }
      // The open channel goes on reading the same file under its new name.
      blob = blobs.commit(file, manifest.sha256());
    } catch (IOException | RuntimeException e) {
      abort(e);
      throw e;
    }
    synchronized (this) {
      // Decided and closed under the lock: a stream asked for meanwhile either keeps the file open
      // or, once it is closed, reads the committed blob.
      committed = blob;
      if (readers == 0) {
        closeQuietly();
      }
    }
    return blob;
  }

  /** Gives up: removes the staging file and fails every waiter with {@code cause}. */
  public void abort(Throwable cause) {
    Map<Integer, CompletableFuture<Void>> waiting;
    synchronized (this) {
      if (failure == null) {
        failure = cause;
      }
      finished = true;
      waiting = new HashMap<>(waiters);
      waiters.clear();
      notifyAll();
    }
    closeQuietly();
    blobs.discard(file);
    waiting.values().forEach(f -> f.completeExceptionally(cause));
  }

  private void checkOpen() throws IOException {
    if (failure != null) {
      throw new IOException("the fetch of payload " + manifest.sha256() + " stopped", failure);
    }
    if (finished) {
      throw new IOException("the fetch of payload " + manifest.sha256() + " has finished");
    }
  }
}
