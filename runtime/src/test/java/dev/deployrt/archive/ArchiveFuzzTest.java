package dev.deployrt.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzzing of the archive rules, validator and extractor (Jazzer). Every input is
 * validated as an upload would be and extracted as a node would, into a root inside a sandbox that
 * also holds a canary file. Each run asserts:
 *
 * <ul>
 *   <li>the validator and the extractor agree (an upload accepted is an upload a node can extract);
 *   <li>failures are {@link InvalidArchiveException}s, nothing else (no crash, no runtime
 *       exception);
 *   <li>nothing is created beside the root, the canary is unchanged and has no new hard link (also
 *       after a failed extraction's root is deleted, as the caller does), and every symlink of an
 *       accepted archive that resolves stays inside the root.
 * </ul>
 *
 * <p>Without {@code JAZZER_FUZZ} these run as regression tests over their saved inputs (part of
 * every build); {@code bench/fuzz.sh} fuzzes them for a set time (README, "Fuzzing").
 */
class ArchiveFuzzTest {
  private static final ArchiveLimits LIMITS = new ArchiveLimits(64, 1024 * 1024, 4096, 200);
  private static final String[] NAMES = {
    "a",
    "b",
    "a/b",
    "a/b/c",
    ".",
    "..",
    "./a",
    "a/..",
    "../a",
    "/a",
    "/",
    "a//b",
    "s",
    "s/x",
    "d/",
    "C:x",
    "a\\b",
    "",
    "canary",
    "../canary",
    "x/../../canary"
  };
  private static final String[] TARGETS = {
    "a",
    "b",
    "..",
    "../..",
    ".",
    "s",
    "s/..",
    "a/../..",
    "/etc",
    "/",
    "../canary",
    "d/../../canary",
    "a/b",
    "x",
    "",
    "./s/../.."
  };
  private static final byte[] TYPES = {
    TarConstants.LF_NORMAL,
    TarConstants.LF_DIR,
    TarConstants.LF_SYMLINK,
    TarConstants.LF_LINK,
    TarConstants.LF_FIFO,
    TarConstants.LF_CHR,
    TarConstants.LF_BLK,
    TarConstants.LF_CONTIG,
    'x',
    'g',
    'S',
    'Z'
  };

  private static Path base;

  @BeforeAll
  static void createBase() throws IOException {
    base = Files.createTempDirectory("archive-fuzz");
  }

  @AfterAll
  static void deleteBase() {
    deleteTree(base);
  }

  /**
   * Archives assembled from entries of every kind with names and link targets that probe the rules.
   */
  @FuzzTest(maxDuration = "30s")
  void structuredArchives(FuzzedDataProvider data) throws IOException {
    byte[] tar = buildTar(data);
    if (tar != null) {
      check(gzip(tar));
    }
  }

  /**
   * Arbitrary bytes: gzip'd by the harness when the first byte is even (tar parsing), raw otherwise
   * (gzip parsing).
   */
  @FuzzTest(maxDuration = "30s")
  @DictionaryEntries({
    "ustar\u0000",
    "ustar  \u0000",
    "././@LongLink",
    "path=",
    "linkpath=",
    "size=",
    "GNU.sparse"
  })
  void arbitraryBytes(byte[] input) throws IOException {
    if (input.length == 0) {
      check(input);
      return;
    }
    byte[] rest = java.util.Arrays.copyOfRange(input, 1, input.length);
    check((input[0] & 1) == 0 ? gzip(rest) : rest);
  }

  private static void check(byte[] targz) throws IOException {
    try {
      checkIn(Files.createTempDirectory(base, "run"), targz);
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "\narchive:\n" + listing(targz), e);
    }
  }

  private static void checkIn(Path sandbox, byte[] targz) throws IOException {
    try {
      Path canary = Files.writeString(sandbox.resolve("canary"), "canary");
      Path root = Files.createDirectory(sandbox.resolve("root"));

      InvalidArchiveException validatorSaid = null;
      try {
        ArchiveValidator.validate(new ByteArrayInputStream(targz), LIMITS);
      } catch (InvalidArchiveException e) {
        validatorSaid = e;
      }
      InvalidArchiveException extractorSaid = null;
      try {
        ArchiveExtractor.extract(new ByteArrayInputStream(targz), root, LIMITS, () -> false);
      } catch (InvalidArchiveException e) {
        extractorSaid = e;
      }
      if ((validatorSaid == null) != (extractorSaid == null)) {
        fail(
            "validator and extractor disagree: validator "
                + describe(validatorSaid)
                + ", extractor "
                + describe(extractorSaid));
      }

      if (extractorSaid != null) {
        // The caller (ReleaseDirectory) deletes a failed extraction's root, without following
        // links; until then it may hold a symlink the final check refused: it must not reach
        // outside either.
        deleteTree(root);
        Files.createDirectory(root);
      }
      try (var listing = Files.list(sandbox)) {
        List<String> beside = listing.map(p -> p.getFileName().toString()).sorted().toList();
        assertEquals(
            List.of("canary", "root"), beside, "something was created beside the release root");
      }
      assertEquals("canary", Files.readString(canary), "the canary outside the root was changed");
      assertEquals(
          1,
          Files.getAttribute(canary, "unix:nlink"),
          "the canary outside the root gained a hard link");
      Path realRoot = root.toRealPath();
      for (Path p : walk(root)) {
        if (Files.isSymbolicLink(p) && Files.exists(p)) {
          assertTrue(
              p.toRealPath().startsWith(realRoot), "symlink " + p + " resolves outside the root");
        }
      }
    } finally {
      deleteTree(sandbox);
    }
  }

  /** The entries of an archive as the tar reader sees them, for failure messages. */
  private static String listing(byte[] targz) {
    StringBuilder out = new StringBuilder();
    try (TarArchiveInputStream tar =
        new TarArchiveInputStream(new GZIPInputStream(new ByteArrayInputStream(targz)))) {
      TarArchiveEntry e;
      while ((e = tar.getNextEntry()) != null) {
        out.append("  type '")
            .append((char) e.getLinkFlag())
            .append("' '")
            .append(e.getName())
            .append('\'');
        if (!e.getLinkName().isEmpty()) {
          out.append(" -> '").append(e.getLinkName()).append('\'');
        }
        out.append(" mode ")
            .append(Integer.toOctalString(e.getMode()))
            .append(" size ")
            .append(e.getSize())
            .append('\n');
      }
    } catch (IOException | RuntimeException e) {
      out.append("  (unreadable from here: ").append(e).append(")\n");
    }
    return out.toString();
  }

  private static String describe(InvalidArchiveException e) {
    return e == null ? "accepted" : "refused (" + e.getMessage() + ")";
  }

  private static byte[] buildTar(FuzzedDataProvider data) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
      int entries = data.consumeInt(0, 12);
      for (int i = 0; i < entries; i++) {
        byte type = data.pickValue(TYPES);
        String name = data.consumeBoolean() ? data.pickValue(NAMES) : data.consumeString(40);
        if (data.consumeBoolean()) {
          name = name + "/" + data.pickValue(NAMES);
        }
        TarArchiveEntry entry = new TarArchiveEntry(name, type, true);
        if (type == TarConstants.LF_SYMLINK || type == TarConstants.LF_LINK) {
          entry.setLinkName(
              data.consumeBoolean() ? data.pickValue(TARGETS) : data.consumeString(40));
        }
        entry.setMode(data.consumeInt(0, 07777));
        boolean hasContent =
            (type == TarConstants.LF_NORMAL || type == TarConstants.LF_CONTIG)
                && !entry.isDirectory();
        byte[] content = hasContent ? data.consumeBytes(data.consumeInt(0, 600)) : new byte[0];
        entry.setSize(content.length);
        tar.putArchiveEntry(entry);
        tar.write(content);
        tar.closeArchiveEntry();
      }
      tar.finish();
    } catch (IllegalArgumentException | IllegalStateException | IOException e) {
      return null; // an entry the tar writer itself refuses: the harness's problem, not the
      // extractor's
    }
    if (data.consumeBoolean()) {
      byte[] trailer = data.consumeRemainingAsBytes();
      out.write(trailer);
    }
    return out.toByteArray();
  }

  private static byte[] gzip(byte[] bytes) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(bytes);
    }
    return out.toByteArray();
  }

  private static List<Path> walk(Path root) throws IOException {
    List<Path> out = new ArrayList<>();
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
            out.add(file);
            return FileVisitResult.CONTINUE;
          }
        });
    return out;
  }

  private static void deleteTree(Path dir) {
    if (dir == null || !Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try {
      // Directories extracted read-only must become writable again before their contents can go.
      Files.walkFileTree(
          dir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
              d.toFile().setWritable(true);
              d.toFile().setExecutable(true);
              d.toFile().setReadable(true);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.delete(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
              Files.delete(d);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
