package dev.deployrt.archive;

import java.io.IOException;
import java.io.InputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.archivers.tar.TarUtils;

/**
 * A tar reader that refuses oversized metadata from its header alone, before reading any of it.
 *
 * <p>Commons Compress reads a GNU long name or link ({@code L}/{@code K}) and a PAX extended header
 * ({@code x}/{@code g}) whole into memory before it returns the entry they describe, and follows a
 * chain of them by recursion. So a header that declares a 200 MB name would be buffered whole, and
 * a long chain would exhaust the stack. This reader checks each header record as it is read: a long
 * name or link over {@link ArchiveLimits#maxPathLength()}, a PAX header over {@link
 * #maxExtendedHeaderBytes}, global PAX headers adding up to more than that, or more than {@link
 * #MAX_CHAINED_HEADERS} such headers in a row are an {@link InvalidArchiveException} at once, with
 * nothing of their content read. Memory per archive stays bounded by these limits.
 */
final class BoundedTarInputStream extends TarArchiveInputStream {
  /**
   * Metadata headers allowed before the entry they describe (a GNU name, a link, a PAX header and
   * slack).
   */
  static final int MAX_CHAINED_HEADERS = 8;

  /**
   * Room in a PAX header for keys other than path and linkpath (times, owners, extended
   * attributes).
   */
  private static final int PAX_HEADER_ALLOWANCE = 64 * 1024;

  private static final int TYPE_FLAG_OFFSET = 156;
  private static final int SIZE_OFFSET = 124;
  private static final int SIZE_LENGTH = 12;

  private final int maxPathLength;
  private final long maxExtendedHeaderBytes;
  private int chained;
  private long globalHeaderBytes;

  BoundedTarInputStream(InputStream in, ArchiveLimits limits) {
    super(in);
    this.maxPathLength = limits.maxPathLength();
    this.maxExtendedHeaderBytes = PAX_HEADER_ALLOWANCE + 2L * limits.maxPathLength();
  }

  /** Most bytes one PAX header (and all global ones together) may declare. */
  long maxExtendedHeaderBytes() {
    return maxExtendedHeaderBytes;
  }

  @Override
  protected byte[] readRecord() throws IOException {
    byte[] record = super.readRecord();
    if (record != null) {
      checkHeader(record);
    }
    return record;
  }

  private void checkHeader(byte[] record) throws InvalidArchiveException {
    byte type = record[TYPE_FLAG_OFFSET];
    boolean longName =
        type == TarConstants.LF_GNUTYPE_LONGNAME || type == TarConstants.LF_GNUTYPE_LONGLINK;
    boolean pax =
        type == TarConstants.LF_PAX_EXTENDED_HEADER_LC
            || type == TarConstants.LF_PAX_EXTENDED_HEADER_UC;
    boolean global = type == TarConstants.LF_PAX_GLOBAL_EXTENDED_HEADER;
    if (!longName && !pax && !global) {
      chained = 0;
      return;
    }
    if (++chained > MAX_CHAINED_HEADERS) {
      throw new InvalidArchiveException(
          "more than " + MAX_CHAINED_HEADERS + " extended headers in a row");
    }
    long size;
    try {
      size = TarUtils.parseOctalOrBinary(record, SIZE_OFFSET, SIZE_LENGTH);
    } catch (IllegalArgumentException e) {
      throw new InvalidArchiveException("tar header is corrupt: " + e.getMessage());
    }
    if (longName && size > maxPathLength + 1L) {
      throw new InvalidArchiveException(
          "a GNU long "
              + (type == TarConstants.LF_GNUTYPE_LONGNAME ? "name" : "link")
              + " of "
              + size
              + " bytes is over the path limit of "
              + maxPathLength
              + " bytes");
    }
    if ((pax || global) && size > maxExtendedHeaderBytes) {
      throw new InvalidArchiveException(
          "a PAX header of "
              + size
              + " bytes is over the limit of "
              + maxExtendedHeaderBytes
              + " bytes");
    }
    if (global && (globalHeaderBytes += size) > maxExtendedHeaderBytes) {
      throw new InvalidArchiveException(
          "global PAX headers add up to more than " + maxExtendedHeaderBytes + " bytes");
    }
  }
}
