package dev.deployrt.http.deployments;

import dev.deployrt.async.Failures;
import dev.deployrt.http.ApiException;
import dev.deployrt.upload.UploadFailure;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.pattern.StatusReply;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a failed step of a deploy becomes an API error (API.md's table): what the upload graph, the
 * record and Pekko HTTP's parsers report, mapped to a status and a code, never a stack trace.
 */
public final class DeployErrors {
  private static final Logger log = LoggerFactory.getLogger(DeployErrors.class);

  private DeployErrors() {}

  /** The API error a failed deploy step answers with. */
  public static ApiException asApi(Throwable e) {
    Throwable t = Failures.cause(e);
    if (t instanceof ApiException api) {
      return api;
    }
    UploadFailure f = Failures.find(UploadFailure.class, t);
    if (f != null) {
      // Also when it comes wrapped, e.g. by the multipart parser reading a body that stalled.
      ApiException api = new ApiException(f.reason().httpStatus, f.code(), f.getMessage());
      return api.with("limit", f.limit()).with("expected", f.expected()).with("actual", f.actual());
    }
    if (t instanceof TimeoutException) {
      return ApiException.unavailable("the cluster did not answer in time").with("retry_after", 5);
    }
    if (t instanceof StatusReply.ErrorMessage refused) {
      // The record refused the step: it ended meanwhile (e.g. its upload lease ran out), which its
      // error says; the record keeps that outcome.
      return new ApiException(409, "CONFLICT", "the deployment ended before this step: " + refused.getMessage());
    }
    if (fromBodyParsing(t)) {
      // The body's framing is broken (a multipart body cut off, a bad part header, a bad chunk): the
      // client's fault. (Pekko's multipart parser throws an internal ParsingException for bad part
      // headers, and an IllegalStateException caused by its NotEnoughDataException for a body that ends
      // inside a part's headers.)
      return ApiException.invalid("malformed request body: " + DeployRequest.printable(String.valueOf(t.getMessage())));
    }
    log.error("unexpected failure while deploying", t);
    return new ApiException(500, "INTERNAL", "internal error: " + t.getClass().getSimpleName());
  }

  /** Whether {@code t} or one of its causes is Pekko HTTP's report of a body it could not parse. */
  private static boolean fromBodyParsing(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof org.apache.pekko.http.scaladsl.model.ExceptionWithErrorInfo
          || c.getClass().getName().startsWith("org.apache.pekko.http.impl.engine.parsing.")) {
        return true;
      }
    }
    return false;
  }

  /** The innermost cause's message, escaped: parsers quote the client's bytes in theirs. */
  static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return DeployRequest.printable(Optional.ofNullable(t.getMessage()).orElse(t.getClass().getSimpleName()));
  }
}
