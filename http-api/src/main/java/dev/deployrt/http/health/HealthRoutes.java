package dev.deployrt.http.health;

import dev.deployrt.http.ApiException;
import dev.deployrt.http.ApiJson;
import dev.deployrt.node.NodeRuntime;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.HealthCheckSettings;
import org.apache.pekko.management.javadsl.CheckResult;
import org.apache.pekko.management.javadsl.HealthChecks;

/**
 * {@code GET /health/alive} (the process answers, and every liveness check passes) and {@code GET
 * /health/ready} (every readiness check passes: the node is Up in the cluster and its journal answers).
 * The checks are Pekko Management's, configured under {@code pekko.management.health-checks}; each is
 * given {@code check-timeout}. No authentication, as load balancers and orchestrators call them. A
 * failure is 503 {@code UNAVAILABLE} naming the check that failed.
 */
public final class HealthRoutes extends AllDirectives {
  private final HealthChecks checks;

  public HealthRoutes(NodeRuntime node) {
    this.checks = new HealthChecks((ExtendedActorSystem) node.system().classicSystem(), HealthCheckSettings.create(
        node.system().settings().config().getConfig("pekko.management.health-checks")));
  }

  public Route route() {
    return pathPrefix("health", () -> concat(
        path("alive", () -> get(() -> onSuccess(failure(checks.aliveResult()), failed -> {
          if (failed.isEmpty()) {
            return complete(status("alive"));
          }
          throw ApiException.unavailable("not alive: " + failed.get());
        }))),
        path("ready", () -> get(() -> onSuccess(failure(checks.readyResult()), failed -> {
          if (failed.isEmpty()) {
            return complete(status("ready"));
          }
          throw ApiException.unavailable("not ready: " + failed.get()).with("retry_after", 5);
        })))));
  }

  /** Empty when every check passed, else what failed, in words (a check that threw fails the stage). */
  private static CompletionStage<Optional<String>> failure(CompletionStage<CheckResult> result) {
    return result.handle((r, error) -> {
      if (error == null) {
        return r.isSuccess() ? Optional.empty() : Optional.of(describe(r.failure().orElse("a check failed")));
      }
      Throwable root = error;
      while (root.getCause() != null && root.getCause() != root) {
        root = root.getCause();
      }
      String text = root.getMessage() != null ? root.getMessage() : root.toString();
      return Optional.of(describe(text.lines().findFirst().orElse(text)));
    });
  }

  private static String describe(String failure) {
    return failure.contains("ClusterMembershipCheck") ? "this node is not Up in the cluster" : failure;
  }

  private static HttpResponse status(String status) {
    return HttpResponse.create().withStatus(200)
        .withEntity(ApiJson.entity(ApiJson.MAPPER.createObjectNode().put("status", status)));
  }
}
