package dev.deployrt.archive;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Inflates a gzip stream on a thread of its own and hands the inflated bytes over through a small
 * bounded queue, so decompression and file writing use two cores, as {@code tar xzf} does with its
 * gzip child process. Memory is bounded by {@value #CHUNKS} chunks of {@value #CHUNK} bytes in the
 * queue, plus the one being read and the one being filled; the chunks are reused (an archive of
 * many small files inflates to hundreds of MB, which as fresh arrays meant a young collection every
 * ~100 ms and chunks still queued promoted to the old generation).
 *
 * <p>Errors of the inflating thread (not gzip, truncated, CRC mismatch) are rethrown by {@link
 * #read}; {@link #close} stops the thread and closes the source.
 */
final class ParallelGunzip extends InputStream {
  private static final int CHUNK = 256 * 1024;
  private static final int CHUNKS = 8;
  private static final Chunk END = new Chunk(new byte[0], 0);

  /** {@code length} bytes of {@code bytes} (the last chunk of a stream is usually short). */
  private record Chunk(byte[] bytes, int length) {}

  private final BlockingQueue<Chunk> queue = new ArrayBlockingQueue<>(CHUNKS);

  /** Chunks the reader is done with, for the inflater to fill again. */
  private final BlockingQueue<byte[]> free = new ArrayBlockingQueue<>(CHUNKS + 2);

  private final Thread inflater;
  private volatile IOException failure;
  private Chunk current = END;
  private int pos;
  private boolean ended;

  ParallelGunzip(InputStream compressed, int maxCompressionRatio) {
    inflater = new Thread(() -> inflate(compressed, maxCompressionRatio), "gunzip");
    inflater.setDaemon(true);
    inflater.start();
  }

  private void inflate(InputStream compressed, int maxCompressionRatio) {
    try (compressed) {
      InputStream gz = ArchiveValidator.openGzip(compressed, maxCompressionRatio);
      while (true) {
        byte[] chunk = free.poll();
        if (chunk == null) {
          chunk = new byte[CHUNK];
        }
        int filled = 0;
        int n;
        while (filled < CHUNK && (n = gz.read(chunk, filled, CHUNK - filled)) > 0) {
          filled += n;
        }
        if (filled == 0) {
          break;
        }
        queue.put(new Chunk(chunk, filled));
      }
    } catch (IOException e) {
      failure = e;
    } catch (InterruptedException e) {
      return;
    } catch (RuntimeException e) {
      failure = new IOException(e);
    }
    try {
      queue.put(END);
    } catch (InterruptedException ignored) {
      // closed by the reader
    }
  }

  private boolean fill() throws IOException {
    if (ended) {
      return false;
    }
    while (pos >= current.length()) {
      try {
        if (current != END) {
          free.offer(current.bytes());
          current = END;
        }
        Chunk next = queue.poll(10, TimeUnit.MINUTES);
        if (next == null) {
          throw new IOException("decompression stalled");
        }
        if (next == END) {
          ended = true;
          if (failure != null) {
            throw failure;
          }
          return false;
        }
        current = next;
        pos = 0;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while extracting");
      }
    }
    return true;
  }

  @Override
  public int read() throws IOException {
    return fill() ? current.bytes()[pos++] & 0xff : -1;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    if (!fill()) {
      return -1;
    }
    int n = Math.min(len, current.length() - pos);
    System.arraycopy(current.bytes(), pos, b, off, n);
    pos += n;
    return n;
  }

  @Override
  public void close() {
    inflater.interrupt();
  }
}
