package dev.deployrt.cli.pack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DirectoryPackerTest {
  @TempDir Path dir;

  private static byte[] random(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static byte[] text(int size) {
    byte[] b = new byte[size];
    Random r = new Random(1);
    for (int i = 0; i < size; i++) {
      b[i] = (byte) ('a' + r.nextInt(4));
    }
    return b;
  }

  private long stored;

  private byte[] pack(int level) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    DirectoryPacker packer = DirectoryPacker.scan(dir, level, skipped -> {});
    packer.writeTo(out);
    stored = packer.storedFiles();
    return out.toByteArray();
  }

  /** Name to content of every file in a .tar.gz. */
  private static Map<String, byte[]> unpack(byte[] tgz) throws IOException {
    Map<String, byte[]> files = new HashMap<>();
    try (TarArchiveInputStream tar =
        new TarArchiveInputStream(new GZIPInputStream(new ByteArrayInputStream(tgz)))) {
      TarArchiveEntry e;
      while ((e = tar.getNextEntry()) != null) {
        if (e.isFile()) {
          files.put(e.getName(), tar.readAllBytes());
        }
      }
    }
    return files;
  }

  @Test
  void incompressibleFilesAreStoredAndTheRestCompressedInOneValidArchive() throws IOException {
    byte[] noise = random(3 * 1024 * 1024 + 17, 1);
    byte[] prose = text(2 * 1024 * 1024);
    byte[] small = random(1000, 2);
    Files.write(dir.resolve("a-noise.bin"), noise);
    Files.write(dir.resolve("b-prose.txt"), prose);
    Files.write(dir.resolve("c-small.bin"), small);

    byte[] tgz = pack(1);
    assertEquals(1, stored, "only the large incompressible file is stored");
    Map<String, byte[]> files = unpack(tgz);
    assertArrayEquals(noise, files.get("a-noise.bin"));
    assertArrayEquals(prose, files.get("b-prose.txt"));
    assertArrayEquals(small, files.get("c-small.bin"));
    // The noise is stored (a few bytes of framing per 64 KiB block), the prose still compressed
    // (4 letters: about a quarter of its size); a small file is not sampled, whatever it holds.
    long stored = noise.length + small.length;
    assertTrue(tgz.length < stored + prose.length / 3 + 64 * 1024, "size " + tgz.length);
    assertTrue(tgz.length > stored, "the noise cannot have shrunk: " + tgz.length);
  }

  @Test
  void levelZeroStoresEverythingAndNineStillDeflatesWhatCompresses() throws IOException {
    byte[] prose = text(1024 * 1024);
    Files.write(dir.resolve("prose.txt"), prose);
    byte[] levelZero = pack(0);
    byte[] smallest = pack(9);
    assertEquals(0, stored, "compressible: deflated at the level asked for");
    assertArrayEquals(prose, unpack(levelZero).get("prose.txt"));
    assertArrayEquals(prose, unpack(smallest).get("prose.txt"));
    assertTrue(levelZero.length > prose.length, "level 0 stores: " + levelZero.length);
    assertTrue(smallest.length < prose.length / 3, "level 9 deflates: " + smallest.length);
  }

  @Test
  void theSameDirectoryPacksToTheSameBytes() throws IOException {
    Files.write(dir.resolve("x.bin"), random(200_000, 3));
    Files.write(dir.resolve("y.txt"), text(200_000));
    assertEquals(Arrays.toString(sha(pack(1))), Arrays.toString(sha(pack(1))));
  }

  private static byte[] sha(byte[] b) {
    try {
      return java.security.MessageDigest.getInstance("SHA-256").digest(b);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
