package dev.deployrt.http;

import dev.deployrt.http.auth.AccountRoutes;
import dev.deployrt.http.auth.Authentication;
import dev.deployrt.http.auth.SessionRoutes;
import dev.deployrt.http.auth.UserStore;
import dev.deployrt.http.cluster.ClusterRoutes;
import dev.deployrt.http.console.ConsoleRoutes;
import dev.deployrt.http.deployments.DeploymentRoutes;
import dev.deployrt.http.health.HealthRoutes;
import dev.deployrt.http.internal.InternalRoutes;
import dev.deployrt.http.limits.LoginLimits;
import dev.deployrt.http.limits.RequestHeaderTimeout;
import dev.deployrt.http.limits.RequestLimits;
import dev.deployrt.http.metrics.MetricsRoutes;
import dev.deployrt.http.projects.ProjectSettingsRoutes;
import dev.deployrt.node.NodeRuntime;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operations API of one node: every route, and the single place where errors become responses.
 * Every error is JSON {@code {"error", "code", ...}}: never an empty body, never a stack trace.
 */
public final class OperationsApi extends AllDirectives {
  private static final Logger log = LoggerFactory.getLogger(OperationsApi.class);

  private final NodeRuntime node;
  private final Authentication auth;
  private final UserStore users;

  private final RequestLimits limits;
  private final HttpSettings settings;

  public OperationsApi(NodeRuntime node, UserStore users) {
    this.node = node;
    this.users = users;
    var config = node.system().settings().config();
    this.settings = HttpSettings.fromConfig(config);
    this.limits = RequestLimits.fromConfig(config);
    this.auth =
        new Authentication(
            users, limits, LoginLimits.fromConfig(config, settings.trustedProxies()));
  }

  /** The API's settings ({@code deploy.http}), read once. */
  public HttpSettings settings() {
    return settings;
  }

  /**
   * The whole route tree. The routes are built here, once: the Java DSL calls an inner route's
   * supplier for every request that reaches it, so building them inside one would construct every
   * handler (and Pekko Management's health checks, which log as they load) on every request.
   */
  public Route route() {
    Route routes =
        concat(
            new HealthRoutes(node.system()).route(),
            new MetricsRoutes(node.metrics()).route(),
            new InternalRoutes(
                    node.system(),
                    node.nodeName(),
                    node.blobs(),
                    node.settings().upload(),
                    node.reclaimer(),
                    node.transfers().pieces(),
                    node.transfers().pushReceiver(),
                    node.clusterSecret(),
                    node.blocking())
                .route(),
            new ClusterRoutes(
                    node.system(),
                    node.nodeName(),
                    node.register(),
                    node.directory(),
                    node::upNodes,
                    auth,
                    settings.askTimeout())
                .route(),
            new ProjectSettingsRoutes(node.projectSettings(), auth, this::upPeers).route(),
            new AccountRoutes(users, auth).route(),
            new SessionRoutes(
                    users, auth, node.tls().enabled() || settings.sessionCookieAlwaysSecure())
                .route(),
            new ConsoleRoutes().route(),
            DeploymentRoutes.of(node, auth, settings, limits).route());
    ExceptionHandler exceptions = ApiErrors.exceptionHandler();
    RejectionHandler rejections = ApiErrors.rejectionHandler();
    return handleExceptions(
        exceptions,
        () ->
            handleRejections(
                rejections,
                () ->
                    extractRequest(
                        request -> {
                          Authentication.refuseCrossSite(request);
                          return routes;
                        })));
  }

  /**
   * Binds the API at {@code host:port}, unbinds it when the system shuts down, and tells the
   * cluster where it answers ({@code deploy.http.advertised-host}, else the bound host; a wildcard
   * bind is advertised as the cluster host).
   */
  public CompletionStage<ServerBinding> bind(String host, int port) {
    plainTextWarning(host, node.tls().enabled()).ifPresent(log::warn);
    var server = Http.get(node.system()).newServerAt(host, port);
    if (node.tls().server().isPresent()) {
      server = server.enableHttps(ConnectionContext.httpsServer(node.tls().server().get()));
    }
    Duration headerTimeout = settings.requestHeaderTimeout();
    return server
        .bindFlow(RequestHeaderTimeout.around(route().flow(node.system()), headerTimeout))
        .thenApply(
            binding -> {
              node.announceEndpoint(
                  node.tls().scheme()
                      + "://"
                      + advertisedHost(host)
                      + ":"
                      + binding.localAddress().getPort());
              return binding.addToCoordinatedShutdown(Duration.ofSeconds(10), node.system());
            });
  }

  /**
   * The warning a node logs at start when its API is reachable from other hosts without TLS: every
   * password, token and the cluster secret would cross the network in the clear.
   */
  static java.util.Optional<String> plainTextWarning(String host, boolean tls) {
    if (tls) {
      return java.util.Optional.empty();
    }
    try {
      if (java.net.InetAddress.getByName(host).isLoopbackAddress()) {
        return java.util.Optional.empty();
      }
    } catch (java.net.UnknownHostException e) {
      // not resolvable here: warn, it is not known to be loopback
    }
    return java.util.Optional.of(
        "the operations API listens on "
            + host
            + " without TLS: passwords, tokens and "
            + "the cluster secret cross the network in the clear. Set DEPLOY_TLS_KEYSTORE (deploy.http.tls), or bind "
            + "to 127.0.0.1 behind a TLS-terminating proxy (and list it in deploy.http.trusted-proxies)");
  }

  /** What each node that is up says of itself, by node name. */
  private java.util.Map<String, dev.deployrt.peer.PeerState> upPeers() {
    java.util.TreeMap<String, dev.deployrt.peer.PeerState> out = new java.util.TreeMap<>();
    for (String name : node.upNodes()) {
      out.put(name, node.directory().peer(name));
    }
    return out;
  }

  private String advertisedHost(String bound) {
    var config = node.system().settings().config();
    String advertised = settings.advertisedHost();
    if (!advertised.isBlank()) {
      return advertised;
    }
    if (bound.equals("0.0.0.0") || bound.equals("::")) {
      return config.getString("pekko.remote.artery.canonical.hostname");
    }
    return bound;
  }
}
