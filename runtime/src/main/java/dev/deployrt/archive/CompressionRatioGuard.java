package dev.deployrt.archive;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Refuses a gzip stream that inflates to more than {@code ratio} bytes per compressed byte (once
 * past {@link ArchiveLimits#RATIO_GRACE_BYTES}), while it inflates: the expanded-size limit already
 * stops a bomb from its tar headers, this also stops one hidden inside a single entry's content or
 * in the padding after the last entry, after a bounded amount of work.
 *
 * <p>Use: wrap the compressed source with {@link #compressed}, the inflated stream with {@link
 * #inflated}. Counts compressed bytes as the inflater reads them (it reads ahead by a buffer at
 * most, which only makes the check more lenient by that much).
 */
final class CompressionRatioGuard {
  private final int ratio;
  private long compressedBytes;
  private long inflatedBytes;

  CompressionRatioGuard(int ratio) {
    this.ratio = ratio;
  }

  InputStream compressed(InputStream raw) {
    return new FilterInputStream(raw) {
      @Override
      public int read() throws IOException {
        int b = in.read();
        if (b >= 0) {
          compressedBytes++;
        }
        return b;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n > 0) {
          compressedBytes += n;
        }
        return n;
      }
    };
  }

  InputStream inflated(InputStream gz) {
    if (ratio == 0) {
      return gz;
    }
    return new FilterInputStream(gz) {
      @Override
      public int read() throws IOException {
        int b = in.read();
        if (b >= 0) {
          counted(1);
        }
        return b;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        int n = in.read(b, off, len);
        if (n > 0) {
          counted(n);
        }
        return n;
      }
    };
  }

  private void counted(int n) throws InvalidArchiveException {
    inflatedBytes += n;
    if (inflatedBytes > ArchiveLimits.RATIO_GRACE_BYTES
        && inflatedBytes / ratio > compressedBytes) {
      throw new InvalidArchiveException(
          "archive inflates more than "
              + ratio
              + ":1 (compression-ratio limit; "
              + compressedBytes
              + " compressed bytes gave "
              + inflatedBytes
              + ")");
    }
  }
}
