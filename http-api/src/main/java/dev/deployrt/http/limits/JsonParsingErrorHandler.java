package dev.deployrt.http.limits;

import dev.deployrt.errors.ApiException;
import dev.deployrt.errors.ErrorCode;
import dev.deployrt.http.ApiJson;
import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;

/**
 * Answers requests Pekko HTTP refuses while parsing them, before any route runs (a URI, header or
 * header count over {@code pekko.http.server.parsing}'s limits, a malformed request line), with the
 * API's JSON error body instead of plain text: the status Pekko chose (400, 414, 431, …), code
 * {@code INVALID_REQUEST} ({@code PAYLOAD_TOO_LARGE} for 413). Configured as {@code
 * pekko.http.server.parsing.error-handler}.
 */
public final class JsonParsingErrorHandler extends ParsingErrorHandler {
  @Override
  public HttpResponse handle(
      StatusCode status, ErrorInfo info, LoggingAdapter log, ServerSettings settings) {
    int code = status.intValue();
    String message = info.summary().isEmpty() ? status.reason() : info.summary();
    log.debug("refused an unparseable request: {} ({})", message, info.detail());
    ApiException error =
        new ApiException(
            code == 413 ? ErrorCode.PAYLOAD_TOO_LARGE : ErrorCode.INVALID_REQUEST,
            code,
            "the request could not be read: " + message);
    return HttpResponse.create().withStatus(code).withEntity(ApiJson.entity(ApiJson.error(error)));
  }
}
