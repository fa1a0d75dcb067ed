package dev.deployrt.http.deployments;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import dev.deployrt.deployment.Deployment;
import dev.deployrt.deployment.DeploymentEntity;
import dev.deployrt.http.ApiException;
import dev.deployrt.http.ApiJson;
import dev.deployrt.http.auth.Authentication;
import dev.deployrt.node.NodeRuntime;
import java.time.Duration;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/** {@code /deployments}: deploy (see {@link DeployHandler}) and read one deployment. Thin: validate, ask, map. */
public final class DeploymentRoutes extends AllDirectives {
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(10);

  private final NodeRuntime node;
  private final Authentication auth;
  private final DeployHandler deployHandler;

  public DeploymentRoutes(NodeRuntime node, Authentication auth, Duration maxWait) {
    this.node = node;
    this.auth = auth;
    this.deployHandler = new DeployHandler(node, maxWait);
  }

  public Route route() {
    return pathPrefix("deployments", () -> concat(
        pathEndOrSingleSlash(() -> post(() -> auth.authenticated(user -> auth.requireDeploy(user, () ->
            withoutSizeLimit(() -> extractRequest(request ->
                completeWithFuture(deployHandler.deploy(request, user)))))))),
        path(segment(), id -> get(() -> auth.authenticated(user ->
            completeWithFuture(getDeployment(id).thenApply(d ->
                HttpResponse.create().withStatus(200).withEntity(ApiJson.entity(ApiJson.deployment(d, true))))))))));
  }

  private java.util.concurrent.CompletionStage<Deployment> getDeployment(String id) {
    if (!DeployRequest.DEPLOYMENT_ID.matcher(id).matches()) {
      throw ApiException.notFound("no deployment " + DeployRequest.printable(id));
    }
    return node.deployment(id).<Deployment>ask(DeploymentEntity.Get::new, ASK_TIMEOUT).thenApply(d -> {
      if (!d.exists()) {
        throw ApiException.notFound("no deployment " + id).with("deployment_id", id);
      }
      return d;
    });
  }
}
