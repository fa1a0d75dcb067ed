package dev.deployrt.cli.pack;

import java.io.IOException;
import java.io.OutputStream;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * A gzip stream whose compression level can change between files: the JDK's {@link
 * GZIPOutputStream} (header, CRC-32 and trailer as the JDK writes them), with its deflater's level
 * set per file. Data that does not compress (already compressed archives, images, random bytes) is
 * stored instead of run through deflate, which on such data costs most of a pack's CPU and saves
 * nothing: {@link #isIncompressible} tells from a sample of a file's first bytes.
 */
final class AdaptiveGzip extends GZIPOutputStream {
  /** The sample's compressed size at which a file counts as incompressible (of its size). */
  private static final double STORE_ABOVE_RATIO = 0.97;

  private final int defaultLevel;
  private final Deflater probe = new Deflater(Deflater.BEST_SPEED, true);
  private final byte[] probeOut;
  private int level;

  AdaptiveGzip(OutputStream out, int bufferSize, int defaultLevel) throws IOException {
    super(out, bufferSize);
    this.defaultLevel = defaultLevel;
    this.level = Deflater.DEFAULT_COMPRESSION; // what GZIPOutputStream starts with
    this.probeOut = new byte[bufferSize + bufferSize / 8 + 64];
    useLevel(defaultLevel);
  }

  /** Compresses what follows at {@code stored ? 0 : the default level}. */
  void storeNext(boolean stored) {
    useLevel(stored ? Deflater.NO_COMPRESSION : defaultLevel);
  }

  private void useLevel(int next) {
    if (next != level) {
      def.setLevel(next); // applies from the next deflate call, after what is pending
      level = next;
    }
  }

  /**
   * Whether {@code sample} (a file's first bytes) barely shrinks at the fastest level: then the
   * file is stored.
   */
  boolean isIncompressible(byte[] sample, int length) {
    if (defaultLevel == Deflater.NO_COMPRESSION) {
      return false; // stored anyway
    }
    probe.reset();
    probe.setInput(sample, 0, length);
    probe.finish();
    long compressed = 0;
    while (!probe.finished()) {
      compressed += probe.deflate(probeOut);
    }
    return compressed > length * STORE_ABOVE_RATIO;
  }

  @Override
  public void close() throws IOException {
    try {
      super.close();
    } finally {
      probe.end();
    }
  }
}
