package dev.deployrt.blob;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deployrt.testkit.FileTrees;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlobStoreTest {
  @TempDir
  Path root;

  @Test
  void aCommittedBlobIsFoundByItsDigestAndTheStagingFileIsGone() throws IOException {
    BlobStore store = BlobStore.open(root);
    byte[] bytes = "payload".getBytes(StandardCharsets.UTF_8);
    String sha = FileTrees.sha256(bytes);
    Path staged = Files.write(store.newStagingFile(), bytes);
    assertFalse(store.contains(sha), "not visible before commit");
    Path blob = store.commit(staged, sha);
    assertTrue(store.contains(sha));
    assertArrayEquals(bytes, Files.readAllBytes(blob));
    assertEquals(List.of(), FileTrees.list(store.stagingDirectory()));
  }

  @Test
  void aWriteInterruptedByACrashLeavesNothingAfterReopening() throws IOException {
    BlobStore store = BlobStore.open(root);
    Path staged = store.newStagingFile();
    try (OutputStream out = Files.newOutputStream(staged)) {
      out.write(new byte[4096]); // the process dies here, before commit
    }
    BlobStore reopened = BlobStore.open(root);
    assertEquals(List.of(), FileTrees.list(reopened.stagingDirectory()));
    assertEquals(List.of(), FileTrees.list(root.resolve("sha256")));
  }

  @Test
  void committingBytesAlreadyStoredKeepsOneCopy() throws IOException {
    BlobStore store = BlobStore.open(root);
    byte[] bytes = "same".getBytes(StandardCharsets.UTF_8);
    String sha = FileTrees.sha256(bytes);
    store.commit(Files.write(store.newStagingFile(), bytes), sha);
    store.commit(Files.write(store.newStagingFile(), bytes), sha);
    assertEquals(2, FileTrees.list(root.resolve("sha256")).size(), "one fan-out directory and one blob");
    assertEquals(List.of(), FileTrees.list(store.stagingDirectory()));
  }

  @Test
  void deleteIsIdempotentAndReportsFreedBytes() throws IOException {
    BlobStore store = BlobStore.open(root);
    byte[] bytes = new byte[1000];
    String sha = FileTrees.sha256(bytes);
    store.commit(Files.write(store.newStagingFile(), bytes), sha);
    assertEquals(1000, store.delete(sha));
    assertEquals(0, store.delete(sha));
    assertFalse(store.contains(sha));
  }
}
