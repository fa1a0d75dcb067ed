package dev.deployrt.blob;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deployrt.testkit.FileTrees;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlobStoreTest {
  @TempDir Path root;

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
  void pendingNamesOutliveTheProcessUntilForgotten() throws IOException {
    BlobStore store = BlobStore.open(root);
    String sha = FileTrees.sha256("noted".getBytes(StandardCharsets.UTF_8));
    String id = "6f1c2e0a-8d7b-4c55-9a0e-3b2f1d4c5e6f";
    store.notePendingName(sha, id);
    store.notePendingName(sha, id); // a repeated note is one note
    Files.writeString(root.resolve("pending-names/not-a-note"), "ignored");

    BlobStore reopened = BlobStore.open(root);
    assertEquals(List.of(new BlobStore.PendingName(sha, id)), reopened.pendingNames());
    reopened.forgetPendingName(sha, id);
    reopened.forgetPendingName(sha, id); // forgetting twice changes nothing
    assertEquals(List.of(), reopened.pendingNames());
    assertThrows(IllegalArgumentException.class, () -> reopened.notePendingName(sha, "../escape"));
    assertThrows(IllegalArgumentException.class, () -> reopened.notePendingName("ABC", id));
  }

  @Test
  void committingBytesAlreadyStoredKeepsOneCopy() throws IOException {
    BlobStore store = BlobStore.open(root);
    byte[] bytes = "same".getBytes(StandardCharsets.UTF_8);
    String sha = FileTrees.sha256(bytes);
    commit(store, bytes);
    commit(store, bytes);
    assertEquals(
        2, FileTrees.list(root.resolve("sha256")).size(), "one fan-out directory and one blob");
    assertEquals(List.of(), FileTrees.list(store.stagingDirectory()));
  }

  @Test
  void deleteIsIdempotentAndReportsFreedBytes() throws IOException {
    BlobStore store = BlobStore.open(root);
    byte[] bytes = new byte[1000];
    String sha = FileTrees.sha256(bytes);
    commit(store, bytes);
    ClaimMark mark = store.mark();
    assertEquals(OptionalLong.of(1000), store.deleteUnclaimedSince(sha, mark));
    assertEquals(OptionalLong.of(0), store.deleteUnclaimedSince(sha, mark));
    assertFalse(store.contains(sha));
  }

  @Test
  void bytesCommittedAgainAfterTheMarkAreKept() throws IOException {
    BlobStore store = BlobStore.open(root);
    byte[] bytes = "shared".getBytes(StandardCharsets.UTF_8);
    String sha = FileTrees.sha256(bytes);
    commit(store, bytes);
    ClaimMark beforeChecks = store.mark();
    commit(store, bytes); // a new upload of the same bytes
    assertEquals(OptionalLong.empty(), store.deleteUnclaimedSince(sha, beforeChecks));
    assertTrue(store.contains(sha));
    assertEquals(
        OptionalLong.of(bytes.length),
        store.deleteUnclaimedSince(sha, store.mark()),
        "a delete decided after that commit removes them");
  }

  @Test
  void bytesFoundByAClaimAfterTheMarkAreKept() throws IOException {
    BlobStore store = BlobStore.open(root);
    byte[] bytes = "in use".getBytes(StandardCharsets.UTF_8);
    String sha = FileTrees.sha256(bytes);
    assertEquals(Optional.empty(), store.claimIfPresent(sha));
    commit(store, bytes);
    ClaimMark beforeChecks = store.mark();
    assertTrue(store.claimIfPresent(sha).isPresent(), "a release about to be extracted from them");
    assertEquals(OptionalLong.empty(), store.deleteUnclaimedSince(sha, beforeChecks));
    assertTrue(store.contains(sha));
  }

  @Test
  void aHoldKeepsTheBytesWhileOpenAndFromDeletesMarkedBeforeItClosed() throws IOException {
    BlobStore store = BlobStore.open(root);
    byte[] bytes = "held".getBytes(StandardCharsets.UTF_8);
    String sha = FileTrees.sha256(bytes);
    commit(store, bytes);
    BlobStore.Hold first = store.hold(sha);
    BlobStore.Hold second = store.hold(sha);
    ClaimMark whileHeld = store.mark();
    assertEquals(OptionalLong.empty(), store.deleteUnclaimedSince(sha, whileHeld), "held");
    first.close();
    first.close(); // closing twice must not release the other hold
    assertEquals(
        OptionalLong.empty(),
        store.deleteUnclaimedSince(sha, store.mark()),
        "still held by the other");
    second.close();
    assertEquals(
        OptionalLong.empty(),
        store.deleteUnclaimedSince(sha, whileHeld),
        "released after the mark: the deleter's checks may not have seen the holder's record");
    assertEquals(OptionalLong.of(bytes.length), store.deleteUnclaimedSince(sha, store.mark()));
  }

  @Test
  void aHoldTakenBeforeTheBytesArriveCoversTheirCommit() throws IOException {
    BlobStore store = BlobStore.open(root);
    byte[] bytes = "later".getBytes(StandardCharsets.UTF_8);
    String sha = FileTrees.sha256(bytes);
    try (BlobStore.Hold hold = store.hold(sha)) {
      commit(store, bytes);
      assertEquals(OptionalLong.empty(), store.deleteUnclaimedSince(sha, store.mark()));
    }
    assertTrue(store.contains(sha));
  }

  @Test
  void aMarkFromBeforeARestartDeletesNothing() throws IOException {
    BlobStore before = BlobStore.open(root);
    byte[] bytes = "restart".getBytes(StandardCharsets.UTF_8);
    String sha = FileTrees.sha256(bytes);
    commit(before, bytes);
    ClaimMark old = before.mark();
    BlobStore after = BlobStore.open(root);
    assertEquals(OptionalLong.empty(), after.deleteUnclaimedSince(sha, old));
    assertTrue(after.contains(sha));
  }

  @Test
  void claimMarksSurviveTheirTextFormAndRejectOtherText() {
    BlobStore store = BlobStore.open(root);
    ClaimMark mark = store.mark();
    assertEquals(Optional.of(mark), ClaimMark.parse(mark.token()));
    for (String bad :
        new String[] {
          "",
          ".",
          "abc",
          "abc.",
          ".5",
          "zz.5",
          "abc.-1",
          "abc.x",
          "a".repeat(17) + ".1",
          "abc.1234567890123456789012"
        }) {
      assertEquals(Optional.empty(), ClaimMark.parse(bad), bad);
    }
    assertEquals(Optional.empty(), ClaimMark.parse(null));
  }

  /** Commits {@code bytes} (whose digest the test named {@code sha}) through a staging file. */
  private static void commit(BlobStore store, byte[] bytes) throws IOException {
    store.commit(Files.write(store.newStagingFile(), bytes), FileTrees.sha256(bytes));
  }
}
