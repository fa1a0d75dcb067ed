package dev.deployrt.upload;

import java.io.IOException;

/**
 * Why an upload did not produce a stored payload. {@code code} is the API error code recorded on the
 * deployment and returned to the client; {@code httpStatus} the status the API answers with.
 */
public final class UploadFailure extends IOException {
  public enum Reason {
    PAYLOAD_TOO_LARGE(413),
    DIGEST_MISMATCH(400),
    INVALID_ARCHIVE(422),
    /** The client went away (closed the connection before the body ended). */
    UPLOAD_ABORTED(400),
    /** No byte arrived for {@code deploy.upload.stall-timeout}. */
    UPLOAD_STALLED(408),
    /** The node could not write or sync the bytes. */
    STORAGE_ERROR(500);

    public final int httpStatus;

    Reason(int httpStatus) {
      this.httpStatus = httpStatus;
    }
  }

  private final Reason reason;
  private final Long limit;
  private final String expected;
  private final String actual;

  private UploadFailure(Reason reason, String message, Long limit, String expected, String actual, Throwable cause) {
    super(message, cause);
    this.reason = reason;
    this.limit = limit;
    this.expected = expected;
    this.actual = actual;
  }

  public static UploadFailure tooLarge(long limit) {
    return new UploadFailure(Reason.PAYLOAD_TOO_LARGE,
        "payload is larger than the limit of " + limit + " bytes", limit, null, null, null);
  }

  public static UploadFailure digestMismatch(String expected, String actual) {
    return new UploadFailure(Reason.DIGEST_MISMATCH,
        "declared sha256 does not match the bytes received", null, expected, actual, null);
  }

  public static UploadFailure invalidArchive(String message, Throwable cause) {
    return new UploadFailure(Reason.INVALID_ARCHIVE, message, null, null, null, cause);
  }

  public static UploadFailure aborted(String message, Throwable cause) {
    return new UploadFailure(Reason.UPLOAD_ABORTED, message, null, null, null, cause);
  }

  public static UploadFailure stalled(java.time.Duration stallTimeout, Throwable cause) {
    return new UploadFailure(Reason.UPLOAD_STALLED, "no bytes received for " + stallTimeout.toSeconds()
        + " s (deploy.upload.stall-timeout): upload abandoned", null, null, null, cause);
  }

  public static UploadFailure storage(Throwable cause) {
    return new UploadFailure(Reason.STORAGE_ERROR, "the node could not store the payload", null, null, null, cause);
  }

  public Reason reason() {
    return reason;
  }

  public String code() {
    return reason.name();
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
