package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.testkit.BadInputCorpus;
import dev.deployrt.testkit.FileTrees;
import dev.deployrt.testkit.RawHttp;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs every case of the {@link BadInputCorpus} against one live node, over a raw socket: the
 * answer has the documented status and code; a case that must be on record left a failed deployment
 * with that code, one that must not left none; the node still serves; and the data directory (the
 * embedded database aside) is exactly as it was: no blob, no staging file, no release, no project
 * directory.
 */
@Tag("database")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BadInputCorpusTest {
  private TestNode node;
  private String userToken;
  private String revokedToken;
  private List<String> treeBefore;

  /** Deployments the corpus left on record, checked against the read model at the end. */
  private final List<String> recordedIds = new java.util.concurrent.CopyOnWriteArrayList<>();

  @BeforeAll
  void start(@TempDir Path dir) {
    node = TestNode.start(dir, "node-1", BadInputCorpus.NODE_SETTINGS);
    HttpResponse<String> viewer =
        node.send(
            node.request("/users")
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"name\":\"viewer\",\"role\":\"viewer\",\"password\":\"pw-viewer-123456\"}"))
                .build());
    assertEquals(201, viewer.statusCode(), viewer.body());
    userToken = newToken().get("token").asText();
    JsonNode revoked = newToken();
    revokedToken = revoked.get("token").asText();
    HttpResponse<String> revoke =
        node.send(node.request("/tokens/" + revoked.get("id").asText()).DELETE().build());
    assertEquals(204, revoke.statusCode(), revoke.body());
    treeBefore = dataTree();
  }

  @AfterAll
  void stop() {
    node.close();
  }

  /** A new token of the admin's: {"id", ..., "token": secret}. */
  private JsonNode newToken() {
    HttpResponse<String> r =
        node.send(
            node.request("/tokens")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"description\":\"corpus\"}"))
                .build());
    assertEquals(201, r.statusCode(), r.body());
    return TestNode.json(r);
  }

  static Stream<BadInputCorpus.Case> corpus() {
    return BadInputCorpus.cases().stream();
  }

  @Order(1)
  @ParameterizedTest(name = "{0}")
  @MethodSource("corpus")
  void everyCaseGetsItsDocumentedAnswerAndLeavesNothingBehind(BadInputCorpus.Case c)
      throws Exception {
    RawHttp.Answer answer = send(c);
    assertEquals(c.status(), answer.status(), c.name() + ": " + answer.body());
    JsonNode body = ApiJson.MAPPER.readTree(answer.body());
    assertEquals(c.code(), body.path("code").asText(), answer.body());
    assertNotNull(body.get("error"), "an error sentence: " + answer.body());

    if (c.recorded()) {
      String id = body.path("deployment_id").asText(null);
      assertNotNull(id, "the attempt is on record: " + answer.body());
      JsonNode d = node.get("/deployments/" + id);
      assertEquals("failed", d.get("status").asText(), d.toPrettyString());
      assertEquals(c.code(), d.get("error").get("code").asText(), d.toPrettyString());
      assertEquals("admin", d.get("user").asText());
      recordedIds.add(id);
    } else {
      assertNull(body.get("deployment_id"), "refused before any record: " + answer.body());
    }

    assertEquals(
        200,
        node.send(HttpRequest.newBuilder(URI.create(node.url("/health/alive"))).build())
            .statusCode());
    assertEquals(
        200, node.send(node.request("/projects").build()).statusCode(), "the node still serves");
    node.testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(10),
            () -> {
              assertEquals(treeBefore, dataTree(), "nothing left in the data directory");
              return null;
            });
  }

  /**
   * Every failed attempt reaches the read model too: a record without a valid project must not
   * stall it.
   */
  @Order(2)
  @Test
  void everyRecordedAttemptIsListed() {
    assertTrue(recordedIds.size() > 50, "the corpus ran first: " + recordedIds.size());
    node.testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(20),
            () -> {
              java.util.Set<String> listed = new java.util.HashSet<>();
              for (JsonNode item :
                  node.get("/deployments?status=failed&limit=1000").get("deployments")) {
                listed.add(item.get("deployment_id").asText());
              }
              assertTrue(
                  listed.containsAll(recordedIds),
                  "listed: " + listed.size() + " of " + recordedIds.size());
              return null;
            });
  }

  /** The data directory without the embedded database, which changes with every record. */
  private List<String> dataTree() {
    return FileTrees.list(node.dataDir).stream()
        .filter(p -> !p.equals("db") && !p.startsWith("db/"))
        .toList();
  }

  private String authorization(BadInputCorpus.Credentials credentials) {
    return switch (credentials) {
      case ADMIN -> TestNode.basic("admin", TestNode.PASSWORD);
      case VIEWER -> TestNode.basic("viewer", "pw-viewer-123456");
      case NONE -> null;
      case WRONG_PASSWORD -> TestNode.basic("admin", "not-the-password");
      case REVOKED_TOKEN -> "Bearer " + revokedToken;
      case USER_TOKEN -> "Bearer " + userToken;
    };
  }

  /**
   * Writes the case's bytes (on another thread, so an early answer is read while it writes) and
   * reads the answer.
   */
  private RawHttp.Answer send(BadInputCorpus.Case c) throws Exception {
    byte[] request = c.request(authorization(c.credentials()));
    try (Socket socket = new Socket("127.0.0.1", node.port)) {
      socket.setSoTimeout(60_000);
      OutputStream out = socket.getOutputStream();
      CompletableFuture<Void> writing =
          CompletableFuture.runAsync(
              () -> {
                try {
                  out.write(request);
                  out.flush();
                  if (c.ending() == BadInputCorpus.Ending.HALF_CLOSE) {
                    socket.shutdownOutput();
                  }
                } catch (IOException e) {
                  // the node answered and closed before reading everything: the answer is what
                  // counts
                }
              });
      RawHttp.Answer answer = RawHttp.read(socket.getInputStream());
      writing.join();
      return answer;
    }
  }
}
