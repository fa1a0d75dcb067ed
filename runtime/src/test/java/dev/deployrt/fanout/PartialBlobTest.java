package dev.deployrt.fanout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deployrt.blob.BlobStore;
import dev.deployrt.fanout.PartialBlob.BadPieceException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PartialBlobTest {
  private static final int PIECE = 1000;

  @TempDir Path dir;

  private static byte[] bytes(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  private PieceManifest manifestOf(BlobStore blobs, byte[] payload) throws Exception {
    Path source = dir.resolve("source");
    Files.write(source, payload);
    return PieceManifest.of(source, sha256(payload), payload.length, PIECE);
  }

  private static ByteBuffer piece(byte[] payload, int i) {
    int from = i * PIECE;
    return ByteBuffer.wrap(payload, from, Math.min(PIECE, payload.length - from)).slice();
  }

  private static long stagingFiles(BlobStore blobs) throws IOException {
    try (Stream<Path> s = Files.list(blobs.stagingDirectory())) {
      return s.count();
    }
  }

  @Test
  void theManifestCutsThePayloadIntoPiecesAndSurvivesTheTripAsJson() throws Exception {
    BlobStore blobs = BlobStore.open(dir.resolve("store"));
    byte[] payload = bytes(3500, 1);
    PieceManifest m = manifestOf(blobs, payload);
    assertEquals(4, m.count());
    assertEquals(500, m.lengthOf(3));
    assertEquals(3000, m.offsetOf(3));
    assertTrue(m.matches(3, piece(payload, 3)));
    assertFalse(m.matches(2, piece(payload, 3)));
    assertEquals(m, PieceManifest.fromJson(m.toJson()));
    assertThrows(IOException.class, () -> PieceManifest.fromJson("{\"sha256\":\"x\"}"));
  }

  @Test
  void piecesInAnyOrderMakeTheBlobAndTheStreamReadsThemInOrderAsTheyArrive() throws Exception {
    BlobStore blobs = BlobStore.open(dir.resolve("store"));
    byte[] payload = bytes(4200, 2);
    PieceManifest m = manifestOf(blobs, payload);
    PartialBlob partial = PartialBlob.create(blobs, m);
    CompletableFuture<byte[]> streamed =
        CompletableFuture.supplyAsync(
            () -> {
              try (InputStream in = partial.inOrder()) {
                return in.readAllBytes();
              } catch (IOException e) {
                throw new RuntimeException(e);
              }
            });
    CompletionStage<Void> third = partial.whenHeld(3);
    for (int i : List.of(4, 2, 0, 3, 1)) {
      assertFalse(streamed.isDone(), "the stream waits for piece 1");
      partial.write(i, piece(payload, i));
    }
    partial.write(2, piece(payload, 2)); // again: no change
    third.toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertArrayEquals(payload, streamed.get(5, TimeUnit.SECONDS));
    assertTrue(partial.isComplete());
    Path blob = partial.commit();
    assertArrayEquals(payload, Files.readAllBytes(blob));
    assertEquals(0, stagingFiles(blobs));
  }

  @Test
  void aStreamOpenAtTheCommitReadsOnFromTheCommittedBlob() throws Exception {
    BlobStore blobs = BlobStore.open(dir.resolve("store"));
    byte[] payload = bytes(3000, 7);
    PartialBlob partial = PartialBlob.create(blobs, manifestOf(blobs, payload));
    try (InputStream in = partial.inOrder()) {
      for (int i = 0; i < 3; i++) {
        partial.write(i, piece(payload, i));
      }
      byte[] first = in.readNBytes(10);
      Path blob = partial.commit();
      assertEquals(0, stagingFiles(blobs));
      byte[] rest = in.readAllBytes();
      byte[] all = new byte[first.length + rest.length];
      System.arraycopy(first, 0, all, 0, first.length);
      System.arraycopy(rest, 0, all, first.length, rest.length);
      assertArrayEquals(payload, all);
      assertArrayEquals(payload, Files.readAllBytes(blob));
    }
    // Once the last stream closed, the file is closed: a relay then reads the blob store instead.
    assertThrows(IOException.class, () -> partial.read(0));
  }

  @Test
  void aStreamAskedForAfterTheCommitReadsTheCommittedBlob() throws Exception {
    BlobStore blobs = BlobStore.open(dir.resolve("store"));
    byte[] payload = bytes(3000, 8);
    PartialBlob partial = PartialBlob.create(blobs, manifestOf(blobs, payload));
    for (int i = 0; i < 3; i++) {
      partial.write(i, piece(payload, i));
    }
    partial.commit();
    // An extraction that starts only now (its thread was busy) still reads every byte.
    try (InputStream in = partial.inOrder()) {
      assertArrayEquals(payload, in.readAllBytes());
    }
  }

  @Test
  void aPieceWithOtherBytesIsRefusedAndNothingOfItIsWritten() throws Exception {
    BlobStore blobs = BlobStore.open(dir.resolve("store"));
    byte[] payload = bytes(2500, 3);
    PartialBlob partial = PartialBlob.create(blobs, manifestOf(blobs, payload));
    byte[] bad = piece(payload, 1).array().clone();
    ByteBuffer tampered = ByteBuffer.wrap(bad, PIECE, PIECE).slice();
    tampered.put(0, (byte) (tampered.get(0) ^ 1));
    assertThrows(BadPieceException.class, () -> partial.write(1, tampered));
    assertFalse(partial.has(1));
    assertThrows(BadPieceException.class, () -> partial.write(1, piece(payload, 0)));
    assertThrows(BadPieceException.class, () -> partial.write(7, piece(payload, 0)));
    partial.abort(new IOException("test over"));
    assertEquals(0, stagingFiles(blobs));
  }

  @Test
  void piecesThatDoNotMakeThePayloadAreNeverCommitted() throws Exception {
    BlobStore blobs = BlobStore.open(dir.resolve("store"));
    byte[] payload = bytes(2000, 4);
    PieceManifest real = manifestOf(blobs, payload);
    // A manifest that matches its pieces but names another payload's digest.
    PieceManifest lying = new PieceManifest(sha256(bytes(2000, 5)), 2000, PIECE, real.digests());
    PartialBlob partial = PartialBlob.create(blobs, lying);
    partial.write(0, piece(payload, 0));
    partial.write(1, piece(payload, 1));
    IOException e = assertThrows(IOException.class, partial::commit);
    assertTrue(e.getMessage().contains("not payload"), e.getMessage());
    assertFalse(blobs.contains(lying.sha256()));
    assertEquals(0, stagingFiles(blobs));
  }

  @Test
  void abortingWakesEveryWaiterWithTheCause() throws Exception {
    BlobStore blobs = BlobStore.open(dir.resolve("store"));
    byte[] payload = bytes(2000, 6);
    PartialBlob partial = PartialBlob.create(blobs, manifestOf(blobs, payload));
    CompletableFuture<Void> waiting = partial.whenHeld(1).toCompletableFuture();
    CompletableFuture<Integer> reading =
        CompletableFuture.supplyAsync(
            () -> {
              try (InputStream in = partial.inOrder()) {
                return in.read();
              } catch (IOException ex) {
                throw new RuntimeException(ex);
              }
            });
    IOException cause = new IOException("the source went away");
    partial.abort(cause);
    ExecutionException e = assertThrows(ExecutionException.class, waiting::get);
    assertEquals(cause, e.getCause());
    assertThrows(ExecutionException.class, () -> reading.get(5, TimeUnit.SECONDS));
    assertThrows(IOException.class, () -> partial.write(0, piece(payload, 0)));
    assertEquals(0, stagingFiles(blobs));
  }
}
