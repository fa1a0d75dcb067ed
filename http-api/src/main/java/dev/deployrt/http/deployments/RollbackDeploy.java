package dev.deployrt.http.deployments;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.deploy.DeployRequest;
import dev.deployrt.deploy.DeployWorkflow;
import dev.deployrt.deploy.DeployWorkflow.Outcome;
import dev.deployrt.errors.ApiException;
import dev.deployrt.http.ApiErrors;
import dev.deployrt.http.ApiJson;
import dev.deployrt.http.auth.User;
import dev.deployrt.http.limits.RequestLimits;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.stream.Materializer;

/**
 * {@code POST /deployments} with a JSON body {@code {"project", "rollback_of"}}: reads and checks
 * the body, records the attempt and hands it to the deploy workflow ({@code RollbackCopies} says
 * what a rollback guarantees).
 */
final class RollbackDeploy {
  private static final int MAX_JSON_BYTES = 64 * 1024;

  private final DeployWorkflow workflow;
  private final Materializer mat;
  private final Duration maxWait;
  private final Duration readTimeout;

  RollbackDeploy(
      DeployWorkflow workflow, Materializer mat, Duration maxWait, Duration readTimeout) {
    this.workflow = workflow;
    this.mat = mat;
    this.maxWait = maxWait;
    this.readTimeout = readTimeout;
  }

  /**
   * @param slot this rollback's upload slot, released once the bytes are here and recorded
   */
  CompletionStage<Outcome> deploy(
      String id,
      HttpRequest request,
      User user,
      Map<String, String> query,
      RequestLimits.UploadSlot slot) {
    return request
        .entity()
        .withSizeLimit(MAX_JSON_BYTES)
        .toStrict(readTimeout.toMillis(), mat)
        .handle(
            (strict, error) ->
                error != null
                    ? JsonFields.unreadable(
                        "the body could not be read: " + ApiErrors.rootMessage(error))
                    : JsonFields.parse(strict.getData().utf8String()))
        .thenCompose(
            body -> {
              DeployRequest parsed =
                  DeployRequest.parse(body.fields(), DeployRequest.ROLLBACK_FIELDS, query, maxWait);
              DeployRequest params =
                  body.problem() == null
                      ? parsed
                      : new DeployRequest(
                          null,
                          null,
                          null,
                          null,
                          parsed.waitForResult(),
                          parsed.timeout(),
                          ApiException.invalid(body.problem()));
              return workflow
                  .record(id, params, user.name(), params.rollbackOf())
                  .thenCompose(
                      created ->
                          params.problem() != null
                              ? workflow.fail(id, params.problem())
                              : workflow.rollback(id, params, slot::release));
            });
  }

  /**
   * A rollback's JSON body: a flat object of strings, or the problem that makes it not one (then no
   * field is taken from it).
   */
  record JsonFields(Map<String, String> fields, String problem) {
    static JsonFields unreadable(String problem) {
      return new JsonFields(Map.of(), problem);
    }

    static JsonFields parse(String body) {
      JsonNode node;
      try {
        node = ApiJson.MAPPER.readTree(body);
      } catch (Exception e) {
        return unreadable(ApiJson.describeParseError(e));
      }
      if (node == null || !node.isObject()) {
        return unreadable("the body must be a JSON object");
      }
      Map<String, String> out = new HashMap<>();
      var it = node.fields();
      while (it.hasNext()) {
        var e = it.next();
        if (!e.getValue().isTextual()) {
          return unreadable("field '" + DeployRequest.printable(e.getKey()) + "' must be a string");
        }
        out.put(e.getKey(), e.getValue().asText());
      }
      return new JsonFields(out, null);
    }
  }
}
