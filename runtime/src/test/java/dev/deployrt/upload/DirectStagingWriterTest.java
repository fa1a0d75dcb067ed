package dev.deployrt.upload;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.stream.IOResult;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Direct-I/O staging files: exact bytes for every length around the alignment and piece boundaries,
 * whatever sizes the chunks arrive in; a failed stream fails the result and releases the file.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DirectStagingWriterTest {
  private static final int PIECE = DirectStagingWriter.CHUNK;

  private final ActorTestKit testKit = ActorTestKit.create();
  // Under the build directory, which is on a disk file system (a @TempDir may be tmpfs, without
  // O_DIRECT).
  private final Path dir = Path.of("target", "direct-staging-test");

  @BeforeEach
  void directIoAvailable() throws IOException {
    Files.createDirectories(dir);
    Path probe = dir.resolve("probe-" + UUID.randomUUID());
    Optional<DirectStagingWriter> writer = DirectStagingWriter.open(probe);
    writer.ifPresent(
        w ->
            Source.<ByteString>empty()
                .runWith(w.sink(), testKit.system())
                .toCompletableFuture()
                .join());
    Files.deleteIfExists(probe);
    assumeTrue(writer.isPresent(), "the build directory's file system has no direct I/O");
  }

  @AfterAll
  void shutdown() {
    testKit.shutdownTestKit();
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 4095, 4096, 4097, PIECE - 1, PIECE, PIECE + 1, 3 * PIECE + 12_345})
  void writesExactlyTheBytesReceived(int length) throws Exception {
    byte[] payload = new byte[length];
    Random random = new Random(length);
    random.nextBytes(payload);
    Path file = dir.resolve(UUID.randomUUID() + ".staging");
    try {
      IOResult result =
          unevenChunks(payload, random)
              .runWith(DirectStagingWriter.open(file).orElseThrow().sink(), testKit.system())
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      assertEquals(length, result.count());
      assertEquals(length, Files.size(file), "padding of the last piece truncated away");
      assertArrayEquals(payload, Files.readAllBytes(file));
    } finally {
      Files.deleteIfExists(file);
    }
  }

  @Test
  void aFailedStreamFailsTheResultAndReleasesTheFile() throws Exception {
    Path file = dir.resolve(UUID.randomUUID() + ".staging");
    byte[] some = new byte[PIECE + 100];
    Source<ByteString, ?> broken =
        Source.single(ByteString.fromArray(some))
            .concat(Source.failed(new IOException("client went away")));
    var result =
        broken
            .runWith(DirectStagingWriter.open(file).orElseThrow().sink(), testKit.system())
            .toCompletableFuture();
    CompletionException e =
        assertThrows(
            CompletionException.class, () -> result.orTimeout(30, TimeUnit.SECONDS).join());
    assertEquals("client went away", rootCause(e).getMessage());
    // Closed: the file can be deleted and nothing writes it again.
    Files.delete(file);
    assertFalse(Files.exists(file));
  }

  @Test
  void refusesAnExistingFile() throws Exception {
    Path file = Files.createFile(dir.resolve(UUID.randomUUID() + ".staging"));
    try {
      Files.writeString(file, "someone else's");
      assertThrows(IOException.class, () -> DirectStagingWriter.open(file));
      assertEquals("someone else's", Files.readString(file), "left as it was");
    } finally {
      Files.deleteIfExists(file);
    }
  }

  private static Source<ByteString, ?> unevenChunks(byte[] payload, Random random) {
    java.util.List<ByteString> chunks = new java.util.ArrayList<>();
    int at = 0;
    while (at < payload.length) {
      int n = Math.min(payload.length - at, 1 + random.nextInt(700_000));
      chunks.add(ByteString.fromArray(payload, at, n));
      at += n;
    }
    return Source.from(chunks);
  }

  private static Throwable rootCause(Throwable t) {
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t;
  }
}
