package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.testkit.Tarball;
import dev.deployrt.testkit.TestDatabase;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.event.Logging;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** /health/alive, /health/ready and /metrics (API.md, "Auth"; issue 5) against a live node. */
@Tag("database")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HealthAndMetricsTest {
  private TestNode node;

  @BeforeAll
  void start(@TempDir Path dir) {
    node = TestNode.start(dir.resolve("node"), "node-1", Map.of());
  }

  @AfterAll
  void stop() {
    node.close();
  }

  private HttpResponse<String> anonymous(TestNode n, String path) {
    return n.send(
        HttpRequest.newBuilder(URI.create(n.url(path)))
            .timeout(Duration.ofSeconds(30))
            .GET()
            .build());
  }

  /** Every sample of the text format, by its series ({@code name{labels}}). */
  private Map<String, Double> metrics() {
    HttpResponse<String> r = anonymous(node, "/metrics");
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(
        r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"),
        r.headers().toString());
    Map<String, Double> samples = new HashMap<>();
    r.body()
        .lines()
        .filter(l -> !l.startsWith("#") && !l.isBlank())
        .forEach(
            l -> {
              int space = l.lastIndexOf(' ');
              samples.put(l.substring(0, space), Double.parseDouble(l.substring(space + 1)));
            });
    return samples;
  }

  private static double value(Map<String, Double> samples, String series) {
    Double v = samples.get(series);
    if (v == null) {
      throw new AssertionError("no series " + series + " in " + samples.keySet());
    }
    return v;
  }

  /**
   * The API's routes are built once, when it binds, not per request (the Java DSL calls an inner
   * route's supplier on every request): Pekko Management's health checks, which the health routes
   * build, log "Loading readiness checks" each time they are constructed.
   */
  @Test
  void requestsDoNotRebuildTheRoutes() throws InterruptedException {
    String marker = "health-and-metrics-test: requests done";
    CopyOnWriteArrayList<String> logged = new CopyOnWriteArrayList<>();
    CountDownLatch markerSeen = new CountDownLatch(1);
    AppenderBase<ILoggingEvent> appender =
        new AppenderBase<>() {
          @Override
          protected void append(ILoggingEvent event) {
            logged.add(event.getFormattedMessage());
            if (event.getFormattedMessage().equals(marker)) {
              markerSeen.countDown();
            }
          }
        };
    appender.start();
    List<Logger> loggers =
        List.of(
            (Logger)
                LoggerFactory.getLogger("org.apache.pekko.management.internal.HealthChecksImpl"),
            (Logger) LoggerFactory.getLogger(HealthAndMetricsTest.class.getName()));
    loggers.forEach(
        l -> {
          l.setLevel(Level.INFO);
          l.addAppender(appender);
        });
    try {
      for (String path : List.of("/health/ready", "/health/alive", "/metrics", "/health/ready")) {
        assertEquals(200, anonymous(node, path).statusCode(), path);
      }
      // Through Pekko's event stream, like the health checks' own lines, so it arrives after them.
      Logging.getLogger(node.testKit.system().classicSystem(), HealthAndMetricsTest.class.getName())
          .info(marker);
      assertTrue(markerSeen.await(30, TimeUnit.SECONDS), "marker never logged: " + logged);
      assertEquals(List.of(marker), logged, "requests rebuilt the routes");
    } finally {
      loggers.forEach(
          l -> {
            l.detachAppender(appender);
            l.setLevel(null);
          });
    }
  }

  @Test
  void theNodeRunsOnTheDatabaseThisTestRunChose() {
    String url =
        node.testKit
            .system()
            .settings()
            .config()
            .getString("pekko-persistence-jdbc.shared-databases.deploy.db.url");
    assertTrue(url.startsWith(TestDatabase.postgres() ? "jdbc:postgresql:" : "jdbc:h2:file:"), url);
  }

  @Test
  void healthNeedsNoCredentialsAndSaysReady() {
    HttpResponse<String> alive = anonymous(node, "/health/alive");
    assertEquals(200, alive.statusCode(), alive.body());
    assertEquals("alive", TestNode.json(alive).get("status").asText());
    HttpResponse<String> ready = anonymous(node, "/health/ready");
    assertEquals(200, ready.statusCode(), ready.body());
    assertEquals("ready", TestNode.json(ready).get("status").asText());
  }

  @Test
  void aNodeWhoseDatabaseIsDownIsAliveButNotReady(@TempDir Path dir) {
    Map<String, Object> settings =
        Map.of(
            "deploy.db.url",
            "jdbc:postgresql://127.0.0.1:1/unreachable",
            "deploy.db.user",
            "nobody",
            "deploy.db.schema-wait",
            "1s");
    try (TestNode down = TestNode.startWithoutWaiting(dir, "node-down", settings)) {
      assertEquals(200, anonymous(down, "/health/alive").statusCode());
      HttpResponse<String> ready = anonymous(down, "/health/ready");
      assertEquals(503, ready.statusCode(), ready.body());
      JsonNode error = TestNode.json(ready);
      assertEquals("UNAVAILABLE", error.get("code").asText());
      assertEquals("journal", error.get("check").asText(), error.toString());
      assertEquals(
          "not ready: journal: the journal database is not reachable or its schema is not ready",
          error.get("error").asText(),
          "the check named in the node's words, no driver or exception text");
      assertEquals("5", ready.headers().firstValue("Retry-After").orElseThrow());
    }
  }

  @Test
  void metricsCountUploadsDeploysPhasesBlobsAndMembers() throws Exception {
    Map<String, Double> before = metrics();
    for (String family :
        List.of(
            "deploy_uploads_in_flight",
            "deploy_upload_received_bytes_total",
            "deploy_deployments_finished_total{status=\"succeeded\"}",
            "deploy_deployments_finished_total{status=\"failed\"}",
            "deploy_blob_store_bytes",
            "deploy_blob_store_blobs",
            "deploy_cluster_members{status=\"up\"}",
            "deploy_cluster_members{status=\"leaving\"}",
            "deploy_cluster_unreachable_members")) {
      value(before, family);
    }
    assertEquals(1.0, value(before, "deploy_cluster_members{status=\"up\"}"));
    assertTrue(
        before.keySet().stream().anyMatch(k -> k.startsWith("jvm_memory_used_bytes")),
        "JVM metrics");

    byte[] good = Tarball.builder().file("index.html", "metrics " + System.nanoTime()).toBytes();
    assertEquals(201, node.deployRaw("project=metrics", good).statusCode());
    byte[] bad = "not a tarball at all".getBytes(StandardCharsets.UTF_8);
    assertEquals(422, node.deployRaw("project=metrics", bad).statusCode());

    Map<String, Double> after = metrics();
    assertEquals(
        good.length + bad.length,
        value(after, "deploy_upload_received_bytes_total")
            - value(before, "deploy_upload_received_bytes_total"),
        0.0);
    assertEquals(
        1.0,
        value(after, "deploy_deployments_finished_total{status=\"succeeded\"}")
            - value(before, "deploy_deployments_finished_total{status=\"succeeded\"}"));
    assertEquals(
        1.0,
        value(after, "deploy_deployments_finished_total{status=\"failed\"}")
            - value(before, "deploy_deployments_finished_total{status=\"failed\"}"));
    // The receiving node extracted the payload while it arrived: it only activates afterwards.
    for (String phase : List.of("fetching", "extracting", "activating")) {
      String series = "deploy_apply_phase_seconds_count{phase=\"" + phase + "\"}";
      assertEquals(
          phase.equals("activating") ? 1.0 : 0.0,
          after.getOrDefault(series, 0.0) - before.getOrDefault(series, 0.0),
          series);
    }
    assertEquals(
        1.0, value(after, "deploy_blob_store_blobs") - value(before, "deploy_blob_store_blobs"));
    assertEquals(
        good.length,
        value(after, "deploy_blob_store_bytes") - value(before, "deploy_blob_store_bytes"),
        0.0);
    assertEquals(0.0, value(after, "deploy_uploads_in_flight"));
  }

  @Test
  void anUploadIsInFlightWhileItsBytesArrive() throws Exception {
    byte[] payload = Tarball.builder().file("big.bin", new byte[256 * 1024], 0644).toBytes();
    try (Socket socket = new Socket("127.0.0.1", node.port)) {
      OutputStream out = socket.getOutputStream();
      out.write(
          ("POST /deployments?project=inflight HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  + "Authorization: "
                  + TestNode.basic("admin", TestNode.PASSWORD)
                  + "\r\n"
                  + "Content-Type: application/gzip\r\nContent-Length: "
                  + (payload.length + 100)
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.write(payload);
      out.flush();
      node.testKit
          .createTestProbe()
          .awaitAssert(
              Duration.ofSeconds(10),
              () -> {
                assertEquals(1.0, value(metrics(), "deploy_uploads_in_flight"));
                return null;
              });
    } // the client goes away before the declared length
    node.testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(10),
            () -> {
              assertEquals(0.0, value(metrics(), "deploy_uploads_in_flight"));
              return null;
            });
  }
}
