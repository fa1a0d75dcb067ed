package dev.deployrt.errors;

import java.util.List;

/**
 * Every error code the node answers with or records (the API contract's error table and failure
 * codes), with the HTTP status it answers with when a request fails for that reason.
 *
 * <p>The name is the wire form: it is what clients see in {@code code} and what the journal stores
 * in a deployment's or node's {@code error.code}, so a constant is never renamed. Codes a node
 * records while applying a release ({@link #FETCH_FAILED} … {@link #SUPERSEDED}) are never a
 * request's answer; their status is 500 only so that every constant has one.
 */
public enum ErrorCode {
  INVALID_REQUEST(400),
  DIGEST_MISMATCH(400),
  UNAUTHORIZED(401),
  FORBIDDEN(403),
  NOT_FOUND(404),
  PAYLOAD_PRUNED(404),
  /** No byte arrived for {@code deploy.upload.stall-timeout}. */
  UPLOAD_STALLED(408),
  CONFLICT(409),
  PAYLOAD_TOO_LARGE(413),
  UNSUPPORTED_MEDIA_TYPE(415),
  INVALID_ARCHIVE(422),
  TOO_MANY_REQUESTS(429),
  INTERNAL(500),
  UNAVAILABLE(503),
  /** Storing the payload would leave less than {@code deploy.storage.min-free-bytes} free. */
  INSUFFICIENT_STORAGE(507),
  /**
   * The client went away before the body ended (recorded; the client no longer reads an answer).
   */
  UPLOAD_ABORTED(400),
  /** The node's disk refused a write, in any phase. */
  STORAGE_ERROR(500),
  FETCH_FAILED(500),
  EXTRACT_FAILED(500),
  /** The node's check hook exited non-zero or timed out. */
  CHECK_FAILED(500),
  /** The switch failed, or the node's activate hook exited non-zero or timed out after it. */
  ACTIVATE_FAILED(500),
  /** The node's health hook failed during the health window after its switch. */
  HEALTH_FAILED(500),
  /** A failure while applying that fits no phase (a bug, not the payload or the disk). */
  APPLY_FAILED(500),
  NODE_TIMEOUT(500),
  SUPERSEDED(500);

  private final int httpStatus;

  ErrorCode(int httpStatus) {
    this.httpStatus = httpStatus;
  }

  public int httpStatus() {
    return httpStatus;
  }

  /**
   * The code for a status that Pekko HTTP chose itself when it rejected a request (an unknown path,
   * a wrong method, missing credentials, a body over the entity limit): one of the codes those
   * rejections mean, else {@link #INVALID_REQUEST} for a 4xx and {@link #INTERNAL} for a 5xx.
   */
  public static ErrorCode forRejection(int status) {
    for (ErrorCode code :
        List.of(
            UNAUTHORIZED,
            FORBIDDEN,
            NOT_FOUND,
            PAYLOAD_TOO_LARGE,
            UNSUPPORTED_MEDIA_TYPE,
            UNAVAILABLE)) {
      if (code.httpStatus == status) {
        return code;
      }
    }
    return status >= 500 ? INTERNAL : INVALID_REQUEST;
  }
}
