package dev.deployrt.upload;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Gets a staging file onto the disk while it is still being received, so the commit's final sync
 * only has to write the tail instead of the whole payload.
 *
 * <p>Every step of bytes received it starts a data sync of the file on a background thread (never
 * more than one at a time per file). Two cases, two steps:
 *
 * <ul>
 *   <li>Through the page cache ({@link #PAGE_CACHE_STEP}): without it the kernel keeps a large
 *       upload as dirty pages until the commit's {@code fsync}, which then writes all of it while
 *       the client waits (for 200 MiB on this project's machine: 0.27 s of an upload's 0.56 s). It
 *       also bounds the dirty memory one upload holds to about a step plus what the disk has not
 *       caught up with.
 *   <li>With direct I/O ({@link #DIRECT_IO_STEP}, after {@link #directIo()}): the bytes skip the
 *       page cache but can still sit in the disk's own write cache (a virtual disk's host cache),
 *       which is written out only when a sync asks for it. On this project's machine a sync after
 *       200 MiB of direct writes took 115–145 ms, even 3 s after the writes, and ~0.7 ms per MiB
 *       written since the last sync; syncing every few MiB while the upload streams overlaps that
 *       with the transfer and leaves the commit a few milliseconds.
 * </ul>
 *
 * <p>A background sync that fails is remembered ({@link #failure()}) and the upload must then fail:
 * Linux reports a write-back error to one sync per open file and marks the pages clean, so the
 * commit's own sync, on a channel opened later, could succeed over bytes that never reached the
 * disk. A sync that finds no file (deleted meanwhile) is no failure. Callers wait for {@link
 * #drained()} before they commit or delete the file. Not thread-safe: {@link #received} is called
 * from one stream stage.
 */
final class WriteBehind {
  static final long PAGE_CACHE_STEP = 32L << 20;

  /**
   * Smaller than the page cache's step: nothing here costs memory, and each MiB left unsynced is
   * paid by the commit (the step's figures: bench/RESULTS.md).
   */
  static final long DIRECT_IO_STEP = 8L << 20;

  private static final ExecutorService SYNCS =
      Executors.newCachedThreadPool(
          task -> {
            Thread t = new Thread(task, "deploy-write-behind");
            t.setDaemon(true);
            return t;
          });

  private final Path file;
  private volatile long step = PAGE_CACHE_STEP;
  private volatile long nextAt = PAGE_CACHE_STEP;
  private int started;
  private CompletableFuture<Void> inFlight = CompletableFuture.completedFuture(null);
  private volatile IOException failure;

  WriteBehind(Path file) {
    this.file = file;
  }

  /**
   * The file is written with direct I/O: sync every {@link #DIRECT_IO_STEP}; call before any byte
   * is received.
   */
  void directIo() {
    step = DIRECT_IO_STEP;
    nextAt = DIRECT_IO_STEP;
  }

  /** Told the running total of bytes handed to the file writer. */
  void received(long total) {
    if (total < nextAt || !inFlight.isDone()) {
      return;
    }
    nextAt = total + step;
    started++;
    inFlight = CompletableFuture.runAsync(this::sync, SYNCS);
  }

  /** How many background syncs were started (for tests). */
  int started() {
    return started;
  }

  /** Completes when no background sync is running any more; never exceptionally. */
  CompletionStage<Void> drained() {
    return inFlight;
  }

  /** The first background sync's failure, if one failed; read after {@link #drained()}. */
  Optional<IOException> failure() {
    return Optional.ofNullable(failure);
  }

  private void sync() {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ch.force(false);
    } catch (NoSuchFileException e) {
      // Deleted meanwhile: the upload was discarded, nothing to make durable.
    } catch (IOException e) {
      if (failure == null) {
        failure = e;
      }
    }
  }
}
