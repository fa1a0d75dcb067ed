package dev.deployrt.upload;

import dev.deployrt.errors.ErrorCode;
import java.io.IOException;

/**
 * Why an upload did not produce a stored payload: one of {@link ErrorCode#PAYLOAD_TOO_LARGE},
 * {@link ErrorCode#DIGEST_MISMATCH}, {@link ErrorCode#INVALID_ARCHIVE}, {@link
 * ErrorCode#UPLOAD_ABORTED}, {@link ErrorCode#UPLOAD_STALLED} or {@link ErrorCode#STORAGE_ERROR},
 * recorded on the deployment and answered to the client, with the limit or digests that explain it.
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

  public static UploadFailure storage(Throwable cause) {
    return new UploadFailure(
        ErrorCode.STORAGE_ERROR, "the node could not store the payload", null, null, null, cause);
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
