package dev.deployrt.cli.pack;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A bounded pipe from a writer thread to a reader: at most {@code chunks} chunks of {@code
 * chunkSize} bytes are in flight, so the writer waits while the reader (the HTTP client sending the
 * request) is slower, and memory does not grow with the payload. The writer ends with {@link
 * #close} or {@link #fail}; the reader sees the failure as an IOException. A reader that gives up
 * calls {@link #cancel}, and the writer's next write fails instead of blocking forever. (java.io's
 * PipedInputStream ties itself to the threads that last used it, which the HTTP client's pooled
 * threads break, and wakes a waiting reader only once a second.)
 */
public final class ChunkPipe {
  private static final byte[] END = new byte[0];

  private final BlockingQueue<byte[]> queue;
  private final int chunkSize;
  private volatile Throwable failure;
  private volatile boolean cancelled;

  public ChunkPipe(int chunkSize, int chunks) {
    this.chunkSize = chunkSize;
    this.queue = new ArrayBlockingQueue<>(chunks);
  }

  public void fail(Throwable cause) {
    failure = cause;
    enqueue(END);
  }

  public void cancel() {
    cancelled = true;
    queue.clear();
  }

  private void enqueue(byte[] chunk) {
    try {
      while (!queue.offer(chunk, 100, TimeUnit.MILLISECONDS)) {
        if (cancelled) {
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      cancelled = true;
    }
  }

  public OutputStream output() {
    return new OutputStream() {
      private byte[] chunk = new byte[chunkSize];
      private int filled;
      private boolean closed;

      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        while (len > 0) {
          if (cancelled) {
            throw new IOException("the upload was cancelled");
          }
          int n = Math.min(len, chunk.length - filled);
          System.arraycopy(b, off, chunk, filled, n);
          filled += n;
          off += n;
          len -= n;
          if (filled == chunk.length) {
            flushChunk();
          }
        }
      }

      private void flushChunk() throws IOException {
        if (filled > 0) {
          byte[] full = filled == chunk.length ? chunk : java.util.Arrays.copyOf(chunk, filled);
          enqueue(full);
          if (cancelled) {
            throw new IOException("the upload was cancelled");
          }
          chunk = new byte[chunkSize];
          filled = 0;
        }
      }

      @Override
      public void close() throws IOException {
        if (!closed) {
          closed = true;
          flushChunk();
          enqueue(END);
        }
      }
    };
  }

  public InputStream input() {
    return new InputStream() {
      private byte[] current;
      private int pos;
      private boolean ended;

      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (len == 0) {
          return 0;
        }
        while (current == null || pos == current.length) {
          if (ended) {
            return -1;
          }
          try {
            current = queue.take();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
          }
          pos = 0;
          if (current == END) {
            ended = true;
            if (failure != null) {
              throw new IOException(failure.getMessage(), failure);
            }
            return -1;
          }
        }
        int n = Math.min(len, current.length - pos);
        System.arraycopy(current, pos, b, off, n);
        pos += n;
        return n;
      }

      @Override
      public void close() {
        if (!ended) {
          cancel();
        }
      }
    };
  }
}
