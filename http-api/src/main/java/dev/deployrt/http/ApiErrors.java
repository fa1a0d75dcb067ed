package dev.deployrt.http;

import dev.deployrt.async.Failures;
import dev.deployrt.errors.ApiException;
import dev.deployrt.errors.ErrorCode;
import dev.deployrt.http.auth.Authentication;
import dev.deployrt.text.ClientText;
import dev.deployrt.upload.UploadFailure;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.HttpChallenge;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.model.headers.WWWAuthenticate;
import org.apache.pekko.http.javadsl.server.Directives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where a failure becomes the API's answer (API.md, "Errors"): a JSON body {@code
 * {"error", "code", ...}} with the code's status, {@code WWW-Authenticate} on 401 and {@code
 * Retry-After} when the error says when to retry. Never an empty body, never a stack trace: a
 * failure nobody expected is logged here and answered 500 {@code INTERNAL}.
 */
public final class ApiErrors {
  private static final Logger log = LoggerFactory.getLogger(ApiErrors.class);

  private ApiErrors() {}

  /**
   * The API error for a failure, wherever it came from: an {@link ApiException} as it is, an {@link
   * UploadFailure} with its code and figures, an ask that timed out as {@code UNAVAILABLE}, a body
   * Pekko HTTP could not parse as {@code INVALID_REQUEST}; anything else as {@code INTERNAL}.
   * Wrapped failures (completion, stream, parser) are unwrapped first.
   */
  public static ApiException from(Throwable e) {
    Throwable t = Failures.cause(e);
    if (t instanceof ApiException api) {
      return api;
    }
    UploadFailure f = Failures.find(UploadFailure.class, t);
    if (f != null) {
      // Also when it comes wrapped, e.g. by the multipart parser reading a body that stalled.
      return new ApiException(f.code(), f.getMessage())
          .with("limit", f.limit())
          .with("expected", f.expected())
          .with("actual", f.actual());
    }
    if (t instanceof TimeoutException) {
      return ApiException.unavailable("the cluster did not answer in time")
          .with("retry_after", ApiException.RETRY_AFTER_SECONDS);
    }
    if (fromBodyParsing(t)) {
      // The body's framing is broken (a multipart body cut off, a bad part header, a bad chunk):
      // the client's fault. (Pekko's multipart parser throws an internal ParsingException for bad
      // part headers, and an IllegalStateException caused by its NotEnoughDataException for a body
      // that ends inside a part's headers.)
      return ApiException.invalid(
          "malformed request body: " + ClientText.printable(String.valueOf(t.getMessage()), 100));
    }
    log.error("unexpected failure", t);
    return new ApiException(ErrorCode.INTERNAL, "internal error");
  }

  /** The response for an API error. */
  public static HttpResponse response(ApiException e) {
    HttpResponse response =
        HttpResponse.create().withStatus(e.status()).withEntity(ApiJson.entity(ApiJson.error(e)));
    if (e.status() == 401) {
      // The console's 401 does not offer Basic: a browser would show its own password prompt.
      response =
          response.addHeader(
              WWWAuthenticate.create(
                  e.extra().containsKey(Authentication.SIGN_IN_FIELD)
                      ? HttpChallenge.create("Session", Authentication.REALM)
                      : HttpChallenge.createBasic(Authentication.REALM)));
    }
    Object retry = e.extra().get("retry_after");
    if (retry != null) {
      response = response.addHeader(RawHeader.create("Retry-After", retry.toString()));
    }
    return response;
  }

  /** The route tree's handler of failures thrown by routes or failed futures: {@link #from}. */
  static ExceptionHandler exceptionHandler() {
    return ExceptionHandler.newBuilder()
        .matchAny(t -> Directives.complete(response(from(t))))
        .build();
  }

  /**
   * Pekko's own rejections (unknown path, wrong method, …) keep their status but get a JSON body.
   */
  static RejectionHandler rejectionHandler() {
    return RejectionHandler.defaultHandler()
        .mapRejectionResponse(
            response -> {
              String text =
                  response.entity() instanceof HttpEntity.Strict strict
                      ? strict.getData().decodeString(StandardCharsets.UTF_8)
                      : response.status().reason();
              int status = response.status().intValue();
              return response.withEntity(
                  ApiJson.entity(
                      ApiJson.error(
                          new ApiException(ErrorCode.forRejection(status), status, text))));
            });
  }

  /** The innermost cause's message, escaped: parsers quote the client's bytes in theirs. */
  public static String rootMessage(Throwable e) {
    Throwable t = Failures.root(e);
    return ClientText.printable(
        Optional.ofNullable(t.getMessage()).orElse(t.getClass().getSimpleName()), 100);
  }

  /** Whether {@code t} or one of its causes is Pekko HTTP's report of a body it could not parse. */
  private static boolean fromBodyParsing(Throwable t) {
    return Failures.anyCause(
        t,
        c ->
            c instanceof org.apache.pekko.http.scaladsl.model.ExceptionWithErrorInfo
                || c.getClass().getName().startsWith("org.apache.pekko.http.impl.engine.parsing."));
  }
}
