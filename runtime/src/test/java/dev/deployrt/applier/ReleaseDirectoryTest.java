package dev.deployrt.applier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deployrt.testkit.FileTrees;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReleaseDirectoryTest {
  @TempDir Path data;

  private static void fill(Path dir, String version) throws IOException {
    for (int i = 0; i < 20; i++) {
      Files.writeString(dir.resolve("f" + i), version);
    }
  }

  @Test
  void aReaderAlwaysSeesOneWholeReleaseWhileCurrentIsSwitched() throws Exception {
    ReleaseDirectory dirs = ReleaseDirectory.open(data);
    dirs.createRelease("web", "a", dir -> fill(dir, "a"));
    dirs.createRelease("web", "b", dir -> fill(dir, "b"));
    dirs.activate("web", "a");
    Path current = data.resolve("projects/web/current");

    AtomicBoolean done = new AtomicBoolean();
    AtomicReference<String> broken = new AtomicReference<>();
    AtomicInteger reads = new AtomicInteger();
    Thread reader =
        new Thread(
            () -> {
              while (!done.get() && broken.get() == null) {
                try {
                  // Resolve the link once, as a process does when it starts: the release it names
                  // must be complete and of one version. The link itself must never be missing.
                  Path release = current.toRealPath();
                  List<Path> files;
                  try (var listing = Files.list(release)) {
                    files = listing.toList();
                  }
                  List<String> versions =
                      files.stream()
                          .map(
                              f -> {
                                try {
                                  return Files.readString(f);
                                } catch (IOException e) {
                                  return "unreadable " + f;
                                }
                              })
                          .distinct()
                          .toList();
                  if (versions.size() != 1 || files.size() != 20) {
                    broken.set("mixed or missing: " + versions);
                  }
                  reads.incrementAndGet();
                } catch (IOException | RuntimeException e) {
                  broken.set("current missing: " + e);
                }
              }
            });
    reader.start();
    for (int i = 0; i < 500; i++) {
      dirs.activate("web", i % 2 == 0 ? "b" : "a");
    }
    done.set(true);
    reader.join();
    assertEquals(null, broken.get());
    assertTrue(reads.get() > 0);
    assertEquals(Optional.of("a"), dirs.activeRelease("web"));
  }

  /**
   * What a restarted node reports as its switch time: the current link's own, the last switch's.
   */
  @Test
  void theSwitchTimeIsTheLastSwitchsAndNoneBeforeTheFirst() throws IOException {
    ReleaseDirectory dirs = ReleaseDirectory.open(data);
    dirs.createRelease("web", "a", dir -> fill(dir, "a"));
    dirs.createRelease("web", "b", dir -> fill(dir, "b"));
    assertNull(dirs.switchedAt("web"));
    dirs.activate("web", "a");
    Path link = data.resolve("projects/web/current");
    FileTime epoch = FileTime.from(Instant.EPOCH);
    Files.getFileAttributeView(link, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
        .setTimes(epoch, null, null);
    assertEquals(Instant.EPOCH, dirs.switchedAt("web"), "the link's time, not its target's");
    Instant before = Instant.now().minusSeconds(1);
    Instant switched = dirs.activate("web", "b");
    Instant last = dirs.switchedAt("web");
    assertFalse(last.isBefore(before), last + " is the last switch's time");
    assertFalse(last.isAfter(switched), last + " is the link's time, made before the rename");
  }

  /**
   * The marks name one release per project, the last one marked, and survive reopening; a project
   * gets its (empty) settled mark at its first switch, so a missing one means an older version.
   */
  @Test
  void theMarksNameTheLastReleaseMarkedAndLeaveNoTemporaryFile() throws IOException {
    ReleaseDirectory dirs = ReleaseDirectory.open(data);
    dirs.createRelease("web", "a", dir -> fill(dir, "a"));
    dirs.createRelease("web", "b", dir -> fill(dir, "b"));
    assertFalse(dirs.marks().keepsMarks("web"), "not before the first switch");
    dirs.activate("web", "a");
    assertTrue(dirs.marks().keepsMarks("web"));
    assertFalse(dirs.marks().settled("web", "a"), "nothing settled yet");
    dirs.marks().markActivated("web", "a");
    assertTrue(dirs.marks().activated("web", "a"));
    assertFalse(dirs.marks().settled("web", "a"), "activated is not settled");
    dirs.marks().markSettled("web", "a");
    dirs.marks().markSettled("web", "b");
    ReleaseDirectory reopened = ReleaseDirectory.open(data);
    assertTrue(reopened.marks().settled("web", "b"));
    assertFalse(reopened.marks().settled("web", "a"), "only the last release marked");
    assertFalse(reopened.marks().settled("other", "b"), "per project");
    try (Stream<Path> entries = Files.list(data.resolve("projects/web"))) {
      assertEquals(
          List.of(".activated", ".activations", ".settled", "current", "releases"),
          entries.map(p -> p.getFileName().toString()).sorted().toList());
    }
  }

  /** Switching back to a release marked before clears its marks: they were for that switch. */
  @Test
  void aSwitchBackToAMarkedReleaseClearsItsMarksAndKnowsWhereItCameFrom() throws IOException {
    ReleaseDirectory dirs = ReleaseDirectory.open(data);
    dirs.createRelease("web", "a", dir -> fill(dir, "a"));
    dirs.createRelease("web", "b", dir -> fill(dir, "b"));
    dirs.activate("web", "a");
    assertEquals(Optional.empty(), dirs.switchedFrom("web"), "a first switch");
    dirs.marks().markActivated("web", "a");
    dirs.marks().markSettled("web", "a");
    dirs.activate("web", "b");
    assertTrue(dirs.marks().settled("web", "a"), "b's switch leaves a's marks");
    assertEquals(Optional.of("a"), dirs.switchedFrom("web"));
    dirs.activate("web", "a");
    assertFalse(dirs.marks().settled("web", "a"));
    assertFalse(dirs.marks().activated("web", "a"));
    assertEquals(Optional.of("b"), dirs.switchedFrom("web"));
    dirs.activate("web", "a"); // the same release again (a revert taken up): not a switch from a
    assertEquals(Optional.of("b"), dirs.switchedFrom("web"));
  }

  @Test
  void aFailedExtractionLeavesNoReleaseAndNoStaging() throws IOException {
    ReleaseDirectory dirs = ReleaseDirectory.open(data);
    assertThrows(
        IOException.class,
        () ->
            dirs.createRelease(
                "web",
                "x",
                dir -> {
                  fill(dir, "x");
                  throw new IOException("disk full");
                }));
    assertFalse(dirs.hasRelease("web", "x"));
    assertEquals(List.of(), FileTrees.list(data.resolve("projects/web/releases")));
  }

  @Test
  void stagingLeftByACrashIsRemovedOnOpen() throws IOException {
    Path staging = Files.createDirectories(data.resolve("projects/web/releases/.staging-x-123"));
    Files.writeString(staging.resolve("half"), "half-written");
    Files.createSymbolicLink(data.resolve("projects/web/.current-123"), Path.of("releases/x"));
    ReleaseDirectory.open(data);
    assertEquals(List.of("releases"), FileTrees.list(data.resolve("projects/web")));
  }

  @Test
  void anExistingReleaseIsNotExtractedAgain() throws IOException {
    ReleaseDirectory dirs = ReleaseDirectory.open(data);
    assertTrue(dirs.createRelease("web", "a", dir -> fill(dir, "a")));
    assertFalse(
        dirs.createRelease(
            "web",
            "a",
            dir -> {
              throw new AssertionError("must not run");
            }));
  }
}
