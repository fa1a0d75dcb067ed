package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.testkit.TestDatabase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.h2.tools.Server;

/**
 * Node processes sharing one database (PostgreSQL when the tests run on it, else an H2 server in
 * this JVM), and the HTTP calls tests make to them as admin. Every node's log is kept under {@code
 * target/node-logs/<test>/} when the cluster stops.
 */
final class ProcessCluster {
  static final String PASSWORD = "process-cluster-admin";

  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final Server db;
  private final Map<String, String> env = new HashMap<>(Map.of("DEPLOY_ADMIN_PASSWORD", PASSWORD));

  /**
   * @param name names the shared database and the kept logs
   */
  ProcessCluster(String name) throws java.sql.SQLException {
    if (TestDatabase.postgres()) {
      Map<String, Object> shared = TestDatabase.shared(name);
      env.put("DEPLOY_DB_URL", (String) shared.get("deploy.db.url"));
      env.put("DEPLOY_DB_USER", (String) shared.get("deploy.db.user"));
      env.put("DEPLOY_DB_PASSWORD", (String) shared.get("deploy.db.password"));
      db = null;
    } else {
      db =
          Server.createTcpServer(
                  "-tcpPort", Integer.toString(NodeProcess.freePort()), "-ifNotExists")
              .start();
      env.put(
          "DEPLOY_DB_URL",
          "jdbc:h2:tcp://127.0.0.1:" + db.getPort() + "/mem:" + name + ";DB_CLOSE_DELAY=-1");
      env.put("DEPLOY_DB_USER", "sa");
    }
  }

  /** The environment every node gets (the database, the admin's password, and {@code more}). */
  Map<String, String> env(Map<String, String> more) {
    Map<String, String> all = new HashMap<>(env);
    all.putAll(more);
    return all;
  }

  /** Stops the database (after the nodes) and keeps the nodes' logs under target/. */
  void close(String test, List<NodeProcess> nodes) {
    if (db != null) {
      db.stop();
    }
    Path kept = Path.of("target", "node-logs", test);
    try {
      Files.createDirectories(kept);
      for (NodeProcess n : nodes) {
        Path log = n.dataDir.resolveSibling(n.name + ".log");
        if (Files.exists(log)) {
          Files.copy(
              log,
              kept.resolve(n.name + ".log"),
              java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  HttpResponse<String> send(HttpRequest.Builder request) {
    try {
      return client.send(
          request
              .header("Authorization", TestNode.basic("admin", PASSWORD))
              .timeout(Duration.ofSeconds(60))
              .build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  JsonNode get(NodeProcess node, String path) {
    HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(node.url(path))).GET());
    assertEquals(200, r.statusCode(), node.name + " GET " + path + ": " + r.body());
    return TestNode.json(r);
  }

  /** Every node sees {@code size} members up and is ready. */
  void awaitClusterOf(List<NodeProcess> nodes, int size, Duration max) {
    for (NodeProcess n : nodes) {
      await(
          max,
          () -> {
            JsonNode cluster = get(n, "/cluster/nodes");
            long up = 0;
            for (JsonNode m : cluster.get("nodes")) {
              up += m.get("status").asText().equals("up") ? 1 : 0;
            }
            assertEquals(size, up, cluster.toString());
            HttpResponse<String> ready =
                send(HttpRequest.newBuilder(URI.create(n.url("/health/ready"))).GET());
            assertEquals(200, ready.statusCode(), ready.body());
          });
    }
  }

  /**
   * Polls until {@code check} passes (connection failures count as not yet), or fails with its last
   * error.
   */
  static void await(Duration max, Runnable check) {
    Instant deadline = Instant.now().plus(max);
    Object lock = new Object();
    while (true) {
      try {
        check.run();
        return;
      } catch (AssertionError | RuntimeException e) {
        if (Instant.now().isAfter(deadline)) {
          throw new AssertionError("not within " + max + ": " + e.getMessage(), e);
        }
      }
      synchronized (lock) {
        try {
          lock.wait(200); // polling interval of the assertion, not a wait for an event
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      }
    }
  }
}
