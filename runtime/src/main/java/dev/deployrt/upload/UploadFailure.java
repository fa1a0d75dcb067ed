package dev.deployrt.upload;

import dev.deployrt.async.Failures;
import dev.deployrt.errors.ErrorCode;
import java.io.IOException;

/**
 * Why an upload did not produce a stored payload: one of {@link ErrorCode#PAYLOAD_TOO_LARGE},
 * {@link ErrorCode#DIGEST_MISMATCH}, {@link ErrorCode#INVALID_ARCHIVE}, {@link
 * ErrorCode#UPLOAD_ABORTED}, {@link ErrorCode#UPLOAD_STALLED}, {@link
 * ErrorCode#INSUFFICIENT_STORAGE} or {@link ErrorCode#STORAGE_ERROR}, recorded on the deployment
 * and answered to the client, with the limit or digests that explain it.
 */
public final class UploadFailure extends IOException {
  private final ErrorCode code;
  private final Long limit;
  private final String expected;
  private final String actual;

  private UploadFailure(
      ErrorCode code, String message, Long limit, String expected, String actual, Throwable cause) {
    super(message, cause);
    this.code = code;
    this.limit = limit;
    this.expected = expected;
    this.actual = actual;
  }

  public static UploadFailure tooLarge(long limit) {
    return new UploadFailure(
        ErrorCode.PAYLOAD_TOO_LARGE,
        "payload is larger than the limit of " + limit + " bytes",
        limit,
        null,
        null,
        null);
  }

  public static UploadFailure digestMismatch(String expected, String actual) {
    return new UploadFailure(
        ErrorCode.DIGEST_MISMATCH,
        "declared sha256 does not match the bytes received",
        null,
        expected,
        actual,
        null);
  }

  public static UploadFailure invalidArchive(String message, Throwable cause) {
    return new UploadFailure(ErrorCode.INVALID_ARCHIVE, message, null, null, null, cause);
  }

  public static UploadFailure aborted(String message, Throwable cause) {
    return new UploadFailure(ErrorCode.UPLOAD_ABORTED, message, null, null, null, cause);
  }

  public static UploadFailure stalled(java.time.Duration stallTimeout, Throwable cause) {
    return new UploadFailure(
        ErrorCode.UPLOAD_STALLED,
        "no bytes received for "
            + stallTimeout.toSeconds()
            + " s (deploy.upload.stall-timeout): upload abandoned",
        null,
        null,
        null,
        cause);
  }

  /**
   * The disk refused a write: {@code INSUFFICIENT_STORAGE} if it was full (no space left on the
   * device), else {@code STORAGE_ERROR}.
   */
  public static UploadFailure storage(Throwable cause) {
    if (Failures.anyCause(cause, UploadFailure::isDiskFull)) {
      return new UploadFailure(
          ErrorCode.INSUFFICIENT_STORAGE,
          "the node's disk is full: the payload could not be stored",
          null,
          null,
          null,
          cause);
    }
    return new UploadFailure(
        ErrorCode.STORAGE_ERROR, "the node could not store the payload", null, null, null, cause);
  }

  /**
   * Storing {@code bytes} more would leave less than {@code minFree} of the {@code usable} bytes
   * free.
   */
  public static UploadFailure insufficientStorage(long bytes, long usable, long minFree) {
    return new UploadFailure(
        ErrorCode.INSUFFICIENT_STORAGE,
        "not enough free space on the node to store "
            + bytes
            + " bytes: "
            + usable
            + " bytes free, and "
            + minFree
            + " must stay free (deploy.storage.min-free-bytes)",
        minFree,
        null,
        null,
        null);
  }

  /** Whether {@code t} says the device has no space left (ENOSPC, or a quota: EDQUOT). */
  private static boolean isDiskFull(Throwable t) {
    String m = t.getMessage();
    return t instanceof IOException
        && m != null
        && (m.contains("No space left on device") || m.contains("Disk quota exceeded"));
  }

  public ErrorCode code() {
    return code;
  }

  public Long limit() {
    return limit;
  }

  public String expected() {
    return expected;
  }

  public String actual() {
    return actual;
  }
}
