package dev.deployrt.upload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deployrt.archive.ArchiveLimits;
import dev.deployrt.archive.PreExtraction;
import dev.deployrt.blob.BlobStore;
import dev.deployrt.errors.ErrorCode;
import dev.deployrt.testkit.FileTrees;
import dev.deployrt.testkit.Tarball;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PayloadUploadTest {
  private static final UploadSettings SETTINGS =
      new UploadSettings(
          4 * 1024 * 1024,
          new ArchiveLimits(1000, 64 * 1024 * 1024, 4096, 200),
          Duration.ofSeconds(5),
          true,
          0,
          true);

  private final ActorTestKit testKit = ActorTestKit.create();
  private final ExecutorService blocking = Executors.newCachedThreadPool();

  @TempDir Path root;

  @AfterAll
  void shutdown() {
    blocking.shutdownNow();
    testKit.shutdownTestKit();
  }

  private StagedPayload run(Source<ByteString, ?> bytes, String declared, BlobStore store) {
    return bytes
        .runWith(
            PayloadUpload.sink(store, SETTINGS, declared, new AtomicLong(), blocking, null),
            testKit.system())
        .toCompletableFuture()
        .orTimeout(30, TimeUnit.SECONDS)
        .join();
  }

  private static Source<ByteString, ?> chunks(byte[] bytes, int size) {
    return Source.range(0, (bytes.length - 1) / size)
        .map(i -> ByteString.fromArray(bytes, i * size, Math.min(size, bytes.length - i * size)));
  }

  private UploadFailure failure(Source<ByteString, ?> bytes, String declared, BlobStore store) {
    CompletionException e =
        assertThrows(CompletionException.class, () -> run(bytes, declared, store));
    assertTrue(e.getCause() instanceof UploadFailure, String.valueOf(e.getCause()));
    assertEquals(List.of(), FileTrees.list(store.stagingDirectory()), "no staging file left");
    assertEquals(List.of(), FileTrees.list(root.resolve("sha256")), "no blob");
    return (UploadFailure) e.getCause();
  }

  @Test
  void hashesValidatesAndStagesInOnePass() throws Exception {
    BlobStore store = BlobStore.open(root);
    byte[] payload =
        Tarball.builder().file("a.txt", "hello").randomFile("b.bin", 500_000, 1).toBytes();
    String sha = FileTrees.sha256(payload);
    StagedPayload staged = run(chunks(payload, 8192), sha, store);
    assertEquals(sha, staged.sha256());
    assertEquals(payload.length, staged.size());
    assertEquals(2, staged.archive().entries());
    assertTrue(!store.contains(sha), "invisible until committed");
    Path blob = staged.commit();
    assertEquals(sha, FileTrees.sha256(Files.readAllBytes(blob)));
  }

  @ParameterizedTest(name = "direct-io = {0}")
  @ValueSource(booleans = {true, false})
  void aPayloadLargerThanTheWriteBehindStepIsStagedIntact(boolean directIo) throws Exception {
    BlobStore store = BlobStore.open(root);
    long size = WriteBehind.PAGE_CACHE_STEP * 5 / 2;
    UploadSettings large =
        new UploadSettings(
            2 * size,
            new ArchiveLimits(1000, 2 * size, 4096, 200),
            SETTINGS.stallTimeout(),
            directIo,
            0,
            true);
    byte[] payload = Tarball.builder().randomFile("big.bin", size, 3).toBytes();
    String sha = FileTrees.sha256(payload);
    StagedPayload staged =
        chunks(payload, 128 * 1024)
            .runWith(
                PayloadUpload.sink(store, large, sha, new AtomicLong(), blocking, null),
                testKit.system())
            .toCompletableFuture()
            .orTimeout(60, TimeUnit.SECONDS)
            .join();
    Path blob = staged.commit();
    assertEquals(sha, FileTrees.sha256(Files.readAllBytes(blob)));
  }

  @Test
  void stopsReadingAsSoonAsTheLimitIsPassed() {
    BlobStore store = BlobStore.open(root);
    // A valid .tar.gz larger than the limit, so only the size check can stop it.
    byte[] payload = Tarball.builder().randomFile("big.bin", 6 * 1024 * 1024, 9).toBytes();
    AtomicLong pulled = new AtomicLong();
    Source<ByteString, ?> endless =
        chunks(payload, 64 * 1024)
            .map(
                b -> {
                  pulled.addAndGet(b.size());
                  return b;
                });
    UploadFailure f = failure(endless, null, store);
    assertEquals(ErrorCode.PAYLOAD_TOO_LARGE, f.code());
    assertEquals(SETTINGS.maxBytes(), f.limit());
    assertTrue(pulled.get() < payload.length, "stopped early, read " + pulled.get());
  }

  @Test
  void refusesBytesThatDoNotMatchTheDeclaredDigest() {
    BlobStore store = BlobStore.open(root);
    byte[] payload = Tarball.builder().file("a.txt", "hello").toBytes();
    UploadFailure f = failure(chunks(payload, 100), "0".repeat(64), store);
    assertEquals(ErrorCode.DIGEST_MISMATCH, f.code());
    assertEquals(FileTrees.sha256(payload), f.actual());
  }

  @Test
  void refusesAnUnsafeArchiveWithoutReadingItAll() {
    BlobStore store = BlobStore.open(root);
    byte[] bad =
        Tarball.builder().file("../evil", "x").randomFile("pad.bin", 3_000_000, 3).toBytes();
    AtomicLong pulled = new AtomicLong();
    UploadFailure f =
        failure(
            chunks(bad, 8192)
                .map(
                    b -> {
                      pulled.addAndGet(b.size());
                      return b;
                    }),
            null,
            store);
    assertEquals(ErrorCode.INVALID_ARCHIVE, f.code());
    assertTrue(f.getMessage().contains("'..'"), f.getMessage());
    assertTrue(pulled.get() < bad.length, "the stream was cancelled early, read " + pulled.get());
  }

  @Test
  void aClientThatGoesAwayAbortsTheUpload() {
    BlobStore store = BlobStore.open(root);
    byte[] payload = Tarball.builder().randomFile("b.bin", 1_000_000, 2).toBytes();
    Source<ByteString, ?> broken =
        chunks(payload, 8192)
            .take(20)
            .concat(Source.failed(new IllegalStateException("connection reset by peer")));
    UploadFailure f = failure(broken, null, store);
    assertEquals(ErrorCode.UPLOAD_ABORTED, f.code());
  }

  @Test
  void refusesABodyThatIsNotGzip() {
    BlobStore store = BlobStore.open(root);
    UploadFailure f =
        failure(Source.single(ByteString.fromString("{\"not\": \"a tarball\"}")), null, store);
    assertEquals(ErrorCode.INVALID_ARCHIVE, f.code());
  }

  private StagedPayload runExtracting(Source<ByteString, ?> bytes, PreExtraction extraction) {
    return bytes
        .runWith(
            PayloadUpload.sink(
                BlobStore.open(root), SETTINGS, null, new AtomicLong(), blocking, extraction),
            testKit.system())
        .toCompletableFuture()
        .orTimeout(30, TimeUnit.SECONDS)
        .join();
  }

  private static PreExtraction extractionInto(Path dir) throws Exception {
    Files.createDirectories(dir);
    return new PreExtraction(() -> dir, PayloadUploadTest::deleteTree, bytes -> true);
  }

  @Test
  void extractsTheArchiveInTheSamePassAndDiscardsTheTreeWithThePayload(@TempDir Path trees)
      throws Exception {
    Tarball tarball =
        Tarball.builder()
            .dir("bin", 0755)
            .file("bin/start.sh", "#!/bin/sh\n".getBytes(), 0755)
            .randomFile("data/b.bin", 700_000, 4)
            .symlink("latest", "data/b.bin");
    PreExtraction extraction = extractionInto(trees.resolve("tree"));
    StagedPayload staged = runExtracting(chunks(tarball.toBytes(), 8192), extraction);
    assertSame(extraction, staged.extraction());
    assertTrue(extraction.complete());
    assertEquals(
        FileTrees.describe(extractedByTheApplierFrom(tarball, trees.resolve("reference"))),
        FileTrees.describe(trees.resolve("tree")),
        "the same tree as the extractor writes from the stored payload");
    assertTrue(Files.isExecutable(trees.resolve("tree/bin/start.sh")));
    staged.discard();
    assertFalse(Files.exists(trees.resolve("tree")), "discarded with the payload");
  }

  private static void deleteTree(Path root) {
    try (var paths = Files.walk(root)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static Path extractedByTheApplierFrom(Tarball tarball, Path dir) throws Exception {
    Files.createDirectories(dir);
    dev.deployrt.archive.ArchiveExtractor.extract(
        new java.io.ByteArrayInputStream(tarball.toBytes()),
        dir,
        SETTINGS.archiveLimits(),
        () -> false);
    return dir;
  }

  @Test
  void anUploadThatFailsRemovesWhatItExtractedSoFar(@TempDir Path trees) throws Exception {
    PreExtraction extraction = extractionInto(trees.resolve("tree"));
    byte[] bad =
        Tarball.builder().randomFile("first.bin", 300_000, 5).file("../evil", "x").toBytes();
    CompletionException e =
        assertThrows(CompletionException.class, () -> runExtracting(chunks(bad, 8192), extraction));
    assertEquals(ErrorCode.INVALID_ARCHIVE, ((UploadFailure) e.getCause()).code());
    assertFalse(Files.exists(trees.resolve("tree")), "no half-extracted tree");
  }

  @Test
  void aFileSystemThatRefusesTheTreeDoesNotFailTheUpload(@TempDir Path trees) throws Exception {
    // The staging "directory" is a file: every write into it fails as a full disk's would.
    Path notADirectory = Files.writeString(trees.resolve("tree"), "x");
    PreExtraction extraction = new PreExtraction(() -> notADirectory, p -> {}, bytes -> true);
    byte[] payload = Tarball.builder().file("a/b.txt", "hello").toBytes();
    StagedPayload staged = runExtracting(chunks(payload, 100), extraction);
    assertEquals(FileTrees.sha256(payload), staged.sha256(), "stored all the same");
    assertFalse(extraction.complete());
    assertTrue(extraction.failure().isPresent());
    staged.discard();
  }

  @Test
  void extractionStopsAndGivesBackItsRoomBeforeTheVolumeRunsShort(@TempDir Path trees)
      throws Exception {
    Files.createDirectories(trees.resolve("tree"));
    java.util.List<Long> asked = new java.util.ArrayList<>();
    PreExtraction extraction =
        new PreExtraction(
            () -> trees.resolve("tree"),
            PayloadUploadTest::deleteTree,
            bytes -> {
              asked.add(bytes);
              return false;
            });
    byte[] payload =
        Tarball.builder().file("small.txt", "x").randomFile("big.bin", 2_000_000, 6).toBytes();
    StagedPayload staged = runExtracting(chunks(payload, 8192), extraction);
    assertEquals(FileTrees.sha256(payload), staged.sha256(), "the upload itself goes on");
    assertEquals(List.of(2_000_000L), asked, "asked before the large file, not the small one");
    assertFalse(extraction.complete());
    assertFalse(Files.exists(trees.resolve("tree")), "what it wrote is removed at once");
    staged.discard();
  }
}
