package dev.deployrt.archive;

/**
 * Limits a payload must stay within, checked both while it is uploaded and again while a node
 * extracts it.
 *
 * @param maxEntries most entries (files, directories, links) an archive may hold
 * @param maxExpandedBytes most bytes its regular files may add up to once extracted
 * @param maxPathLength longest entry path, in bytes of UTF-8
 * @param maxCompressionRatio most bytes the gzip stream may inflate to per compressed byte, once it
 *     has inflated past {@link #RATIO_GRACE_BYTES} (small archives of padding compress far better
 *     than any real payload); 0 turns the check off
 */
public record ArchiveLimits(
    long maxEntries, long maxExpandedBytes, int maxPathLength, int maxCompressionRatio) {
  public static final int MAX_NAME_COMPONENT = 255;

  /** Inflated bytes allowed before the ratio is judged. */
  public static final long RATIO_GRACE_BYTES = 8L * 1024 * 1024;

  public ArchiveLimits {
    if (maxEntries <= 0 || maxExpandedBytes <= 0 || maxPathLength <= 0 || maxCompressionRatio < 0) {
      throw new IllegalArgumentException(
          "archive limits must be positive (compression ratio: 0 or more)");
    }
  }
}
