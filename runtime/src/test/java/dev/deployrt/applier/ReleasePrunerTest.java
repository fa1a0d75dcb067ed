package dev.deployrt.applier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReleasePrunerTest {
  @TempDir Path data;

  private ReleaseDirectory dirs;

  private void release(String id, int bytes) throws IOException {
    dirs.createRelease("web", id, dir -> Files.write(dir.resolve("app.bin"), new byte[bytes]));
  }

  private Set<String> present() throws IOException {
    try (Stream<Path> entries = Files.list(data.resolve("projects/web/releases"))) {
      return entries
          .map(p -> p.getFileName().toString())
          .collect(java.util.stream.Collectors.toCollection(TreeSet::new));
    }
  }

  @Test
  void keepsTheNewestActiveReleasesAndCurrentAndRemovesTheRest() throws Exception {
    dirs = ReleaseDirectory.open(data);
    for (String id : List.of("a", "b", "c", "d", "e")) {
      release(id, 1000);
      dirs.activate("web", id);
    }
    release("never-active", 500);
    // Switched back to b: the newest activations are now b, e, d.
    dirs.activate("web", "b");

    ReleasePruner.Pruned pruned = new ReleasePruner(dirs).prune("web", 3, Set.of());

    assertEquals(Set.of("b", "d", "e"), present());
    assertEquals(Set.of("a", "c", "never-active"), new TreeSet<>(pruned.removed()));
    assertEquals(2500, pruned.freedBytes());
    assertEquals("b", dirs.activeRelease("web").orElseThrow());
    assertEquals(List.of("d", "e", "b"), dirs.activations("web"), "the log is compacted");
  }

  @Test
  void neverRemovesANeededReleaseOrTheTargetOfAKeptAlias() throws Exception {
    dirs = ReleaseDirectory.open(data);
    for (String id : List.of("a", "b", "c", "d")) {
      release(id, 10);
      dirs.activate("web", id);
    }
    dirs.createAlias("web", "back-to-a", "a");
    dirs.activate("web", "back-to-a");
    release("incoming", 10);

    new ReleasePruner(dirs).prune("web", 2, Set.of("incoming"));

    assertEquals(Set.of("a", "back-to-a", "d", "incoming"), present());
    assertEquals(
        10, Files.size(data.resolve("projects/web/current/app.bin")), "a's tree, via the alias");
  }

  @Test
  void releasesWithoutALogAreOrderedByTimeAndAModeZeroTreeIsRemovedToo() throws Exception {
    dirs = ReleaseDirectory.open(data);
    long t = 1_700_000_000_000L;
    for (String id : List.of("old", "mid", "new")) {
      release(id, 10);
    }
    Path locked = data.resolve("projects/web/releases/old/locked");
    Files.createDirectory(locked);
    Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("---------"));
    for (String id : List.of("old", "mid", "new")) {
      Files.setLastModifiedTime(
          data.resolve("projects/web/releases/" + id), FileTime.fromMillis(t += 1000));
    }

    new ReleasePruner(dirs).prune("web", 2, Set.of());

    assertEquals(Set.of("mid", "new"), present());
  }

  @Test
  void aPruneCutAfterItsRenameLeavesOnlyAStagingLeftoverThatTheNextStartRemoves() throws Exception {
    dirs = ReleaseDirectory.open(data);
    release("a", 10);
    Path releases = data.resolve("projects/web/releases");
    // What a crash between the rename and the delete leaves.
    Files.move(
        releases.resolve("a"), releases.resolve(ReleaseDirectory.STAGING_PREFIX + "pruned-a"));

    ReleaseDirectory.open(data);

    assertTrue(present().isEmpty(), "no half-deleted release under its own name: " + present());
  }
}
