package dev.deployrt.archive;

/**
 * Limits a payload must stay within, checked both while it is uploaded and again while a node
 * extracts it.
 *
 * @param maxEntries most entries (files, directories, links) an archive may hold
 * @param maxExpandedBytes most bytes its regular files may add up to once extracted
 * @param maxPathLength longest entry path, in bytes of UTF-8
 */
public record ArchiveLimits(long maxEntries, long maxExpandedBytes, int maxPathLength) {
  public static final int MAX_NAME_COMPONENT = 255;

  public ArchiveLimits {
    if (maxEntries <= 0 || maxExpandedBytes <= 0 || maxPathLength <= 0) {
      throw new IllegalArgumentException("archive limits must be positive");
    }
  }
}
