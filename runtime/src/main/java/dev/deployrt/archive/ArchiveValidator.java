package dev.deployrt.archive;

import dev.deployrt.async.Failures;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Checks, in one streaming pass, that bytes are a gzip'd tar whose entries obey {@link EntryRules}.
 * Nothing is written anywhere, unless the caller asks for the entries to be extracted in the same
 * pass ({@link PreExtraction}). It reads the source to its end (also past the tar's end-of-archive
 * marker, so the gzip trailer's CRC and length are verified), so that a caller streaming the same
 * bytes elsewhere sees them all consumed.
 *
 * <p>A failure of the source itself (the client went away, the size limit tripped) is rethrown as
 * it is, never disguised as {@link InvalidArchiveException}.
 */
public final class ArchiveValidator {
  static final int BUFFER = 64 * 1024;

  private ArchiveValidator() {}

  public static ArchiveSummary validate(InputStream source, ArchiveLimits limits)
      throws IOException {
    return validate(source, limits, null);
  }

  /**
   * As {@link #validate(InputStream, ArchiveLimits)}, also writing each accepted entry into {@code
   * extraction} (if not null) in the same pass.
   */
  public static ArchiveSummary validate(
      InputStream source, ArchiveLimits limits, PreExtraction extraction) throws IOException {
    SourceGuard guarded = new SourceGuard(source);
    EntryRules rules = new EntryRules(limits);
    try {
      InputStream gz = openGzip(guarded, limits.maxCompressionRatio());
      TarArchiveInputStream tar = new BoundedTarInputStream(gz, limits);
      TarArchiveEntry entry;
      byte[] buf = new byte[256 * 1024];
      while ((entry = nextEntry(tar)) != null) {
        SafeEntry safe = rules.accept(entry);
        if (safe != null && extraction != null) {
          extraction.write(safe, tar);
        }
        // Read the (rest of the) content in large blocks: letting the tar stream skip it goes
        // through small reads.
        while (tar.read(buf) > 0) {
          // discarded: only the headers matter here
        }
      }
      rules.finish();
      drain(gz);
      drain(guarded);
      if (extraction != null) {
        extraction.finish();
      }
      return new ArchiveSummary(rules.entries(), rules.expandedBytes());
    } catch (SourceFailure e) {
      throw e.getCause();
    } catch (InvalidArchiveException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      IOException fromSource = SourceFailure.find(e);
      if (fromSource != null) {
        throw fromSource;
      }
      throw asInvalid(e);
    }
  }

  /**
   * Opens a gzip stream, mapping "not gzip at all" to a clear message, and refusing it mid-stream
   * if it inflates past {@code maxRatio} ({@link CompressionRatioGuard}).
   */
  static InputStream openGzip(InputStream raw, int maxRatio) throws IOException {
    CompressionRatioGuard guard = new CompressionRatioGuard(maxRatio);
    try {
      return new BufferedInputStream(
          guard.inflated(new GZIPInputStream(guard.compressed(raw), BUFFER)), BUFFER);
    } catch (ZipException e) {
      throw new InvalidArchiveException("payload is not gzip-compressed (expected a .tar.gz)");
    } catch (EOFException e) {
      throw new InvalidArchiveException("payload is empty or shorter than a gzip header");
    }
  }

  static TarArchiveEntry nextEntry(TarArchiveInputStream tar) throws IOException {
    try {
      return tar.getNextEntry();
    } catch (IllegalArgumentException e) {
      throw new InvalidArchiveException("tar header is corrupt: " + e.getMessage());
    }
  }

  static InvalidArchiveException asInvalid(Exception e) {
    if (e instanceof EOFException || String.valueOf(e.getMessage()).contains("Unexpected end")) {
      return new InvalidArchiveException(
          "payload is truncated: the gzip or tar stream ends early", e);
    }
    return new InvalidArchiveException(
        "payload is not a valid .tar.gz: " + EntryRules.printable(e.getMessage()), e);
  }

  private static void drain(InputStream in) throws IOException {
    byte[] buf = new byte[BUFFER];
    while (in.read(buf) >= 0) {
      // reading to the end verifies the gzip trailer
    }
  }

  /** Marks exceptions thrown by the underlying source so they are not mistaken for bad archives. */
  static final class SourceGuard extends FilterInputStream {
    SourceGuard(InputStream in) {
      super(in);
    }

    @Override
    public int read() throws IOException {
      try {
        return super.read();
      } catch (IOException e) {
        throw new SourceFailure(e);
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        return in.read(b, off, len);
      } catch (IOException e) {
        throw new SourceFailure(e);
      }
    }
  }

  static final class SourceFailure extends IOException {
    SourceFailure(IOException cause) {
      super(cause);
    }

    @Override
    public synchronized IOException getCause() {
      return (IOException) super.getCause();
    }

    static IOException find(Throwable t) {
      SourceFailure f = Failures.find(SourceFailure.class, t);
      return f == null ? null : f.getCause();
    }
  }
}
