package dev.deployrt.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/**
 * Builds {@code .tar.gz} payloads for tests, including hostile ones (traversal, escaping links,
 * devices, fifos, duplicates). Entries are written exactly as given: nothing is normalised, so a
 * test can say precisely which bytes a client sends.
 */
public final class Tarball {

  private interface EntryWriter {
    void write(TarArchiveOutputStream tar) throws IOException;
  }

  private final List<EntryWriter> entries = new ArrayList<>();

  private Tarball() {}

  public static Tarball builder() {
    return new Tarball();
  }

  public Tarball file(String name, String content) {
    return file(name, content.getBytes(StandardCharsets.UTF_8), 0644);
  }

  public Tarball file(String name, byte[] content, int mode) {
    entries.add(
        tar -> {
          TarArchiveEntry e = new TarArchiveEntry(name, true);
          e.setSize(content.length);
          e.setMode(mode);
          tar.putArchiveEntry(e);
          tar.write(content);
          tar.closeArchiveEntry();
        });
    return this;
  }

  /** A file of {@code size} pseudo-random bytes, streamed (never held whole in memory). */
  public Tarball randomFile(String name, long size, long seed) {
    entries.add(
        tar -> {
          TarArchiveEntry e = new TarArchiveEntry(name, true);
          e.setSize(size);
          tar.putArchiveEntry(e);
          Random random = new Random(seed);
          byte[] buf = new byte[64 * 1024];
          long left = size;
          while (left > 0) {
            random.nextBytes(buf);
            int n = (int) Math.min(buf.length, left);
            tar.write(buf, 0, n);
            left -= n;
          }
          tar.closeArchiveEntry();
        });
    return this;
  }

  /** A file whose header declares {@code size} bytes of zeros: compresses to almost nothing. */
  public Tarball zeroFile(String name, long size) {
    entries.add(
        tar -> {
          TarArchiveEntry e = new TarArchiveEntry(name, true);
          e.setSize(size);
          tar.putArchiveEntry(e);
          byte[] buf = new byte[64 * 1024];
          long left = size;
          while (left > 0) {
            int n = (int) Math.min(buf.length, left);
            tar.write(buf, 0, n);
            left -= n;
          }
          tar.closeArchiveEntry();
        });
    return this;
  }

  public Tarball dir(String name) {
    return dir(name, 0755);
  }

  /**
   * A directory entry with permission bits {@code mode} (e.g. 0700, or 01777 with the sticky bit).
   */
  public Tarball dir(String name, int mode) {
    entries.add(
        tar -> {
          TarArchiveEntry e = new TarArchiveEntry(name.endsWith("/") ? name : name + "/", true);
          e.setMode(040000 | mode);
          tar.putArchiveEntry(e);
          tar.closeArchiveEntry();
        });
    return this;
  }

  /**
   * A GNU long-name entry ({@code ././@LongLink}, type {@code L}) holding a name of {@code
   * nameBytes} letters, for the file {@code file} that follows it (as GNU tar writes a name over
   * 100 bytes).
   */
  public Tarball gnuLongName(int nameBytes, String file) {
    return metadata(TarConstants.LF_GNUTYPE_LONGNAME, "a".repeat(nameBytes) + "\0", file);
  }

  /**
   * A PAX extended header (type {@code x}) of about {@code bytes} bytes (one comment record), then
   * {@code file}.
   */
  public Tarball paxHeader(int bytes, String file) {
    String body = " comment=" + "c".repeat(Math.max(0, bytes - 20)) + "\n";
    int length = body.length() + String.valueOf(body.length()).length();
    length += String.valueOf(length).length() - String.valueOf(body.length()).length();
    return metadata(TarConstants.LF_PAX_EXTENDED_HEADER_LC, length + body, file);
  }

  private Tarball metadata(byte type, String content, String file) {
    entries.add(
        tar -> {
          byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
          TarArchiveEntry meta = new TarArchiveEntry("././@LongLink", type, true);
          meta.setSize(bytes.length);
          tar.putArchiveEntry(meta);
          tar.write(bytes);
          tar.closeArchiveEntry();
        });
    return file(file, "after the header");
  }

  public Tarball symlink(String name, String target) {
    return link(name, target, TarConstants.LF_SYMLINK);
  }

  public Tarball hardlink(String name, String target) {
    return link(name, target, TarConstants.LF_LINK);
  }

  private Tarball link(String name, String target, byte type) {
    entries.add(
        tar -> {
          TarArchiveEntry e = new TarArchiveEntry(name, type, true);
          e.setLinkName(target);
          tar.putArchiveEntry(e);
          tar.closeArchiveEntry();
        });
    return this;
  }

  public Tarball fifo(String name) {
    return special(name, TarConstants.LF_FIFO);
  }

  public Tarball charDevice(String name) {
    return special(name, TarConstants.LF_CHR);
  }

  public Tarball blockDevice(String name) {
    return special(name, TarConstants.LF_BLK);
  }

  private Tarball special(String name, byte type) {
    entries.add(
        tar -> {
          TarArchiveEntry e = new TarArchiveEntry(name, type, true);
          tar.putArchiveEntry(e);
          tar.closeArchiveEntry();
        });
    return this;
  }

  /** The tar itself, not compressed (to corrupt it before compressing). */
  public byte[] tarBytes() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new NonClosing(out))) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      for (EntryWriter w : entries) {
        w.write(tar);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** Writes the gzip'd tar to {@code out} (not closed). */
  public void writeTo(OutputStream out) {
    try {
      GZIPOutputStream gz = new GZIPOutputStream(new NonClosing(out), 64 * 1024);
      try (TarArchiveOutputStream tar = new TarArchiveOutputStream(gz, 64 * 1024)) {
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
        for (EntryWriter w : entries) {
          w.write(tar);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public byte[] toBytes() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    writeTo(out);
    return out.toByteArray();
  }

  public Path writeTo(Path file) {
    try (OutputStream out = Files.newOutputStream(file)) {
      writeTo(out);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Gzip of arbitrary bytes: "a gzip'd something that is not a tar". */
  public static byte[] gzip(byte[] raw) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(raw);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static final class NonClosing extends java.io.FilterOutputStream {
    NonClosing(OutputStream out) {
      super(out);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      out.write(b, off, len);
    }

    @Override
    public void close() throws IOException {
      flush();
    }
  }
}
