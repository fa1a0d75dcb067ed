import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The ingest ceiling on this machine: the least work an upload must do, hand-written without Pekko,
 * to compare the node's ingest against (the "ceiling" column of bench/deploy-bench.sh).
 *
 * <p>One HTTP/1.1 request per connection ({@code Content-Length} body, {@code Expect: 100-continue}
 * honoured). The socket is read straight into 2 MiB aligned direct buffers (no copy to the heap); each
 * full buffer goes at once to three threads: SHA-256, gzip inflation (as the node's archive check must
 * inflate everything to read the tar headers; the output is discarded), and an {@code O_DIRECT}
 * positional write, with a background data sync every 8 MiB written (as the node does). A buffer
 * returns to the pool when all three are done with it. At the end the file is truncated to the exact length and {@code fsync}ed, and the answer (201, the digest) is sent: the
 * same durability point as the node's {@code wait=false} answer. There is no record, no auth, no
 * event log, no tar parsing: it is a lower bound on time, not a server.
 *
 * <p>Only for the bench's own payloads: it expects a gzip header without optional fields, as
 * {@code tar cf - … | gzip -1} writes.
 *
 * <p>Usage: {@code java bench/IngestCeiling.java PORT DIR}
 */
public final class IngestCeiling {
  private static final int PIECE = 2 << 20;
  private static final long SYNC_STEP = 8L << 20;
  private static final int BUFFERS = 6;

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    Path dir = Path.of(args[1]);
    Files.createDirectories(dir);
    BlockingQueue<ByteBuffer> pool = new ArrayBlockingQueue<>(BUFFERS);
    for (int i = 0; i < BUFFERS; i++) {
      pool.add(ByteBuffer.allocateDirect(PIECE + 4096).alignedSlice(4096).limit(PIECE).slice());
    }
    AtomicInteger n = new AtomicInteger();
    try (ServerSocketChannel server = ServerSocketChannel.open()) {
      server.bind(new InetSocketAddress("127.0.0.1", port));
      System.out.println("listening on " + port);
      while (true) {
        try (SocketChannel socket = server.accept()) {
          serve(socket, dir.resolve("upload-" + n.incrementAndGet()), pool);
        } catch (Exception e) {
          // A bench tool: report and go on (a stage's failure leaves its buffers out of the pool).
          System.err.println("upload failed: " + e);
        }
      }
    }
  }

  private static void serve(SocketChannel socket, Path file, BlockingQueue<ByteBuffer> pool) throws Exception {
    ByteBuffer head = ByteBuffer.allocate(16384);
    String headers = readHeaders(socket, head);
    long length = -1;
    boolean expectContinue = false;
    for (String line : headers.split("\r\n")) {
      String lower = line.toLowerCase(Locale.ROOT);
      if (lower.startsWith("content-length:")) {
        length = Long.parseLong(line.substring(15).trim());
      } else if (lower.startsWith("expect:") && lower.contains("100-continue")) {
        expectContinue = true;
      }
    }
    if (length < 0) {
      respond(socket, "411 Length Required", "");
      return;
    }
    if (expectContinue) {
      socket.write(ByteBuffer.wrap("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII)));
    }

    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    Inflater inflater = new Inflater(true);
    byte[] inflated = new byte[256 * 1024];
    Stage hash = new Stage("hash", b -> sha.update(b));
    Stage inflate = new Stage("inflate", new Consumer<>() {
      boolean headerSkipped;

      @Override
      public void accept(ByteBuffer b) {
        if (!headerSkipped) {
          b.position(b.position() + 10); // gzip's fixed header (no optional fields from gzip -1 of a pipe)
          headerSkipped = true;
        }
        inflater.setInput(b);
        try {
          while (!inflater.needsInput() && !inflater.finished()) {
            inflater.inflate(inflated);
          }
        } catch (DataFormatException e) {
          throw new IllegalStateException(e);
        }
      }
    });
    FileChannel out = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW,
        ExtendedOpenOption.DIRECT);
    // As the node does: a background data sync every 8 MiB written, so the disk's write cache is
    // flushed while the upload streams instead of all of it by the final fsync.
    ExecutorService syncer = Executors.newSingleThreadExecutor();
    AtomicReference<Future<?>> syncing = new AtomicReference<>(CompletableFuture.completedFuture(null));
    Stage write = new Stage("write", new Consumer<>() {
      long at;
      long syncedAt;

      @Override
      public void accept(ByteBuffer b) {
        int aligned = (b.remaining() + 4095) / 4096 * 4096;
        b.limit(aligned);
        try {
          while (b.hasRemaining()) {
            at += out.write(b, at);
          }
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
        if (at - syncedAt >= SYNC_STEP && syncing.get().isDone()) {
          syncedAt = at;
          syncing.set(syncer.submit(() -> {
            out.force(false);
            return null;
          }));
        }
      }
    });
    Stage[] stages = {hash, inflate, write};

    long remaining = length;
    head.flip(); // body bytes that came with the headers
    while (remaining > 0) {
      ByteBuffer buffer = pool.take().clear();
      int want = (int) Math.min(PIECE, remaining);
      buffer.limit(want);
      if (head.hasRemaining()) {
        int take = Math.min(head.remaining(), want);
        buffer.put(head.slice(head.position(), take));
        head.position(head.position() + take);
      }
      while (buffer.hasRemaining()) {
        if (socket.read(buffer) < 0) {
          throw new IOException("client closed the connection");
        }
      }
      buffer.flip();
      remaining -= want;
      // The last of the three stages to finish with the buffer returns it to the pool.
      AtomicInteger users = new AtomicInteger(stages.length);
      for (Stage s : stages) {
        s.queue.put(new Job(buffer.duplicate(), () -> {
          if (users.decrementAndGet() == 0) {
            pool.add(buffer);
          }
        }));
      }
    }
    for (Stage s : stages) {
      s.finish();
    }
    try {
      syncing.get().get();
    } catch (ExecutionException e) {
      throw new IOException(e.getCause());
    } finally {
      syncer.shutdown();
    }
    out.truncate(length);
    out.force(true);
    out.close();
    inflater.end();
    respond(socket, "201 Created", "{\"sha256\":\"" + HexFormat.of().formatHex(sha.digest()) + "\"}");
  }

  private record Job(ByteBuffer bytes, Runnable done) {}

  /** One consumer thread fed in order. */
  private static final class Stage {
    final BlockingQueue<Job> queue = new ArrayBlockingQueue<>(BUFFERS);
    private final Thread thread;
    private volatile Throwable failure;

    Stage(String name, Consumer<ByteBuffer> work) {
      thread = new Thread(() -> {
        try {
          while (true) {
            Job job = queue.take();
            if (job.bytes() == null) {
              return;
            }
            try {
              work.accept(job.bytes());
            } finally {
              job.done().run();
            }
          }
        } catch (Throwable e) {
          failure = e;
        }
      }, name);
      thread.start();
    }

    void finish() throws Exception {
      queue.put(new Job(null, null));
      thread.join();
      if (failure != null) {
        throw new IllegalStateException(thread.getName() + " failed", failure);
      }
    }
  }

  private static String readHeaders(SocketChannel socket, ByteBuffer head) throws IOException {
    while (true) {
      if (socket.read(head) < 0) {
        throw new IOException("closed before the headers ended");
      }
      String text = new String(head.array(), 0, head.position(), StandardCharsets.ISO_8859_1);
      int end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        ByteBuffer rest = ByteBuffer.wrap(head.array(), end + 4, head.position() - end - 4);
        head.clear();
        head.put(rest);
        return text.substring(0, end);
      }
    }
  }

  private static void respond(SocketChannel socket, String status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    String head = "HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\nContent-Length: " + bytes.length
        + "\r\nConnection: close\r\n\r\n";
    socket.write(ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII)));
    socket.write(ByteBuffer.wrap(bytes));
  }
}
