package dev.deployrt.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deployrt.testkit.Tarball;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.Deflater;
import java.util.zip.DeflaterInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Metadata headers (GNU long names and links, PAX headers) are judged by the size they declare,
 * before any of their content is read: a client cannot make a node buffer a 1 GiB "name".
 */
class BoundedTarInputStreamTest {
  private static final ArchiveLimits LIMITS = new ArchiveLimits(1000, 10 * 1024 * 1024, 4096, 0);
  private static final long ONE_GIB = 1L << 30;

  /**
   * More than the readers' own buffers hold (the parallel gunzip's queue is 2 MiB), far less than
   * the header.
   */
  private static final long READ_AHEAD = 4L * 1024 * 1024;

  @TempDir Path tmp;

  /**
   * A .tar.gz made on the fly: one metadata header of {@code type} declaring {@code size} bytes,
   * then that many bytes of 'a', compressed as they are read. {@code produced} counts the content
   * bytes the reader pulled.
   */
  private static InputStream hugeHeader(byte type, long size, AtomicLong produced)
      throws IOException {
    TarArchiveEntry entry = new TarArchiveEntry("././@LongLink", type);
    entry.setSize(size);
    byte[] header = new byte[512];
    entry.writeEntryHeader(header);
    // Letters from a fixed pseudo-random sequence: they compress about 1.6:1, so the reader's
    // buffers of compressed bytes hold little of the content, and counting what was pulled shows
    // what was read.
    InputStream content =
        new InputStream() {
          private long state = 0x9E3779B97F4A7C15L;

          @Override
          public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0];
          }

          @Override
          public int read(byte[] b, int off, int len) {
            long left = size - produced.get();
            if (left <= 0) {
              return -1;
            }
            int n = (int) Math.min(len, left);
            for (int i = off; i < off + n; i++) {
              state ^= state << 13;
              state ^= state >>> 7;
              state ^= state << 17;
              b[i] = (byte) ('a' + (int) ((state >>> 33) % 26));
            }
            produced.addAndGet(n);
            return n;
          }
        };
    InputStream tar = new SequenceInputStream(new ByteArrayInputStream(header), content);
    byte[] gzipHeader = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff};
    return new SequenceInputStream(
        new ByteArrayInputStream(gzipHeader),
        new DeflaterInputStream(tar, new Deflater(Deflater.BEST_SPEED, true)));
  }

  @ParameterizedTest(name = "type {0}")
  @ValueSource(chars = {'L', 'K', 'x', 'g'})
  void aHugeMetadataHeaderIsRefusedFromItsDeclaredSizeWithoutReadingIt(char type) {
    AtomicLong produced = new AtomicLong();
    InvalidArchiveException e =
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
            Duration.ofSeconds(30),
            () ->
                assertThrows(
                    InvalidArchiveException.class,
                    () ->
                        ArchiveValidator.validate(
                            hugeHeader((byte) type, ONE_GIB, produced), LIMITS)));
    assertTrue(
        e.getMessage().contains(type == 'L' || type == 'K' ? "GNU long" : "PAX header"),
        e.getMessage());
    assertTrue(e.getMessage().contains(Long.toString(ONE_GIB)), e.getMessage());
    assertTrue(
        produced.get() < READ_AHEAD, "read " + produced.get() + " bytes of the header's content");
  }

  @Test
  void theExtractorRefusesAHugeLongNameTheSameWay() throws IOException {
    AtomicLong produced = new AtomicLong();
    Path root = Files.createDirectory(tmp.resolve("root"));
    InvalidArchiveException e =
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
            Duration.ofSeconds(30),
            () ->
                assertThrows(
                    InvalidArchiveException.class,
                    () ->
                        ArchiveExtractor.extract(
                            hugeHeader(TarConstants.LF_GNUTYPE_LONGNAME, ONE_GIB, produced),
                            root,
                            LIMITS,
                            () -> false)));
    assertTrue(e.getMessage().contains("over the path limit of 4096 bytes"), e.getMessage());
    assertTrue(produced.get() < READ_AHEAD, "read " + produced.get() + " bytes");
  }

  @Test
  void longNamesWithinTheLimitStillWork() throws IOException {
    String name = "d/".repeat(1000) + "f";
    byte[] bytes =
        Tarball.builder()
            .file(name, "deep")
            .symlink("l/" + "e".repeat(200), "../" + name)
            .toBytes();
    assertEquals(2, ArchiveValidator.validate(new ByteArrayInputStream(bytes), LIMITS).entries());
  }

  @Test
  void aChainOfMetadataHeadersIsRefused() throws IOException {
    ByteArrayOutputStream tar = new ByteArrayOutputStream();
    byte[] record = new byte[512];
    for (int i = 0; i < BoundedTarInputStream.MAX_CHAINED_HEADERS + 1; i++) {
      TarArchiveEntry entry =
          new TarArchiveEntry("././@LongLink", TarConstants.LF_GNUTYPE_LONGNAME);
      entry.setSize(2);
      entry.writeEntryHeader(record);
      tar.write(record);
      byte[] content = new byte[512];
      content[0] = 'n';
      tar.write(content);
    }
    tar.write(new byte[1024]);
    InvalidArchiveException e =
        assertThrows(
            InvalidArchiveException.class,
            () ->
                ArchiveValidator.validate(
                    new ByteArrayInputStream(Tarball.gzip(tar.toByteArray())), LIMITS));
    assertTrue(e.getMessage().contains("extended headers in a row"), e.getMessage());
  }

  @Test
  void globalPaxHeadersAddUpAgainstOneLimit() throws IOException {
    ByteArrayOutputStream tar = new ByteArrayOutputStream();
    long limit =
        new BoundedTarInputStream(InputStream.nullInputStream(), LIMITS).maxExtendedHeaderBytes();
    int each = 40 * 1024;
    String record = paxRecord("comment", "c".repeat(each - 64));
    for (int i = 0; i * (long) record.length() <= limit; i++) {
      TarArchiveEntry global =
          new TarArchiveEntry("pax_global_header", TarConstants.LF_PAX_GLOBAL_EXTENDED_HEADER);
      global.setSize(record.length());
      byte[] header = new byte[512];
      global.writeEntryHeader(header);
      tar.write(header);
      byte[] content =
          java.util.Arrays.copyOf(
              record.getBytes(java.nio.charset.StandardCharsets.US_ASCII),
              (record.length() + 511) / 512 * 512);
      tar.write(content);
      TarArchiveEntry file = new TarArchiveEntry("f" + i);
      file.writeEntryHeader(header);
      tar.write(header);
    }
    tar.write(new byte[1024]);
    InvalidArchiveException e =
        assertThrows(
            InvalidArchiveException.class,
            () ->
                ArchiveValidator.validate(
                    new ByteArrayInputStream(Tarball.gzip(tar.toByteArray())), LIMITS));
    assertTrue(e.getMessage().contains("global PAX headers add up"), e.getMessage());
  }

  /** One PAX record, "<length> <key>=<value>\n", whose length counts itself. */
  private static String paxRecord(String key, String value) {
    String body = " " + key + "=" + value + "\n";
    int length = body.length() + String.valueOf(body.length()).length();
    if (String.valueOf(length).length() != String.valueOf(body.length()).length()) {
      length++;
    }
    return length + body;
  }
}
