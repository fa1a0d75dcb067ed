package dev.deployrt.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deployrt.testkit.FileTrees;
import dev.deployrt.testkit.Tarball;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ArchiveExtractorTest {
  private static final ArchiveLimits LIMITS = new ArchiveLimits(1000, 10 * 1024 * 1024, 4096, 200);

  @TempDir Path tmp;

  static Stream<Arguments> unsafeArchives() {
    return Stream.of(
        Arguments.of("parent traversal", Tarball.builder().file("../evil", "x"), "'..'"),
        Arguments.of("nested traversal", Tarball.builder().file("a/../../evil", "x"), "'..'"),
        Arguments.of("absolute path", Tarball.builder().file("/tmp/evil", "x"), "absolute"),
        Arguments.of("windows traversal", Tarball.builder().file("..\\..\\evil", "x"), "backslash"),
        Arguments.of("windows drive", Tarball.builder().file("C:evil", "x"), "drive letter"),
        Arguments.of("absolute symlink", Tarball.builder().symlink("etc", "/etc"), "absolute"),
        Arguments.of(
            "symlink climbing out", Tarball.builder().dir("a").symlink("a/up", "../.."), "outside"),
        Arguments.of(
            "symlink chain out",
            Tarball.builder().symlink("s", ".").symlink("l", "s/.."),
            "outside"),
        Arguments.of(
            "symlink defined later",
            Tarball.builder().symlink("l", "s/../x").symlink("s", "."),
            "outside"),
        Arguments.of(
            "write through symlink",
            Tarball.builder().dir("d").symlink("s", "d").file("s/f", "x"),
            "under symlink"),
        Arguments.of("symlink loop", Tarball.builder().symlink("a", "b").symlink("b", "a"), "loop"),
        Arguments.of(
            "hard link outside", Tarball.builder().hardlink("h", "../../etc/passwd"), "'..'"),
        Arguments.of(
            "hard link to unknown", Tarball.builder().hardlink("h", "nothere"), "hard link"),
        Arguments.of("fifo", Tarball.builder().fifo("pipe"), "fifo"),
        Arguments.of("char device", Tarball.builder().charDevice("null"), "device"),
        Arguments.of("block device", Tarball.builder().blockDevice("sda"), "device"),
        Arguments.of(
            "duplicate file", Tarball.builder().file("a", "1").file("a", "2"), "duplicate"),
        Arguments.of(
            "file then dir of same name",
            Tarball.builder().file("a", "1").file("a/b", "2"),
            "non-directory"),
        Arguments.of("too many entries", manyFiles(1001), "more than 1000 entries"),
        Arguments.of(
            "expands too far", Tarball.builder().zeroFile("big", 11L * 1024 * 1024), "expands"),
        Arguments.of("empty archive", Tarball.builder(), "no entries"),
        // Within the expanded-size limit, but 9 MiB of zeros inflate about 1000:1.
        Arguments.of(
            "compression ratio",
            Tarball.builder().zeroFile("zeros", 9L * 1024 * 1024),
            "compression-ratio"));
  }

  /**
   * A full disk while a file is written is the file system's error, not the archive's: the
   * extractor passes {@link FileSystemException}s on as they are (so the deploy fails with
   * EXTRACT_FAILED, not INVALID_ARCHIVE). /dev/full fails every write with ENOSPC, as a full disk
   * does.
   */
  @Test
  void aFullDiskIsReportedAsAFileSystemErrorNotABadArchive() throws IOException {
    Path full = Path.of("/dev/full");
    OutputStream out = new ReleaseWriter.FileWrites(Files.newOutputStream(full), full);
    FileSystemException e =
        assertThrows(FileSystemException.class, () -> out.write(new byte[4096], 0, 4096));
    assertEquals("/dev/full", e.getFile());
    assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
    assertTrue(
        e.getCause() instanceof IOException && !(e.getCause() instanceof FileSystemException),
        e.toString());
    out.close();
  }

  @Test
  void compressionRatioCheckCanBeTurnedOff() throws IOException {
    byte[] bytes = Tarball.builder().zeroFile("zeros", 9L * 1024 * 1024).toBytes();
    ArchiveLimits noRatio = new ArchiveLimits(1000, 10 * 1024 * 1024, 4096, 0);
    assertEquals(
        9L * 1024 * 1024,
        ArchiveValidator.validate(new ByteArrayInputStream(bytes), noRatio).expandedBytes());
    Path archive = Files.write(tmp.resolve("zeros.tar.gz"), bytes);
    Path root = Files.createDirectory(tmp.resolve("root"));
    ArchiveExtractor.extract(archive, root, noRatio, () -> false);
    assertEquals(9L * 1024 * 1024, Files.size(root.resolve("zeros")));
  }

  private static Tarball manyFiles(int n) {
    Tarball t = Tarball.builder();
    for (int i = 0; i < n; i++) {
      t.file("f" + i, "");
    }
    return t;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("unsafeArchives")
  void refusesUnsafeArchivesAndValidatorAgrees(String name, Tarball tarball, String reason)
      throws IOException {
    byte[] bytes = tarball.toBytes();
    InvalidArchiveException v =
        assertThrows(
            InvalidArchiveException.class,
            () -> ArchiveValidator.validate(new ByteArrayInputStream(bytes), LIMITS));
    assertTrue(v.getMessage().contains(reason), v.getMessage());

    Path archive = Files.write(tmp.resolve("a.tar.gz"), bytes);
    Path sandbox = Files.createDirectory(tmp.resolve("sandbox"));
    Path root = Files.createDirectory(sandbox.resolve("root"));
    InvalidArchiveException e =
        assertThrows(
            InvalidArchiveException.class,
            () -> ArchiveExtractor.extract(archive, root, LIMITS, () -> false));
    assertTrue(e.getMessage().contains(reason), e.getMessage());
    // Nothing written beside the root; whatever is inside the root the caller deletes.
    assertEquals(
        List.of("root"),
        FileTrees.list(sandbox).stream().filter(p -> !p.startsWith("root/")).toList());
    assertTrue(Files.notExists(tmp.resolve("evil")));
  }

  @Test
  void refusesBytesThatAreNotGzip() {
    InvalidArchiveException e =
        assertThrows(
            InvalidArchiveException.class,
            () ->
                ArchiveValidator.validate(
                    new ByteArrayInputStream("hello, not gzip".getBytes(StandardCharsets.UTF_8)),
                    LIMITS));
    assertTrue(e.getMessage().contains("not gzip"), e.getMessage());
  }

  @Test
  void refusesAnEmptyBody() {
    assertThrows(
        InvalidArchiveException.class,
        () -> ArchiveValidator.validate(new ByteArrayInputStream(new byte[0]), LIMITS));
  }

  @Test
  void refusesGzipThatIsNotATar() {
    byte[] bytes =
        Tarball.gzip(
            "just some text that is not a tar header at all"
                .repeat(20)
                .getBytes(StandardCharsets.UTF_8));
    assertThrows(
        InvalidArchiveException.class,
        () -> ArchiveValidator.validate(new ByteArrayInputStream(bytes), LIMITS));
  }

  @Test
  void refusesATruncatedGzip() {
    byte[] whole = Tarball.builder().randomFile("data.bin", 200_000, 7).toBytes();
    byte[] cut = Arrays.copyOf(whole, whole.length / 2);
    InvalidArchiveException e =
        assertThrows(
            InvalidArchiveException.class,
            () -> ArchiveValidator.validate(new ByteArrayInputStream(cut), LIMITS));
    assertTrue(e.getMessage().contains("truncated"), e.getMessage());
  }

  @Test
  void refusesACorruptTarHeader() {
    byte[] tar = new byte[1536];
    System.arraycopy("file.txt".getBytes(StandardCharsets.US_ASCII), 0, tar, 0, 8);
    Arrays.fill(tar, 100, 512, (byte) 'Z'); // garbage where mode, size and checksum belong
    assertThrows(
        InvalidArchiveException.class,
        () -> ArchiveValidator.validate(new ByteArrayInputStream(Tarball.gzip(tar)), LIMITS));
  }

  @Test
  void extractsTheSameTreeAsSystemTar() throws Exception {
    Path archive =
        Tarball.builder()
            .dir("./")
            .file("index.html", "<h1>hi</h1>")
            .dir("bin")
            .file("bin/run.sh", "#!/bin/sh\necho run\n".getBytes(StandardCharsets.UTF_8), 0755)
            .file("deep/er/file.txt", "implicit parents")
            .symlink("current.html", "index.html")
            .symlink("deep/up", "../bin")
            .hardlink("copy.html", "index.html")
            .randomFile("data.bin", 300_000, 42)
            // Together more than the inflater's queue holds (8 x 256 KiB), so its chunks are
            // reused.
            .randomFile("large/a.bin", 3_100_001, 7)
            .randomFile("large/b.bin", 1_700_003, 8)
            .writeTo(tmp.resolve("ok.tar.gz"));
    Path ours = Files.createDirectory(tmp.resolve("ours"));
    ArchiveSummary summary = ArchiveExtractor.extract(archive, ours, LIMITS, () -> false);
    Path theirs = Files.createDirectory(tmp.resolve("theirs"));
    Process tar =
        new ProcessBuilder("tar", "xzf", archive.toString(), "-C", theirs.toString())
            .redirectErrorStream(true)
            .start();
    assertEquals(
        0, tar.waitFor(), new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8));

    assertEquals(FileTrees.describe(theirs), FileTrees.describe(ours));
    assertEquals(
        "rwxr-xr-x",
        PosixFilePermissions.toString(Files.getPosixFilePermissions(ours.resolve("bin/run.sh"))));
    assertEquals(
        Files.getAttribute(ours.resolve("index.html"), "unix:ino"),
        Files.getAttribute(ours.resolve("copy.html"), "unix:ino"),
        "a hard link, not a copy");
    assertEquals(11, summary.entries());
  }

  @Test
  void installedModesAreNeverWorldWritableSetIdOrSticky() throws IOException {
    byte[] script = "#!/bin/sh\n".getBytes(StandardCharsets.UTF_8);
    Path archive =
        Tarball.builder()
            .file("setuid-tool", script, 04777)
            .file("setgid-tool", script, 02755)
            .file("shared.txt", script, 0666)
            .file("private.txt", script, 0600)
            .dir("scratch", 01777)
            .dir("group", 02775)
            .writeTo(tmp.resolve("modes.tar.gz"));
    Path root = Files.createDirectory(tmp.resolve("root"));
    ArchiveExtractor.extract(archive, root, LIMITS, () -> false);
    assertEquals(0775, mode(root.resolve("setuid-tool")));
    assertEquals(0755, mode(root.resolve("setgid-tool")));
    assertEquals(0664, mode(root.resolve("shared.txt")));
    assertEquals(0600, mode(root.resolve("private.txt")));
    assertEquals(0775, mode(root.resolve("scratch")));
    assertEquals(0775, mode(root.resolve("group")));
  }

  /** Every mode bit, set-id and sticky included. */
  private static int mode(Path p) throws IOException {
    return (Integer) Files.getAttribute(p, "unix:mode") & 07777;
  }

  @Test
  void stopsWhenCancelled() throws IOException {
    Path archive = manyFiles(50).writeTo(tmp.resolve("many.tar.gz"));
    Path root = Files.createDirectory(tmp.resolve("root"));
    assertThrows(
        java.util.concurrent.CancellationException.class,
        () -> ArchiveExtractor.extract(archive, root, LIMITS, () -> true));
  }
}
