package dev.deployrt.cli.pack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ChunkPipeTest {
  @Test
  void carriesEveryByteInOrderThroughAFewSmallChunks() throws Exception {
    byte[] data = new byte[1_000_003];
    new Random(1).nextBytes(data);
    ChunkPipe pipe = new ChunkPipe(4096, 2);
    CompletableFuture<Void> writer =
        CompletableFuture.runAsync(
            () -> {
              try (OutputStream out = pipe.output()) {
                for (int off = 0; off < data.length; off += 777) {
                  out.write(data, off, Math.min(777, data.length - off));
                }
              } catch (IOException e) {
                throw new RuntimeException(e);
              }
            });
    try (InputStream in = pipe.input()) {
      assertArrayEquals(data, in.readAllBytes());
    }
    writer.get(10, TimeUnit.SECONDS);
  }

  @Test
  void theWritersFailureReachesTheReader() {
    ChunkPipe pipe = new ChunkPipe(16, 2);
    pipe.fail(new IOException("disk gone"));
    IOException e = assertThrows(IOException.class, () -> pipe.input().readAllBytes());
    assertEquals("disk gone", e.getMessage());
  }

  @Test
  void aReaderThatGivesUpReleasesABlockedWriter() throws Exception {
    ChunkPipe pipe = new ChunkPipe(16, 1);
    CompletableFuture<Throwable> writer =
        CompletableFuture.supplyAsync(
            () -> {
              try (OutputStream out = pipe.output()) {
                out.write(
                    new byte[1024]); // more than the pipe holds: blocks until the reader reads or
                // leaves
                return null;
              } catch (IOException e) {
                return e;
              }
            });
    pipe.input().close();
    Throwable failure = writer.get(10, TimeUnit.SECONDS);
    assertEquals("the upload was cancelled", failure == null ? null : failure.getMessage());
  }
}
