package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.testkit.TestDatabase;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Users and tokens live in the shared database, and a change on one node reaches the others' caches
 * within about a second (the credentials epoch they read from the database), also on a node that
 * has only just joined: well inside the 30 s a cached credential would otherwise live.
 */
@Tag("database")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CredentialsAcrossNodesTest {
  /** Much shorter than the cache's 30 s: passing proves the change was noticed, not waited out. */
  private static final Duration PROPAGATION = Duration.ofSeconds(5);

  private Path dir;
  private Map<String, Object> settings;
  private TestNode first;
  private TestNode second;

  @BeforeAll
  void start(@TempDir Path dir) {
    this.dir = dir;
    settings = new HashMap<>(TestDatabase.shared("credentials"));
    first = TestNode.start(dir.resolve("node-1"), "node-1", settings);
    settings.put("deploy.cluster.seed-nodes", first.clusterHostPort());
    second = TestNode.start(dir.resolve("node-2"), "node-2", settings);
    first
        .testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(30),
            () -> {
              assertEquals(2, first.get("/cluster/nodes").get("nodes").size());
              return null;
            });
  }

  /**
   * Makes a token on {@code from}, uses it on {@code to} (cached there), revokes it on {@code from}
   * and waits until {@code to} refuses it (401) within PROPAGATION.
   */
  private static void revokeTokenAndAwaitRejection(TestNode from, TestNode to) {
    HttpResponse<String> created =
        from.send(
            from.request("/tokens")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"description\":\"ci\"}"))
                .build());
    assertEquals(201, created.statusCode(), created.body());
    JsonNode token = TestNode.json(created);
    String bearer = "Bearer " + token.get("token").asText();
    assertEquals(
        200,
        status(to, bearer),
        "a token made on one node works on the other (and is now cached there)");

    HttpResponse<String> revoked =
        from.send(from.request("/tokens/" + token.get("id").asText()).DELETE().build());
    assertEquals(204, revoked.statusCode(), revoked.body());
    awaitStatus(to, bearer, 401);
  }

  @AfterAll
  void stop() {
    second.close();
    first.close();
  }

  private static int status(TestNode node, String authorization) {
    return node.send(
            HttpRequest.newBuilder(URI.create(node.url("/projects")))
                .header("Authorization", authorization)
                .build())
        .statusCode();
  }

  private static void awaitStatus(TestNode node, String authorization, int expected) {
    node.testKit
        .createTestProbe()
        .awaitAssert(
            PROPAGATION,
            Duration.ofMillis(100),
            () -> {
              assertEquals(expected, status(node, authorization));
              return null;
            });
  }

  @Test
  void aTokenRevokedOnOneNodeStopsWorkingOnTheOther() {
    revokeTokenAndAwaitRejection(first, second);
    revokeTokenAndAwaitRejection(second, first);
  }

  /**
   * The change comes as soon as a third node is up, before the cluster's gossip and receptionist
   * have settled around it (where a pub-sub announcement could be lost): the epoch in the database
   * does not depend on membership.
   */
  @Test
  void aTokenRevokedRightAfterANodeStartedStopsWorkingThere() {
    try (TestNode third = TestNode.start(dir.resolve("node-3"), "node-3", settings)) {
      revokeTokenAndAwaitRejection(first, third);
    }
  }

  @Test
  void aPasswordChangeAndADeletedUserTakeEffectOnEveryNode() {
    HttpResponse<String> created =
        first.send(
            first
                .request("/users")
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"name\":\"ops\",\"role\":\"viewer\",\"password\":\"first-password-1\"}"))
                .build());
    assertEquals(201, created.statusCode(), created.body());
    String oldPassword = TestNode.basic("ops", "first-password-1");
    assertEquals(200, status(second, oldPassword));

    HttpResponse<String> changed =
        second.send(
            second
                .request("/users/ops")
                .header("Content-Type", "application/json")
                .method(
                    "PATCH",
                    HttpRequest.BodyPublishers.ofString("{\"password\":\"second-password-2\"}"))
                .build());
    assertEquals(200, changed.statusCode(), changed.body());
    awaitStatus(first, oldPassword, 401);
    String newPassword = TestNode.basic("ops", "second-password-2");
    assertEquals(200, status(first, newPassword));

    assertEquals(204, second.send(second.request("/users/ops").DELETE().build()).statusCode());
    awaitStatus(first, newPassword, 401);
  }
}
