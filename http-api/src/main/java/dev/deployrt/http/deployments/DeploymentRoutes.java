package dev.deployrt.http.deployments;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.deployrt.async.Failures;
import dev.deployrt.deploy.DeployRequest;
import dev.deployrt.deploy.DeployWorkflow;
import dev.deployrt.deployment.Deployment;
import dev.deployrt.deployment.DeploymentEntity;
import dev.deployrt.deployment.Deployments;
import dev.deployrt.errors.ApiException;
import dev.deployrt.http.ApiJson;
import dev.deployrt.http.HttpSettings;
import dev.deployrt.http.auth.Authentication;
import dev.deployrt.http.limits.RequestLimits;
import dev.deployrt.node.NodeRuntime;
import dev.deployrt.readmodel.DeploymentQueries;
import dev.deployrt.readmodel.History;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code /deployments}: deploy ({@link DeployHandler}), list (read model), read one, its event
 * stream ({@link EventStreams}) and its payload ({@link PayloadHandler}). Thin: validate, ask, map.
 */
public final class DeploymentRoutes extends AllDirectives {
  private final Duration askTimeout;

  private final Deployments deployments;
  private final History history;
  private final Authentication auth;
  private final DeployHandler deployHandler;
  private final EventStreams streams;
  private final PayloadHandler payloads;

  /** The routes, each handler given the parts of the node it uses. */
  public static DeploymentRoutes of(
      NodeRuntime node, Authentication auth, HttpSettings settings, RequestLimits limits) {
    Duration askTimeout = settings.askTimeout();
    EventStreams streams =
        new EventStreams(
            node.system(),
            node.deployments(),
            settings.sseHeartbeat(),
            settings.sseBuffer(),
            settings.testEventStreamMaxEvents());
    DeployWorkflow workflow = new DeployWorkflow(node, askTimeout, DeployErrors::asApi);
    DeployHandler deploys =
        new DeployHandler(
            workflow,
            node.system(),
            node.settings().upload(),
            askTimeout,
            settings.maxWaitTimeout(),
            streams,
            limits);
    return new DeploymentRoutes(
        node.deployments(),
        node.history(),
        auth,
        askTimeout,
        deploys,
        streams,
        new PayloadHandler(
            node.blobs(),
            node.transfers(),
            node.payloadDeletion(),
            node.blocking(),
            settings.payloadDeleteWait()));
  }

  private DeploymentRoutes(
      Deployments deployments,
      History history,
      Authentication auth,
      Duration askTimeout,
      DeployHandler deployHandler,
      EventStreams streams,
      PayloadHandler payloads) {
    this.deployments = deployments;
    this.history = history;
    this.askTimeout = askTimeout;
    this.auth = auth;
    this.streams = streams;
    this.deployHandler = deployHandler;
    this.payloads = payloads;
  }

  public Route route() {
    return pathPrefix(
        "deployments",
        () ->
            concat(
                pathEndOrSingleSlash(() -> concat(post(this::deploy), get(this::list))),
                pathPrefix(
                    segment(),
                    id ->
                        concat(
                            pathEndOrSingleSlash(() -> get(() -> readOne(id))),
                            path(
                                "events",
                                () ->
                                    get(
                                        () ->
                                            auth.authenticated(
                                                user ->
                                                    extractRequest(
                                                        request ->
                                                            completeWithFuture(
                                                                events(id, request)))))),
                            path(
                                "payload",
                                () ->
                                    concat(
                                        get(() -> getPayload(id)),
                                        delete(() -> deletePayload(id))))))));
  }

  private Route deploy() {
    return auth.authenticated(
        user ->
            auth.requireDeploy(
                user,
                () ->
                    withoutSizeLimit(
                        () ->
                            extractRequest(
                                request ->
                                    completeWithFuture(deployHandler.deploy(request, user))))));
  }

  private Route list() {
    return auth.authenticated(user -> extractRequest(request -> completeWithFuture(list(request))));
  }

  /** JSON, or the event stream when the client accepts {@code text/event-stream}. */
  private Route readOne(String id) {
    return auth.authenticated(
        user ->
            extractRequest(
                request ->
                    completeWithFuture(
                        EventStreams.wanted(request) ? events(id, request) : one(id))));
  }

  private Route getPayload(String id) {
    return auth.authenticated(
        user ->
            auth.requireDeploy(
                user,
                () ->
                    extractRequest(
                        request ->
                            completeWithFuture(
                                getDeployment(id).thenCompose(d -> payloads.get(d, request))))));
  }

  private Route deletePayload(String id) {
    return auth.authenticated(
        user ->
            auth.requireAdmin(
                user,
                () ->
                    completeWithFuture(
                        getDeployment(id).thenCompose(d -> payloads.delete(d, user)))));
  }

  private CompletionStage<HttpResponse> one(String id) {
    return getDeployment(id)
        .thenApply(
            d ->
                HttpResponse.create()
                    .withStatus(200)
                    .withEntity(ApiJson.entity(ApiJson.deployment(d, true))));
  }

  private CompletionStage<HttpResponse> events(String id, HttpRequest request) {
    long after = EventStreams.lastEventId(request);
    return getDeployment(id).thenApply(d -> streams.response(id, after, false));
  }

  private CompletionStage<HttpResponse> list(HttpRequest request) {
    DeploymentQueries.Filter filter = ListParams.parse(request.getUri().query().toMultiMap());
    return history
        .ready()
        .thenApplyAsync(
            ready -> {
              try {
                return history.queries().list(filter);
              } catch (Exception e) {
                throw new CompletionException(
                    ApiException.unavailable(
                            "the deployment list is not available: " + e.getMessage())
                        .with("retry_after", ApiException.RETRY_AFTER_SECONDS));
              }
            },
            history.database())
        .exceptionally(
            e -> {
              Throwable cause = Failures.cause(e);
              if (cause instanceof ApiException api) {
                throw api;
              }
              throw ApiException.unavailable("the deployment list is not available yet")
                  .with("retry_after", ApiException.RETRY_AFTER_SECONDS);
            })
        .thenApply(
            page -> {
              ObjectNode out = ApiJson.MAPPER.createObjectNode();
              ArrayNode items = out.putArray("deployments");
              page.deployments().forEach(d -> items.add(ApiJson.deployment(d, false)));
              out.put("total", page.total());
              out.put("limit", filter.limit());
              out.put("offset", filter.offset());
              return HttpResponse.create().withStatus(200).withEntity(ApiJson.entity(out));
            });
  }

  private CompletionStage<Deployment> getDeployment(String id) {
    if (!DeployRequest.DEPLOYMENT_ID.matcher(id).matches()) {
      return CompletableFuture.failedFuture(
          ApiException.notFound("no deployment " + DeployRequest.printable(id)));
    }
    return deployments
        .entity(id)
        .<Deployment>ask(DeploymentEntity.Get::new, askTimeout)
        .thenApply(
            d -> {
              if (!d.exists()) {
                throw ApiException.notFound("no deployment " + id).with("deployment_id", id);
              }
              return d;
            });
  }
}
