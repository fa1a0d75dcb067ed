package dev.deployrt.upload;

import dev.deployrt.archive.ArchiveSummary;
import dev.deployrt.archive.ArchiveValidator;
import dev.deployrt.archive.InvalidArchiveException;
import dev.deployrt.archive.PreExtraction;
import dev.deployrt.async.Failures;
import dev.deployrt.blob.BlobStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.IOResult;
import org.apache.pekko.stream.javadsl.FileIO;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.StreamConverters;
import org.apache.pekko.util.ByteString;

/**
 * The upload graph: one pass over the request bytes, with backpressure.
 *
 * <pre>
 * bytes ─▶ stall check ─▶ size limit + SHA-256 ─▶ broadcast ─┬▶ staging file (blob store)
 *                                                            └▶ archive validator (gzip + tar)
 * </pre>
 *
 * <p>The graph runs behind an asynchronous boundary, in its own actor: without it, each chunk's
 * hashing and hand-offs would sit between one socket read and the request for the next, so reading
 * and hashing would take turns instead of overlapping.
 *
 * <p>Guarantees: the payload is never buffered whole in memory nor copied anywhere but the blob
 * store's staging file, written with direct I/O ({@link DirectStagingWriter}) or, where the file
 * system refuses it, through the page cache; either way synced behind the writer ({@link
 * WriteBehind}), so the commit's final sync is short. The size limit trips as soon as the running
 * count passes it, not after the body is read. The result is a {@link StagedPayload} only if every
 * byte arrived, the archive is valid and the declared digest (if any) matches; otherwise the future
 * fails with an {@link UploadFailure} and the staging file is already deleted. If the validator
 * refuses the archive, the stream is cancelled at once (the broadcast cancels eagerly), so a bad
 * archive is not read to the end.
 *
 * <p>Each call returns a sink for one upload; materialise it once.
 */
public final class PayloadUpload {
  private static final int READ_AHEAD_CHUNKS = 4;

  /** How often the volume's free space is read while bytes arrive. */
  private static final long DISK_CHECK_BYTES = 4L << 20;

  private PayloadUpload() {}

  /**
   * @param declaredSha256 the digest the client declared, or null
   * @param received updated with the number of bytes received so far (for progress reports)
   * @param blocking where the validator's blocking reads run
   * @param extraction where the validator also writes the archive's entries, or null
   */
  public static Sink<ByteString, CompletionStage<StagedPayload>> sink(
      BlobStore store,
      UploadSettings settings,
      String declaredSha256,
      AtomicLong received,
      Executor blocking,
      PreExtraction extraction) {
    Duration readTimeout = settings.stallTimeout().plusSeconds(30);
    Sink<ByteString, CompletionStage<ArchiveSummary>> validator =
        StreamConverters.asInputStream(readTimeout)
            .mapMaterializedValue(
                in ->
                    CompletableFuture.supplyAsync(
                        () -> validate(in, settings, extraction), blocking));
    return graph(store, settings, declaredSha256, received, validator, extraction);
  }

  /**
   * The same pass for a payload copied from another node, which validated the archive when it was
   * uploaded: stall check, size limit, SHA-256 and staging file, but no archive validation (the
   * extractor checks every entry again before anything is written). The result's digest is {@code
   * expectedSha256} or the future fails with {@code DIGEST_MISMATCH}; its archive summary is null.
   */
  public static Sink<ByteString, CompletionStage<StagedPayload>> verifiedCopy(
      BlobStore store, UploadSettings settings, String expectedSha256, AtomicLong received) {
    Sink<ByteString, CompletionStage<ArchiveSummary>> noValidation =
        Sink.<ByteString>ignore()
            .mapMaterializedValue(done -> done.thenApply(d -> (ArchiveSummary) null));
    return graph(store, settings, expectedSha256, received, noValidation, null);
  }

  private static Sink<ByteString, CompletionStage<StagedPayload>> graph(
      BlobStore store,
      UploadSettings settings,
      String declaredSha256,
      AtomicLong received,
      Sink<ByteString, CompletionStage<ArchiveSummary>> validator,
      PreExtraction extraction) {
    Path staging = store.newStagingFile();
    MessageDigest digest = sha256();
    WriteBehind writeBehind = new WriteBehind(staging);
    long max = settings.maxBytes();
    DiskGuard disk = new DiskGuard(store.stagingDirectory(), settings.minFreeBytes());
    AtomicLong nextDiskCheck = new AtomicLong(0);

    Sink<ByteString, CompletionStage<IOResult>> file =
        stagingFile(staging, writeBehind, settings.directIo());

    return Flow.<ByteString>create()
        .idleTimeout(settings.stallTimeout())
        .map(
            bytes -> {
              long total = received.addAndGet(bytes.size());
              if (total > max) {
                throw UploadFailure.tooLarge(max);
              }
              if (total >= nextDiskCheck.get()) {
                nextDiskCheck.set(total + DISK_CHECK_BYTES);
                Optional<UploadFailure> full = disk.refuse(0);
                if (full.isPresent()) {
                  throw full.get();
                }
              }
              // The backing array when the chunk is compact (the usual case), else one copy;
              // hashing a read-only ByteBuffer would copy it again in 4 KiB pieces.
              digest.update(bytes.toArrayUnsafe());
              writeBehind.received(total);
              return bytes;
            })
        .alsoToMat(validator, Keep.right())
        .toMat(
            file,
            (validated, written) ->
                outcome(
                    validated,
                    written,
                    writeBehind,
                    disk,
                    store,
                    staging,
                    digest,
                    received,
                    declaredSha256,
                    settings,
                    extraction))
        // Its own island: the socket's next read is requested while this one hashes the previous
        // chunk. Four chunks of read-ahead (Pekko's default of 16 would hold 8 MiB of 512 KiB
        // chunks).
        .async()
        .addAttributes(Attributes.inputBuffer(READ_AHEAD_CHUNKS, READ_AHEAD_CHUNKS));
  }

  /**
   * The staging file's writer, chosen when the upload starts: direct I/O where the file system
   * allows it ({@link DirectStagingWriter}), else through the page cache with {@link WriteBehind}
   * syncing behind the writer.
   */
  private static Sink<ByteString, CompletionStage<IOResult>> stagingFile(
      Path staging, WriteBehind writeBehind, boolean directIo) {
    return Sink.<ByteString, CompletionStage<IOResult>>fromMaterializer(
            (mat, attributes) -> {
              Optional<DirectStagingWriter> direct;
              try {
                direct = directIo ? DirectStagingWriter.open(staging) : Optional.empty();
              } catch (IOException e) {
                return Sink.<ByteString>cancelled()
                    .mapMaterializedValue(ignored -> CompletableFuture.<IOResult>failedFuture(e));
              }
              if (direct.isPresent()) {
                writeBehind.directIo();
                return direct.get().sink();
              }
              return FileIO.toPath(
                  staging, Set.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW));
            })
        .mapMaterializedValue(inner -> inner.thenCompose(result -> result));
  }

  private static ArchiveSummary validate(
      InputStream in, UploadSettings settings, PreExtraction extraction) {
    try (in) {
      return ArchiveValidator.validate(in, settings.archiveLimits(), extraction);
    } catch (IOException e) {
      throw new CompletionException(e);
    }
  }

  private static CompletionStage<StagedPayload> outcome(
      CompletionStage<ArchiveSummary> validated,
      CompletionStage<IOResult> written,
      WriteBehind writeBehind,
      DiskGuard disk,
      BlobStore store,
      Path staging,
      MessageDigest digest,
      AtomicLong received,
      String declaredSha256,
      UploadSettings settings,
      PreExtraction extraction) {
    CompletableFuture<ArchiveSummary> v = validated.toCompletableFuture();
    CompletableFuture<IOResult> w = written.toCompletableFuture();
    // The background syncs finish before the file is committed or deleted.
    return CompletableFuture.allOf(v, w)
        .handle((ignored, error) -> null)
        .thenCompose(ignored -> writeBehind.drained())
        .thenApply(
            ignored ->
                settle(
                    v,
                    w,
                    writeBehind,
                    disk,
                    store,
                    staging,
                    digest,
                    received,
                    declaredSha256,
                    settings,
                    extraction));
  }

  private static StagedPayload settle(
      CompletableFuture<ArchiveSummary> v,
      CompletableFuture<IOResult> w,
      WriteBehind writeBehind,
      DiskGuard disk,
      BlobStore store,
      Path staging,
      MessageDigest digest,
      AtomicLong received,
      String declaredSha256,
      UploadSettings settings,
      PreExtraction extraction) {
    if (v.isCompletedExceptionally() || w.isCompletedExceptionally()) {
      discard(store, staging, extraction);
      throw new CompletionException(classify(v, w, settings));
    }
    Optional<IOException> syncFailed = writeBehind.failure();
    if (syncFailed.isPresent()) {
      // The disk refused bytes already handed to it; the commit's sync might not say so again.
      discard(store, staging, extraction);
      throw new CompletionException(UploadFailure.storage(syncFailed.get()));
    }
    // The checks while streaming run every few MiB; this one sees every byte written.
    Optional<UploadFailure> full = disk.refuse(0);
    if (full.isPresent()) {
      discard(store, staging, extraction);
      throw new CompletionException(full.get());
    }
    String actual = HexFormat.of().formatHex(digest.digest());
    if (declaredSha256 != null && !declaredSha256.equals(actual)) {
      discard(store, staging, extraction);
      throw new CompletionException(UploadFailure.digestMismatch(declaredSha256, actual));
    }
    return new StagedPayload(store, staging, actual, received.get(), v.join(), extraction);
  }

  private static void discard(BlobStore store, Path staging, PreExtraction extraction) {
    store.discard(staging);
    if (extraction != null) {
      extraction.discard();
    }
  }

  /**
   * Picks the failure that explains the outcome best: too large, then bad archive, then abort, then
   * disk.
   */
  private static UploadFailure classify(
      CompletableFuture<ArchiveSummary> validated,
      CompletableFuture<IOResult> written,
      UploadSettings settings) {
    Throwable v = failureOf(validated);
    Throwable w = failureOf(written);
    UploadFailure tooLarge = Failures.find(UploadFailure.class, v, w);
    if (tooLarge != null) {
      return tooLarge; // or out of room (DiskGuard)
    }
    InvalidArchiveException invalid = Failures.find(InvalidArchiveException.class, v, w);
    if (invalid != null) {
      return UploadFailure.invalidArchive(invalid.getMessage(), invalid);
    }
    TimeoutException stalled = Failures.find(TimeoutException.class, v, w);
    if (stalled != null) {
      return UploadFailure.stalled(settings.stallTimeout(), stalled);
    }
    if (w != null && !sharesRootCause(v, w)) {
      // The file sink failed on its own, not because the bytes stopped coming: a disk problem.
      return UploadFailure.storage(w);
    }
    Throwable cause = w != null ? w : v;
    return UploadFailure.aborted(
        "the client closed the connection before the upload completed", cause);
  }

  private static boolean sharesRootCause(Throwable a, Throwable b) {
    Throwable root = Failures.root(b);
    return Failures.anyCause(a, t -> t == root);
  }

  private static Throwable failureOf(CompletableFuture<?> f) {
    if (!f.isCompletedExceptionally()) {
      return null;
    }
    try {
      f.join();
      return null;
    } catch (CompletionException e) {
      return e.getCause() != null ? e.getCause() : e;
    } catch (RuntimeException e) {
      return e;
    }
  }

  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
