package dev.deployrt.http.deployments;

import dev.deployrt.async.Failures;
import dev.deployrt.errors.ApiException;
import dev.deployrt.errors.ErrorCode;
import dev.deployrt.http.ApiErrors;
import org.apache.pekko.pattern.StatusReply;

/**
 * How a failed step of a deploy becomes an API error: the record refusing a step answers {@code
 * CONFLICT}; everything else as {@link ApiErrors#from} maps it.
 */
final class DeployErrors {
  private DeployErrors() {}

  /** The API error a failed deploy step answers with. */
  static ApiException asApi(Throwable e) {
    if (Failures.cause(e) instanceof StatusReply.ErrorMessage refused) {
      // The record refused the step: it ended meanwhile (e.g. its upload lease ran out), which its
      // error says; the record keeps that outcome.
      return new ApiException(
          ErrorCode.CONFLICT, "the deployment ended before this step: " + refused.getMessage());
    }
    return ApiErrors.from(e);
  }
}
