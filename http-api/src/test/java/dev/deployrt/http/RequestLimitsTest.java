package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.testkit.Tarball;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Request rate and concurrent-upload limits (429 with Retry-After), and header and URI size limits.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RequestLimitsTest {
  /** Rate limit 1/s with a burst of 3; no upload pressure. */
  private TestNode rated;

  /** No rate limit; two uploads at once on the node, one per user. */
  private TestNode node;

  @BeforeAll
  void start(@TempDir Path dir) {
    rated =
        TestNode.start(
            dir.resolve("rated"),
            "rated",
            Map.of(
                "deploy.limits.requests-per-second-per-user", 1,
                "deploy.limits.request-burst-per-user", 3));
    node =
        TestNode.start(
            dir.resolve("node-1"),
            "node-1",
            Map.of(
                "deploy.limits.requests-per-second-per-user", 0,
                "deploy.limits.max-concurrent-uploads", 2,
                "deploy.limits.max-concurrent-uploads-per-user", 1));
    for (String user : new String[] {"up1", "up2", "up3"}) {
      createUser(node, user);
    }
    createUser(rated, "other");
  }

  private static void createUser(TestNode on, String user) {
    HttpResponse<String> r =
        on.send(
            on.request("/users")
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"name\":\""
                            + user
                            + "\",\"role\":\"deployer\",\"password\":\"pw-"
                            + user
                            + "-123456\"}"))
                .build());
    assertEquals(201, r.statusCode(), r.body());
  }

  @AfterAll
  void stop() {
    rated.close();
    node.close();
  }

  private HttpRequest.Builder as(String user, String path) {
    return as(node, user, path);
  }

  private static HttpRequest.Builder as(TestNode on, String user, String path) {
    String password = user.equals("admin") ? TestNode.PASSWORD : "pw-" + user + "-123456";
    return HttpRequest.newBuilder(URI.create(on.url(path)))
        .header("Authorization", TestNode.basic(user, password));
  }

  @Test
  void aUserOverTheRateGets429WithRetryAfterAndOthersAreUnaffected() {
    HttpResponse<String> last = null;
    for (int i = 0; i < 5; i++) {
      last = rated.send(as(rated, "admin", "/projects").build());
      if (last.statusCode() == 429) {
        break;
      }
    }
    assertEquals(429, last.statusCode(), "five requests at once exceed a burst of 3 at 1/s");
    JsonNode body = TestNode.json(last);
    assertEquals("TOO_MANY_REQUESTS", body.get("code").asText());
    long retryAfter = Long.parseLong(last.headers().firstValue("Retry-After").orElseThrow());
    assertTrue(retryAfter >= 1 && retryAfter <= 2, "Retry-After " + retryAfter);
    assertEquals(
        200,
        rated.send(as(rated, "other", "/projects").build()).statusCode(),
        "another user has a bucket of their own");
  }

  /**
   * An upload held open on a raw socket: headers and a first chunk sent, the rest when {@link
   * #finish} is called.
   */
  private final class HeldUpload implements AutoCloseable {
    private final Socket socket;
    private final byte[] tarball;

    HeldUpload(String user, String project, byte[] tarball) throws IOException {
      this.tarball = tarball;
      String password = "pw-" + user + "-123456";
      socket = new Socket("127.0.0.1", node.port);
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      out.write(
          ("POST /deployments?project="
                  + project
                  + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                  + "Authorization: "
                  + TestNode.basic(user, password)
                  + "\r\nContent-Type: application/gzip\r\n"
                  + "Transfer-Encoding: chunked\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      chunk(out, tarball, 0, 10);
      out.flush();
    }

    /** Sends the rest and returns the answer's status line. */
    String finish() throws IOException {
      OutputStream out = socket.getOutputStream();
      chunk(out, tarball, 10, tarball.length - 10);
      out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String answer = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      return answer.lines().findFirst().orElse("");
    }

    private static void chunk(OutputStream out, byte[] b, int off, int len) throws IOException {
      out.write((Integer.toHexString(len) + "\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(b, off, len);
      out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  private HttpResponse<String> upload(String user, String project, byte[] tarball) {
    return node.send(
        as(user, "/deployments?project=" + project)
            .header("Content-Type", "application/gzip")
            .POST(HttpRequest.BodyPublishers.ofByteArray(tarball))
            .build());
  }

  private void awaitListed(String project, int count) {
    node.testKit
        .createTestProbe()
        .awaitAssert(
            java.time.Duration.ofSeconds(10),
            () -> {
              assertEquals(count, node.get("/deployments?project=" + project).get("total").asInt());
              return null;
            });
  }

  @Test
  void uploadsPerUserAndPerNodeAreLimitedAndReleasedWhenTheyEnd() throws Exception {
    byte[] tarball = Tarball.builder().file("index.html", "hello").toBytes();
    try (HeldUpload held = new HeldUpload("up1", "limits", tarball)) {
      awaitListed("limits", 1); // the held upload is recorded and holds up1's one slot

      HttpResponse<String> second = upload("up1", "limits", tarball);
      assertEquals(429, second.statusCode(), second.body());
      assertEquals("TOO_MANY_REQUESTS", TestNode.json(second).get("code").asText());
      assertTrue(second.headers().firstValue("Retry-After").isPresent());

      // up2 may upload while up1's is open (node limit 2); its slot is released when done.
      assertEquals(201, upload("up2", "limits", tarball).statusCode());

      assertTrue(held.finish().startsWith("HTTP/1.1 201"), "the held upload completes");
    }
    // up1's slot is free again.
    assertEquals(201, upload("up1", "limits", tarball).statusCode());
    awaitListed("limits", 3); // the refused upload left no record
  }

  /** A rollback may copy a whole payload here: it takes an upload slot like an upload does. */
  @Test
  void aRollbackTakesAnUploadSlot() throws Exception {
    byte[] tarball = Tarball.builder().file("index.html", "slot").toBytes();
    try (HeldUpload held = new HeldUpload("up1", "rollback-slot", tarball)) {
      awaitListed("rollback-slot", 1);
      HttpResponse<String> rollback =
          node.send(
              as("up1", "/deployments")
                  .header("Content-Type", "application/json")
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"project\": \"rollback-slot\", \"rollback_of\": \""
                              + java.util.UUID.randomUUID()
                              + "\"}"))
                  .build());
      assertEquals(429, rollback.statusCode(), rollback.body());
      assertTrue(held.finish().startsWith("HTTP/1.1 201"));
    }
  }

  @Test
  void theNodeLimitHoldsAcrossUsers() throws Exception {
    byte[] tarball = Tarball.builder().file("a", "b").toBytes();
    try (HeldUpload first = new HeldUpload("up2", "node-limit", tarball);
        HeldUpload second = new HeldUpload("up3", "node-limit", tarball)) {
      awaitListed("node-limit", 2);
      HttpResponse<String> third =
          node.send(
              node.request("/deployments?project=node-limit")
                  .header("Content-Type", "application/gzip")
                  .POST(HttpRequest.BodyPublishers.ofByteArray(tarball))
                  .build());
      assertEquals(429, third.statusCode(), third.body());
      assertTrue(TestNode.json(third).get("error").asText().contains("this node"), third.body());
      assertTrue(first.finish().startsWith("HTTP/1.1 201"));
      assertTrue(second.finish().startsWith("HTTP/1.1 201"));
    }
  }

  /**
   * Sixteen uploads held open (each keeps a thread while its bytes arrive) leave sign-ins, lists,
   * health and metrics their own threads: each still answers within 5 s.
   */
  @Test
  void uploadsInProgressDoNotStarveSignInsListsOrHealth(@TempDir Path dir) throws Exception {
    try (TestNode crowded =
        TestNode.start(
            dir.resolve("crowded"),
            "crowded",
            Map.of(
                "deploy.limits.requests-per-second-per-user", 0,
                "deploy.limits.max-concurrent-uploads", 16,
                "deploy.limits.max-concurrent-uploads-per-user", 16))) {
      createUser(crowded, "late");
      byte[] tarball = Tarball.builder().randomFile("data.bin", 100_000, 5).toBytes();
      List<Socket> held = new java.util.ArrayList<>();
      try {
        for (int i = 0; i < 16; i++) {
          Socket socket = new Socket("127.0.0.1", crowded.port);
          held.add(socket);
          OutputStream out = socket.getOutputStream();
          out.write(
              ("POST /deployments?project=crowd HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                      + "Authorization: "
                      + TestNode.basic("admin", TestNode.PASSWORD)
                      + "\r\nContent-Type: application/gzip\r\n"
                      + "Content-Length: "
                      + tarball.length
                      + "\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII));
          out.write(tarball, 0, 1000);
          out.flush();
        }
        crowded
            .testKit
            .createTestProbe()
            .awaitAssert(
                java.time.Duration.ofSeconds(20),
                () -> {
                  assertEquals(
                      16,
                      crowded.node.metrics().registry().scrape().stream()
                          .filter(m -> m.getMetadata().getName().equals("deploy_uploads_in_flight"))
                          .mapToDouble(
                              m ->
                                  ((io.prometheus.metrics.model.snapshots.GaugeSnapshot) m)
                                      .getDataPoints()
                                      .get(0)
                                      .getValue())
                          .sum(),
                      0.0);
                  return null;
                });
        for (String path :
            List.of("/deployments?project=crowd", "/users/late", "/health/ready", "/metrics")) {
          HttpResponse<String> r =
              crowded.send(
                  as(crowded, "late", path).timeout(java.time.Duration.ofSeconds(5)).build());
          assertEquals(200, r.statusCode(), path + ": " + r.body());
        }
      } finally {
        for (Socket s : held) {
          s.close();
        }
      }
    }
  }

  @Test
  void oversizedHeadersAndUrisGetJsonErrors() {
    HttpResponse<String> header =
        node.send(node.request("/projects").header("X-Big", "x".repeat(9000)).build());
    assertEquals(431, header.statusCode(), header.body());
    assertEquals("INVALID_REQUEST", TestNode.json(header).get("code").asText());

    HttpResponse<String> uri =
        node.send(node.request("/deployments?project=" + "a".repeat(9000)).GET().build());
    assertEquals(414, uri.statusCode(), uri.body());
    assertEquals("INVALID_REQUEST", TestNode.json(uri).get("code").asText());
    assertEquals(
        200,
        node.send(HttpRequest.newBuilder(URI.create(node.url("/health/alive"))).build())
            .statusCode());
  }
}
