package dev.deployrt.errors;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An error the API answers with: {@code {"error": <sentence>, "code": <CODE>, ...extra}} and the
 * code's HTTP status (API.md, "Errors"). Thrown by a route, its futures or the deploy workflow it
 * drives; the operations API's one error mapper ({@code ApiErrors}) turns it into the response.
 */
public final class ApiException extends RuntimeException {
  /** What a client is told to wait before it retries a request the cluster could not take. */
  public static final int RETRY_AFTER_SECONDS = 5;

  private final int status;
  private final ErrorCode code;
  private final Map<String, Object> extra = new LinkedHashMap<>();

  public ApiException(ErrorCode code, String message) {
    this(code, code.httpStatus(), message);
  }

  /** An error whose status the HTTP layer chose (e.g. 405 or 431 with {@code INVALID_REQUEST}). */
  public ApiException(ErrorCode code, int status, String message) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
  }

  public static ApiException invalid(String message) {
    return new ApiException(ErrorCode.INVALID_REQUEST, message);
  }

  public static ApiException notFound(String message) {
    return new ApiException(ErrorCode.NOT_FOUND, message);
  }

  public static ApiException unavailable(String message) {
    return new ApiException(ErrorCode.UNAVAILABLE, message);
  }

  public ApiException with(String field, Object value) {
    if (value != null) {
      extra.put(field, value);
    }
    return this;
  }

  public int status() {
    return status;
  }

  public ErrorCode code() {
    return code;
  }

  public Map<String, Object> extra() {
    return extra;
  }
}
