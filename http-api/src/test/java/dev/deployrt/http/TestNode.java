package dev.deployrt.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.deployrt.deployment.DeploymentEntity;
import dev.deployrt.http.auth.AccountSettings;
import dev.deployrt.http.auth.UserStore;
import dev.deployrt.node.NodeConfig;
import dev.deployrt.node.NodeRuntime;
import dev.deployrt.readmodel.DeploymentProjection;
import dev.deployrt.testkit.TestDatabase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.StreamSupport;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.projection.ProjectionId;
import org.apache.pekko.projection.javadsl.ProjectionManagement;

/**
 * One node in this JVM, as {@code bin/deploy-node} starts it (same config layers, same wiring), on
 * free ports, with an HTTP client for its operations API. Admin password: {@link #PASSWORD}. Unless
 * the settings name a database, it uses the one of {@link TestDatabase#forDataDir} (embedded H2
 * under the data directory, or a PostgreSQL schema of its own in the build's PostgreSQL run).
 */
public final class TestNode implements AutoCloseable {
  public static final String PASSWORD = "test-secret-pw";

  public final ActorTestKit testKit;
  public final NodeRuntime node;
  public final UserStore users;
  public final int port;
  public final Path dataDir;

  /** Speaks https, trusting what the node trusts, when the node has TLS on. */
  public final HttpClient client;

  private TestNode(
      ActorTestKit testKit, NodeRuntime node, UserStore users, int port, Path dataDir) {
    this.testKit = testKit;
    this.node = node;
    this.users = users;
    this.port = port;
    this.dataDir = dataDir;
    HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
    node.tls().client().ifPresent(builder::sslContext);
    this.client = builder.build();
  }

  public static TestNode start(Path dataDir, String name, Map<String, Object> settings) {
    return start(dataDir, name, settings, true);
  }

  /** A node whose API is bound but which may not be ready (e.g. its database is unreachable). */
  public static TestNode startWithoutWaiting(
      Path dataDir, String name, Map<String, Object> settings) {
    return start(dataDir, name, settings, false);
  }

  private static TestNode start(
      Path dataDir, String name, Map<String, Object> settings, boolean awaitReady) {
    Map<String, Object> database =
        settings.containsKey("deploy.db.url") ? Map.of() : TestDatabase.forDataDir(dataDir);
    Config overrides =
        ConfigFactory.parseMap(settings)
            .withFallback(ConfigFactory.parseMap(database))
            .withFallback(
                ConfigFactory.parseMap(
                    Map.of(
                        "deploy.data-dir",
                        dataDir.toString(),
                        "deploy.node-name",
                        name,
                        "pekko.remote.artery.canonical.port",
                        0,
                        "pekko.cluster.jmx.multi-mbeans-in-same-jvm",
                        "on",
                        "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook",
                        "off",
                        "pekko.actor.testkit.typed.system-shutdown-default",
                        "30s")));
    ActorTestKit testKit = ActorTestKit.create(NodeConfig.SYSTEM_NAME, NodeConfig.load(overrides));
    NodeRuntime node = NodeRuntime.init(testKit.system());
    // The admin's password is PASSWORD unless the settings give one ("" = generated, in the data
    // dir).
    UserStore users =
        UserStore.start(
            node,
            AccountSettings.fromConfig(
                settings.containsKey("deploy.admin-password")
                    ? testKit.system().settings().config()
                    : ConfigFactory.parseMap(Map.of("deploy.admin-password", PASSWORD))
                        .withFallback(testKit.system().settings().config())));
    try {
      int port =
          new OperationsApi(node, users)
              .bind("127.0.0.1", 0)
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS)
              .localAddress()
              .getPort();
      if (!awaitReady) {
        return new TestNode(testKit, node, users, port, dataDir);
      }
      node.journalReady().toCompletableFuture().get(30, TimeUnit.SECONDS);
      users.ready().toCompletableFuture().get(30, TimeUnit.SECONDS);
      testKit
          .createTestProbe()
          .awaitAssert(
              Duration.ofSeconds(20),
              () -> {
                if (Cluster.get(testKit.system()).selfMember().status() != MemberStatus.up()) {
                  throw new AssertionError("not up yet");
                }
                return null;
              });
      return new TestNode(testKit, node, users, port, dataDir);
    } catch (Exception e) {
      testKit.shutdownTestKit();
      throw new IllegalStateException("node did not start", e);
    }
  }

  /**
   * This node's cluster address as {@code host:port}, for other nodes' {@code
   * deploy.cluster.seed-nodes}.
   */
  public String clusterHostPort() {
    var address = Cluster.get(testKit.system()).selfMember().address();
    return address.getHost().get() + ":" + address.getPort().get();
  }

  public String url(String path) {
    return node.tls().scheme() + "://127.0.0.1:" + port + path;
  }

  public static String basic(String user, String password) {
    return "Basic "
        + Base64.getEncoder()
            .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  public HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create(url(path)))
        .timeout(Duration.ofSeconds(60))
        .header("Authorization", basic("admin", PASSWORD));
  }

  public HttpResponse<String> send(HttpRequest request) {
    try {
      return client.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public HttpResponse<String> deployRaw(String query, byte[] body) {
    return send(
        request("/deployments?" + query)
            .header("Content-Type", "application/gzip")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build());
  }

  /**
   * {@code POST /deployments?query} with a JSON rollback of {@code project} to {@code earlierId}.
   */
  public HttpResponse<String> rollback(String query, String project, String earlierId) {
    return send(
        request("/deployments" + (query.isEmpty() ? "" : "?" + query))
            .header("Content-Type", "application/json")
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    "{\"project\": \"" + project + "\", \"rollback_of\": \"" + earlierId + "\"}"))
            .build());
  }

  /** {@code PUT /projects/{project}/settings} with a JSON body, as admin. */
  public HttpResponse<String> putSettings(String project, String json) {
    return send(
        request("/projects/" + project + "/settings")
            .header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofString(json))
            .build());
  }

  /** Creates user {@code name} with {@code role} and {@code password}, as admin; 201 or fails. */
  public void createUser(String name, String role, String password) {
    HttpResponse<String> r =
        send(
            request("/users")
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"name\":\""
                            + name
                            + "\",\"role\":\""
                            + role
                            + "\",\"password\":\""
                            + password
                            + "\"}"))
                .build());
    if (r.statusCode() != 201) {
      throw new AssertionError(
          "could not create user " + name + ": " + r.statusCode() + " " + r.body());
    }
  }

  /** Waits until this node sees {@code count} members up. */
  public void awaitMembersUp(int count) {
    testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(30),
            Duration.ofMillis(100),
            () -> {
              long up =
                  StreamSupport.stream(
                          Cluster.get(testKit.system()).state().getMembers().spliterator(), false)
                      .filter(m -> m.status() == MemberStatus.up())
                      .count();
              if (up != count) {
                throw new AssertionError(
                    count + " members up expected as seen by " + node.nodeName() + ", got " + up);
              }
              return null;
            });
  }

  public JsonNode get(String path) {
    return json(send(request(path).GET().build()));
  }

  public static JsonNode json(HttpResponse<String> response) {
    try {
      return ApiJson.MAPPER.readTree(response.body());
    } catch (IOException e) {
      throw new AssertionError("not JSON (" + response.statusCode() + "): " + response.body(), e);
    }
  }

  /**
   * Pauses or resumes every instance of the read model's projection (the state is kept in the
   * database, so a restarted node's stay paused); tries them all before failing.
   */
  public void setReadModelPaused(boolean paused) {
    setReadModelPaused(paused, tag -> true);
  }

  /** The same for the projection instances of the event tags {@code which} accepts. */
  public void setReadModelPaused(boolean paused, Predicate<String> which) {
    ProjectionManagement management = ProjectionManagement.get(testKit.system());
    IllegalStateException failed = null;
    for (int i = 0; i < DeploymentEntity.TAG_COUNT; i++) {
      String tag = DeploymentEntity.tag(i);
      if (!which.test(tag)) {
        continue;
      }
      ProjectionId id = ProjectionId.of(DeploymentProjection.NAME, tag);
      try {
        (paused ? management.pause(id) : management.resume(id)).toCompletableFuture().join();
      } catch (RuntimeException e) {
        failed =
            failed != null
                ? failed
                : new IllegalStateException(
                    "could not " + (paused ? "pause" : "resume") + " the read model's projections");
        failed.addSuppressed(e);
      }
    }
    if (failed != null) {
      throw failed;
    }
  }

  @Override
  public void close() {
    testKit.shutdownTestKit();
  }
}
