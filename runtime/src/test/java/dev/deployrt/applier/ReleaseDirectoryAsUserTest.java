package dev.deployrt.applier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.deployrt.testkit.FileTrees;
import dev.deployrt.testkit.Tarball;
import dev.deployrt.testkit.Unprivileged;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Extraction, removal and the start-up sweep as an ordinary user, in a child JVM ({@link
 * ReleaseWorkAsChild}; as root the child runs as uid 65534): root ignores permission bits, so these
 * bugs cannot show in a test that runs as root in-process.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReleaseDirectoryAsUserTest {
  @TempDir Path tmp;
  private Path classpath;

  @BeforeAll
  void copyClasspath(@TempDir Path cp) {
    classpath = cp;
    Unprivileged.classpath(cp);
  }

  private Path newDataDir(String name) throws IOException {
    Path data = Files.createDirectories(tmp.resolve(name).resolve("data"));
    Unprivileged.handOver(data.getParent());
    return data;
  }

  private void runChild(String... args) throws Exception {
    Process p =
        new ProcessBuilder(
                Unprivileged.javaCommand(
                    classpath,
                    List.of("-Xmx64m"),
                    ReleaseWorkAsChild.class.getName(),
                    List.of(args)))
            .redirectErrorStream(true)
            .start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child finished");
    assertEquals(
        0, p.exitValue(), String.join(" ", args) + " as an ordinary user failed:\n" + output);
  }

  private static String mode(Path p) throws IOException {
    return PosixFilePermissions.toString(
        Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
  }

  /**
   * An archive listing a directory's contents before the directory, which is read-only: a/b/
   * (0700), then a/ (0000).
   */
  @Test
  void aReadOnlyDirectoryListedAfterItsContentsIsExtractedAndRemovedByAnOrdinaryUser()
      throws Exception {
    Path data = newDataDir("readonly");
    Path archive =
        Tarball.builder()
            .dir("a/b/", 0700)
            .file("a/b/f", "x")
            .dir("a/", 0)
            .writeTo(tmp.resolve("ro.tar.gz"));
    Unprivileged.handOver(archive);

    runChild("extract", data.toString(), archive.toString());
    Path release = data.resolve("projects/web/releases/r1");
    assertEquals("---------", mode(release.resolve("a")), "a/ keeps its own mode");
    assertEquals("rwx------", mode(release.resolve("a/b")));
    assertEquals(List.of("a", "a/b", "a/b/f"), FileTrees.list(release));

    runChild("delete", release.toString());
    assertFalse(
        Files.exists(release, LinkOption.NOFOLLOW_LINKS), "what the node extracted it can remove");
  }

  /** The switch, its activation log and the marks of the steps after it, as an ordinary user. */
  @Test
  void switchesAndTheirMarksWorkForAnOrdinaryUser() throws Exception {
    Path data = newDataDir("marks");
    runChild("switch", data.toString());
    Path project = data.resolve("projects/web");
    assertEquals("r1", Files.readString(project.resolve(".settled")).strip());
    assertEquals("releases/r1", Files.readSymbolicLink(project.resolve("current")).toString());
    try (var entries = Files.list(project)) {
      assertEquals(
          List.of(".activated", ".activations", ".settled", "current", "releases"),
          entries.map(p -> p.getFileName().toString()).sorted().toList(),
          "no temporary file left");
    }
  }

  @Test
  void theStartUpSweepRemovesStagingLeftoversWhateverTheirModes() throws Exception {
    Path data = newDataDir("leftover");
    Path staging = Files.createDirectories(data.resolve("projects/web/releases/.staging-r2-x/a/b"));
    Files.writeString(staging.resolve("f"), "x");
    Unprivileged.handOver(data.getParent());
    Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("---------"));
    Files.setPosixFilePermissions(
        staging.getParent(), PosixFilePermissions.fromString("r-x------"));

    runChild("open", data.toString());
    assertEquals(List.of(), FileTrees.list(data.resolve("projects/web/releases")));
  }

  /** Needs root to make a leftover the child's user cannot remove: root's own directory inside. */
  @Test
  void aLeftoverThatCannotBeRemovedIsSetAsideAndTheStartGoesOn() throws Exception {
    assumeTrue(Unprivileged.isRoot(), "only root can leave a file an ordinary user cannot remove");
    Path data = newDataDir("foreign");
    Path releases = Files.createDirectories(data.resolve("projects/web/releases"));
    Unprivileged.handOver(data.getParent());
    Path foreign = Files.createDirectories(releases.resolve(".staging-r3-x/sub"));
    Files.writeString(foreign.resolve("f"), "root's");

    runChild("open", data.toString());
    List<String> left = FileTrees.list(releases);
    assertEquals(3, left.size(), left.toString());
    assertTrue(
        left.get(0).startsWith(TreeRemoval.SET_ASIDE_PREFIX + ".staging-r3-x-"), left.toString());
  }
}
