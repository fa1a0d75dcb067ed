package dev.deployrt.http.health;

import dev.deployrt.async.Failures;
import dev.deployrt.errors.ApiException;
import dev.deployrt.http.ApiJson;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.HealthCheckSettings;
import org.apache.pekko.management.javadsl.CheckResult;
import org.apache.pekko.management.javadsl.HealthChecks;

/**
 * {@code GET /health/alive} (the process answers, and every liveness check passes) and {@code GET
 * /health/ready} (every readiness check passes: the node is Up in the cluster and its journal
 * answers). The checks are Pekko Management's, configured under {@code
 * pekko.management.health-checks}; each is given {@code check-timeout}. No authentication, as load
 * balancers and orchestrators call them. A failure is 503 {@code UNAVAILABLE} naming the check that
 * failed ({@code "check"}) and what that means, never the check's own error text.
 */
public final class HealthRoutes extends AllDirectives {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(HealthRoutes.class);
  private final HealthChecks checks;

  public HealthRoutes(ActorSystem<?> system) {
    this.checks =
        new HealthChecks(
            (ExtendedActorSystem) system.classicSystem(),
            HealthCheckSettings.create(
                system.settings().config().getConfig("pekko.management.health-checks")));
  }

  public Route route() {
    return pathPrefix(
        "health",
        () ->
            concat(
                path(
                    "alive",
                    () ->
                        get(
                            () ->
                                onSuccess(
                                    failure(checks.aliveResult()),
                                    failed -> {
                                      if (failed.isEmpty()) {
                                        return complete(status("alive"));
                                      }
                                      throw ApiException.unavailable(
                                              "not alive: "
                                                  + failed.get().check()
                                                  + ": "
                                                  + failed.get().reason())
                                          .with("check", failed.get().check())
                                          .with("retry_after", ApiException.RETRY_AFTER_SECONDS);
                                    }))),
                path(
                    "ready",
                    () ->
                        get(
                            () ->
                                onSuccess(
                                    failure(checks.readyResult()),
                                    failed -> {
                                      if (failed.isEmpty()) {
                                        return complete(status("ready"));
                                      }
                                      throw ApiException.unavailable(
                                              "not ready: "
                                                  + failed.get().check()
                                                  + ": "
                                                  + failed.get().reason())
                                          .with("check", failed.get().check())
                                          .with("retry_after", ApiException.RETRY_AFTER_SECONDS);
                                    })))));
  }

  /** A check that failed: its name as configured, and why in the node's own words. */
  record Failed(String check, String reason) {}

  /**
   * Empty when every check passed, else the first check that failed. The answer names the check and
   * says what it means; the check's own text (a database driver's message, an exception) goes to
   * the log only, as unauthenticated callers read these answers.
   */
  private static CompletionStage<Optional<Failed>> failure(CompletionStage<CheckResult> result) {
    return result.handle(
        (r, error) -> {
          if (error == null && r.isSuccess()) {
            return Optional.empty();
          }
          String text = error != null ? String.valueOf(error.getMessage()) : r.failure().orElse("");
          log.debug("health check failed: {}", text, error);
          return Optional.of(describe(text, error));
        });
  }

  static Failed describe(String failure, Throwable error) {
    boolean timedOut = failure.contains("timed out");
    boolean journal =
        failure.contains(JournalReadinessCheck.class.getName())
            || Failures.find(JournalReadinessCheck.NotReady.class, error) != null;
    if (failure.contains("ClusterMembershipCheck")) {
      return new Failed("cluster-membership", "this node is not Up in the cluster");
    }
    if (journal) {
      return new Failed(
          "journal",
          timedOut
              ? "the journal database did not answer in time"
              : "the journal database is not reachable or its schema is not ready");
    }
    return new Failed("unknown", timedOut ? "a check did not answer in time" : "a check failed");
  }

  private static HttpResponse status(String status) {
    return HttpResponse.create()
        .withStatus(200)
        .withEntity(ApiJson.entity(ApiJson.MAPPER.createObjectNode().put("status", status)));
  }
}
