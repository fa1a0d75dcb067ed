package dev.deployrt.http;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An error the API answers with: {@code {"error": <sentence>, "code": <CODE>, ...extra}} and the
 * given HTTP status (API.md, "Errors"). Thrown anywhere in a route or its futures; mapped in one place.
 */
public final class ApiException extends RuntimeException {
  private final int status;
  private final String code;
  private final Map<String, Object> extra = new LinkedHashMap<>();

  public ApiException(int status, String code, String message) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
  }

  public static ApiException invalid(String message) {
    return new ApiException(400, "INVALID_REQUEST", message);
  }

  public static ApiException notFound(String message) {
    return new ApiException(404, "NOT_FOUND", message);
  }

  public static ApiException unavailable(String message) {
    return new ApiException(503, "UNAVAILABLE", message);
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

  public String code() {
    return code;
  }

  public Map<String, Object> extra() {
    return extra;
  }
}
