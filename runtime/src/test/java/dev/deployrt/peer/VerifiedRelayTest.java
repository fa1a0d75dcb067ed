package dev.deployrt.peer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deployrt.testkit.FileTrees;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletionException;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** A relayed payload's last chunk goes out only once size and digest matched. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VerifiedRelayTest {
  private final ActorTestKit testKit = ActorTestKit.create();
  private final byte[] payload = new byte[300_000];
  private final String sha;

  VerifiedRelayTest() {
    new Random(5).nextBytes(payload);
    sha = FileTrees.sha256(payload);
  }

  @AfterAll
  void stop() {
    testKit.shutdownTestKit();
  }

  private static Source<ByteString, ?> chunks(byte[] bytes, int size) {
    List<ByteString> out = new ArrayList<>();
    for (int off = 0; off < bytes.length; off += size) {
      out.add(ByteString.fromArray(bytes, off, Math.min(size, bytes.length - off)));
    }
    return Source.from(out);
  }

  /** Runs the relay, collecting what it let through, and returns how it ended (null: completed). */
  private Throwable relay(Source<ByteString, ?> bytes, List<ByteString> through) {
    try {
      VerifiedRelay.of(bytes, sha, payload.length)
          .runWith(Sink.foreach(through::add), testKit.system())
          .toCompletableFuture()
          .join();
      return null;
    } catch (CompletionException e) {
      return e.getCause();
    }
  }

  private static int total(List<ByteString> chunks) {
    return chunks.stream().mapToInt(ByteString::size).sum();
  }

  @Test
  void theRightBytesPassWhole() {
    List<ByteString> through = new ArrayList<>();
    assertEquals(null, relay(chunks(payload, 64 * 1024), through));
    ByteString all = through.stream().reduce(ByteString.emptyByteString(), ByteString::concat);
    assertArrayEquals(payload, all.toArray());
  }

  @Test
  void otherBytesFailBeforeTheLastChunk() {
    byte[] other = payload.clone();
    other[other.length - 1] ^= 1;
    List<ByteString> through = new ArrayList<>();
    Throwable failure = relay(chunks(other, 64 * 1024), through);
    assertInstanceOf(VerifiedRelay.MismatchException.class, failure);
    assertTrue(total(through) < payload.length, "the last chunk was held back: " + total(through));
  }

  @Test
  void tooManyOrTooFewBytesFail() {
    byte[] longer = java.util.Arrays.copyOf(payload, payload.length + 1);
    assertInstanceOf(
        VerifiedRelay.MismatchException.class, relay(chunks(longer, 64 * 1024), new ArrayList<>()));
    byte[] shorter = java.util.Arrays.copyOf(payload, payload.length - 1);
    assertInstanceOf(
        VerifiedRelay.MismatchException.class,
        relay(chunks(shorter, 64 * 1024), new ArrayList<>()));
  }

  @Test
  void aFailingSourcePassesItsOwnFailureOn() {
    IOException broken = new IOException("the peer went away");
    Source<ByteString, ?> cut = chunks(payload, 64 * 1024).take(2).concat(Source.failed(broken));
    assertEquals(broken, relay(cut, new ArrayList<>()), "not reported as a digest mismatch");
  }
}
