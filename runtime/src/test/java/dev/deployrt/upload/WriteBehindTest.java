package dev.deployrt.upload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WriteBehindTest {
  @TempDir Path dir;

  @Test
  void startsASyncEveryStepOfBytesAndOnlyOneAtATime() throws Exception {
    Path file = Files.write(dir.resolve("staging.part"), new byte[4096]);
    WriteBehind writeBehind = new WriteBehind(file);
    writeBehind.received(WriteBehind.PAGE_CACHE_STEP - 1);
    assertEquals(0, writeBehind.started(), "nothing before the first step");
    writeBehind.received(WriteBehind.PAGE_CACHE_STEP);
    assertEquals(1, writeBehind.started());
    writeBehind.received(WriteBehind.PAGE_CACHE_STEP + 1);
    assertEquals(1, writeBehind.started(), "the next one waits for another step");
    writeBehind.drained().toCompletableFuture().get(10, TimeUnit.SECONDS);
    writeBehind.received(2 * WriteBehind.PAGE_CACHE_STEP + 1);
    assertEquals(2, writeBehind.started());
    writeBehind.drained().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertTrue(writeBehind.failure().isEmpty(), "both syncs succeeded");
  }

  @Test
  void withDirectIoItSyncsEverySmallerStep() throws Exception {
    Path file = Files.write(dir.resolve("direct.part"), new byte[4096]);
    WriteBehind writeBehind = new WriteBehind(file);
    writeBehind.directIo();
    writeBehind.received(WriteBehind.DIRECT_IO_STEP - 1);
    assertEquals(0, writeBehind.started(), "nothing before the first step");
    writeBehind.received(WriteBehind.DIRECT_IO_STEP);
    assertEquals(1, writeBehind.started(), "a direct-I/O step is smaller than the page cache's");
    writeBehind.drained().toCompletableFuture().get(10, TimeUnit.SECONDS);
    writeBehind.received(2 * WriteBehind.DIRECT_IO_STEP - 1);
    assertEquals(1, writeBehind.started(), "the next one a step after the last");
    writeBehind.received(2 * WriteBehind.DIRECT_IO_STEP);
    assertEquals(2, writeBehind.started());
    writeBehind.drained().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aSyncThatFindsNoFileIsNoFailureAndCreatesNone() throws Exception {
    WriteBehind writeBehind = new WriteBehind(dir.resolve("gone.part"));
    writeBehind.received(WriteBehind.PAGE_CACHE_STEP);
    writeBehind.drained().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(1, writeBehind.started());
    assertFalse(Files.exists(dir.resolve("gone.part")), "a sync never creates the file");
    assertTrue(
        writeBehind.failure().isEmpty(), "a deleted file is a discarded upload, not a disk error");
  }

  @Test
  void aSyncThatFailsIsRememberedSoTheUploadFails() throws Exception {
    // A path under a regular file: opening it fails with ENOTDIR, an I/O error other than "no such
    // file".
    Path notADirectory = Files.write(dir.resolve("plain"), new byte[1]);
    WriteBehind writeBehind = new WriteBehind(notADirectory.resolve("staging.part"));
    writeBehind.received(WriteBehind.PAGE_CACHE_STEP);
    writeBehind.drained().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertTrue(writeBehind.failure().isPresent(), "the failure is kept for the upload's outcome");
  }
}
