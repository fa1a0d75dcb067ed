package dev.deployrt.http;

import dev.deployrt.node.NodeRuntime;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code /health/alive} (the process answers) and {@code /health/ready} (joined the cluster and the
 * journal is reachable). No authentication, as load balancers and orchestrators call them.
 */
public final class HealthRoutes extends AllDirectives {
  private final NodeRuntime node;

  public HealthRoutes(NodeRuntime node) {
    this.node = node;
  }

  public Route route() {
    return pathPrefix("health", () -> concat(
        path("alive", () -> get(() -> complete(status(200, "alive")))),
        path("ready", () -> get(() -> {
          boolean up = Cluster.get(node.system()).selfMember().status() == MemberStatus.up();
          boolean journal = node.journalReady().toCompletableFuture().isDone()
              && !node.journalReady().toCompletableFuture().isCompletedExceptionally();
          if (up && journal) {
            return complete(status(200, "ready"));
          }
          throw ApiException.unavailable(!up ? "the node has not joined the cluster yet" : "the journal is not reachable")
              .with("retry_after", 5);
        }))));
  }

  private static HttpResponse status(int code, String status) {
    return HttpResponse.create().withStatus(code)
        .withEntity(ApiJson.entity(ApiJson.MAPPER.createObjectNode().put("status", status)));
  }
}
