package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.testkit.Tarball;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Users, roles and API tokens (issue 6) against a live node: who may do what, and as whom it is
 * recorded.
 */
@Tag("database")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AccountsApiTest {
  private static final String GOOD_PASSWORD = "correct horse battery";
  private TestNode node;

  @BeforeAll
  void start(@TempDir Path dir) {
    node = TestNode.start(dir.resolve("node"), "node-1", Map.of());
  }

  @AfterAll
  void stop() {
    node.close();
  }

  private static String unique(String prefix) {
    return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private HttpResponse<String> asAdmin(String method, String path, String json) {
    return node.send(
        node.request(path)
            .header("Content-Type", "application/json")
            .method(
                method,
                json == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(json))
            .build());
  }

  private HttpResponse<String> as(String authorization, String method, String path, String json) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(java.net.URI.create(node.url(path)))
            .method(
                method,
                json == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(json))
            .header("Content-Type", "application/json");
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return node.send(b.build());
  }

  private HttpResponse<String> deployAs(String authorization, String project) {
    byte[] payload =
        Tarball.builder().file("index.html", project + " " + UUID.randomUUID()).toBytes();
    return node.send(
        HttpRequest.newBuilder(java.net.URI.create(node.url("/deployments?project=" + project)))
            .header("Authorization", authorization)
            .header("Content-Type", "application/gzip")
            .POST(HttpRequest.BodyPublishers.ofByteArray(payload))
            .build());
  }

  private String createUser(String role) {
    String name = unique(role);
    HttpResponse<String> r =
        asAdmin(
            "POST",
            "/users",
            "{\"name\":\""
                + name
                + "\",\"role\":\""
                + role
                + "\",\"password\":\""
                + GOOD_PASSWORD
                + "\"}");
    assertEquals(201, r.statusCode(), r.body());
    JsonNode u = TestNode.json(r);
    assertEquals(name, u.get("name").asText());
    assertEquals(role, u.get("role").asText());
    assertEquals("admin", u.get("created_by").asText());
    assertEquals("/users/" + name, r.headers().firstValue("Location").orElseThrow());
    assertFalse(
        r.body().contains(GOOD_PASSWORD) || r.body().contains("argon2"),
        "no password or hash in answers");
    return name;
  }

  private static void assertError(HttpResponse<String> r, int status, String code) {
    assertEquals(status, r.statusCode(), r.body());
    assertEquals(code, TestNode.json(r).get("code").asText(), r.body());
  }

  @Test
  void rolesDecideWhoDeploysAndTheRecordNamesTheAuthenticatedUser() {
    String deployer = createUser("deployer");
    String viewer = createUser("viewer");
    HttpResponse<String> deployed = deployAs(TestNode.basic(deployer, GOOD_PASSWORD), "roles");
    assertEquals(201, deployed.statusCode(), deployed.body());
    assertEquals(deployer, TestNode.json(deployed).get("user").asText());

    assertError(deployAs(TestNode.basic(viewer, GOOD_PASSWORD), "roles"), 403, "FORBIDDEN");
    assertEquals(
        200,
        as(TestNode.basic(viewer, GOOD_PASSWORD), "GET", "/deployments?project=roles", null)
            .statusCode());
    assertError(as(TestNode.basic(viewer, GOOD_PASSWORD), "GET", "/users", null), 403, "FORBIDDEN");
    assertError(
        as(TestNode.basic(deployer, GOOD_PASSWORD), "POST", "/tokens", "{}"), 403, "FORBIDDEN");
    assertError(
        deployAs(TestNode.basic(deployer, "wrong password!"), "roles"), 401, "UNAUTHORIZED");
    assertError(
        deployAs(TestNode.basic("nobody-" + UUID.randomUUID(), GOOD_PASSWORD), "roles"),
        401,
        "UNAUTHORIZED");

    JsonNode list = TestNode.json(asAdmin("GET", "/users", null));
    assertTrue(
        list.get("users")
            .findValuesAsText("name")
            .containsAll(java.util.List.of("admin", deployer, viewer)));
  }

  @Test
  void aTokenActsAsItsUserUntilRevoked() {
    String deployer = createUser("deployer");
    HttpResponse<String> created =
        asAdmin(
            "POST", "/tokens", "{\"user\":\"" + deployer + "\",\"description\":\"ci pipeline\"}");
    assertEquals(201, created.statusCode(), created.body());
    JsonNode t = TestNode.json(created);
    String secret = t.get("token").asText();
    String id = t.get("id").asText();
    assertTrue(secret.startsWith("dpt_"), secret);
    assertEquals(deployer, t.get("user").asText());

    HttpResponse<String> deployed = deployAs("Bearer " + secret, "tokens");
    assertEquals(201, deployed.statusCode(), deployed.body());
    assertEquals(deployer, TestNode.json(deployed).get("user").asText());

    String listed = asAdmin("GET", "/tokens", null).body();
    assertTrue(listed.contains(id) && !listed.contains(secret), "listed without the secret");

    assertEquals(204, asAdmin("DELETE", "/tokens/" + id, null).statusCode());
    assertError(deployAs("Bearer " + secret, "tokens"), 401, "UNAUTHORIZED");
    assertEquals(
        204, asAdmin("DELETE", "/tokens/" + id, null).statusCode(), "revoking again is harmless");
    assertError(asAdmin("DELETE", "/tokens/" + UUID.randomUUID(), null), 404, "NOT_FOUND");
    JsonNode revoked =
        TestNode.json(asAdmin("GET", "/tokens", null)).get("tokens").findParents("id").stream()
            .filter(n -> n.get("id").asText().equals(id))
            .findFirst()
            .orElseThrow();
    assertEquals("admin", revoked.get("revoked_by").asText());
    assertFalse(revoked.get("active").asBoolean());

    assertError(deployAs("Bearer dpt_" + "A".repeat(43), "tokens"), 401, "UNAUTHORIZED");
    assertError(deployAs("Bearer not-even-a-token", "tokens"), 401, "UNAUTHORIZED");
  }

  @Test
  void theClusterSecretIsNoUserCredential() throws Exception {
    String secret = node.node.clusterSecret().toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertError(deployAs("Cluster " + secret, "secret"), 401, "UNAUTHORIZED");
    assertError(deployAs("Bearer " + secret, "secret"), 401, "UNAUTHORIZED");
    assertError(as("Cluster " + secret, "GET", "/users", null), 401, "UNAUTHORIZED");
  }

  @Test
  void aUserChangesTheirOwnPasswordAndTheOldOneStopsWorking() {
    String viewer = createUser("viewer");
    String newPassword = "another long password";
    assertError(
        as(
            TestNode.basic(viewer, GOOD_PASSWORD),
            "PATCH",
            "/users/" + viewer,
            "{\"role\":\"admin\"}"),
        403,
        "FORBIDDEN");
    HttpResponse<String> changed =
        as(
            TestNode.basic(viewer, GOOD_PASSWORD),
            "PATCH",
            "/users/" + viewer,
            "{\"password\":\""
                + newPassword
                + "\",\"current_password\":\""
                + GOOD_PASSWORD
                + "\"}");
    assertEquals(200, changed.statusCode(), changed.body());
    assertError(
        as(TestNode.basic(viewer, GOOD_PASSWORD), "GET", "/users/" + viewer, null),
        401,
        "UNAUTHORIZED");
    assertEquals(
        200, as(TestNode.basic(viewer, newPassword), "GET", "/users/" + viewer, null).statusCode());
    assertError(
        as(TestNode.basic(viewer, newPassword), "GET", "/users/admin", null), 403, "FORBIDDEN");
  }

  /** A leaked token (or an unattended session) must not be enough to take an account over. */
  @Test
  void changingOnesOwnPasswordNeedsTheCurrentOne() {
    String deployer = createUser("deployer");
    String token =
        TestNode.json(asAdmin("POST", "/tokens", "{\"user\":\"" + deployer + "\"}"))
            .get("token")
            .asText();
    String next = "a password of my own choosing";
    HttpResponse<String> none =
        as("Bearer " + token, "PATCH", "/users/" + deployer, "{\"password\":\"" + next + "\"}");
    assertError(none, 400, "INVALID_REQUEST");
    assertEquals("current_password", TestNode.json(none).get("field").asText());
    HttpResponse<String> wrong =
        as(
            "Bearer " + token,
            "PATCH",
            "/users/" + deployer,
            "{\"password\":\"" + next + "\",\"current_password\":\"a guess of the attacker\"}");
    assertError(wrong, 403, "FORBIDDEN");
    assertEquals(
        200,
        as(TestNode.basic(deployer, GOOD_PASSWORD), "GET", "/users/" + deployer, null).statusCode(),
        "the password is unchanged");
    HttpResponse<String> ok =
        as(
            "Bearer " + token,
            "PATCH",
            "/users/" + deployer,
            "{\"password\":\"" + next + "\",\"current_password\":\"" + GOOD_PASSWORD + "\"}");
    assertEquals(200, ok.statusCode(), ok.body());
    assertEquals(
        200, as(TestNode.basic(deployer, next), "GET", "/users/" + deployer, null).statusCode());

    // An admin's own password too; another user's needs only the admin's role.
    assertError(
        asAdmin("PATCH", "/users/admin", "{\"password\":\"" + next + "\"}"),
        400,
        "INVALID_REQUEST");
    HttpResponse<String> reset =
        asAdmin("PATCH", "/users/" + deployer, "{\"password\":\"" + GOOD_PASSWORD + "\"}");
    assertEquals(200, reset.statusCode(), reset.body());
  }

  @Test
  void deletingAUserRevokesTheirTokensAndTheLastAdminStays() {
    String deployer = createUser("deployer");
    String secret =
        TestNode.json(asAdmin("POST", "/tokens", "{\"user\":\"" + deployer + "\"}"))
            .get("token")
            .asText();
    assertEquals(201, deployAs("Bearer " + secret, "deleted").statusCode());
    assertEquals(204, asAdmin("DELETE", "/users/" + deployer, null).statusCode());
    assertError(deployAs("Bearer " + secret, "deleted"), 401, "UNAUTHORIZED");
    assertError(deployAs(TestNode.basic(deployer, GOOD_PASSWORD), "deleted"), 401, "UNAUTHORIZED");
    assertError(asAdmin("DELETE", "/users/" + deployer, null), 404, "NOT_FOUND");

    assertError(asAdmin("DELETE", "/users/admin", null), 409, "CONFLICT");
    assertError(asAdmin("PATCH", "/users/admin", "{\"role\":\"viewer\"}"), 409, "CONFLICT");
    String second = createUser("admin");
    HttpResponse<String> demoted =
        as(
            TestNode.basic(second, GOOD_PASSWORD),
            "PATCH",
            "/users/" + second,
            "{\"role\":\"deployer\"}");
    assertEquals(
        200, demoted.statusCode(), "an admin may demote themself while another admin exists");
    assertEquals("deployer", TestNode.json(demoted).get("role").asText());
  }

  @Test
  void adminsDeletedAtOnceAreDeletedOneAfterTheOther() {
    // Each delete's last-admin check needs the other admins' rows locked: taken in one order,
    // before the target's own row, two deletes at once run one after the other (before: each held
    // the row the other needed, a deadlock in the database, and one got 503).
    for (int round = 0; round < 10; round++) {
      String first = createUser("admin");
      String second = createUser("admin");
      List<CompletableFuture<HttpResponse<String>>> deletes =
          Stream.of(first, second)
              .map(
                  name ->
                      node.client.sendAsync(
                          node.request("/users/" + name).DELETE().build(),
                          HttpResponse.BodyHandlers.ofString()))
              .toList();
      for (CompletableFuture<HttpResponse<String>> delete : deletes) {
        HttpResponse<String> r = delete.orTimeout(30, TimeUnit.SECONDS).join();
        assertEquals(204, r.statusCode(), "round " + round + ": " + r.body());
      }
      assertError(asAdmin("GET", "/users/" + first, null), 404, "NOT_FOUND");
      assertError(asAdmin("GET", "/users/" + second, null), 404, "NOT_FOUND");
    }
    assertError(asAdmin("DELETE", "/users/admin", null), 409, "CONFLICT");
  }

  @Test
  void badBodiesAreRefusedNamingTheField() {
    String name = unique("bad");
    record Case(String method, String path, String body, String field) {}
    for (Case c :
        new Case[] {
          new Case(
              "POST",
              "/users",
              "{\"name\":\"" + name + "\",\"role\":\"viewer\",\"password\":\"short\"}",
              "password"),
          new Case(
              "POST",
              "/users",
              "{\"name\":\"Bad Name\",\"role\":\"viewer\",\"password\":\"" + GOOD_PASSWORD + "\"}",
              "name"),
          new Case(
              "POST",
              "/users",
              "{\"name\":\""
                  + name
                  + "\",\"role\":\"root\",\"password\":\""
                  + GOOD_PASSWORD
                  + "\"}",
              "role"),
          new Case(
              "POST",
              "/users",
              "{\"name\":\""
                  + name
                  + "\",\"role\":\"viewer\",\"password\":\""
                  + GOOD_PASSWORD
                  + "\",\"created_by\":\"mallory\"}",
              "created_by"),
          new Case(
              "POST",
              "/users",
              "{\"name\":\""
                  + name
                  + "\",\"role\":\"viewer\",\"password\":\""
                  + GOOD_PASSWORD
                  + "\",\"_admin\":true}",
              "_admin"),
          new Case(
              "POST",
              "/users",
              "{\"role\":\"viewer\",\"password\":\"" + GOOD_PASSWORD + "\"}",
              "name"),
          new Case(
              "POST",
              "/users",
              "{\"name\":7,\"role\":\"viewer\",\"password\":\"" + GOOD_PASSWORD + "\"}",
              "name"),
          new Case("POST", "/tokens", "{\"expires_at\":\"2000-01-01T00:00:00Z\"}", "expires_at"),
          new Case("POST", "/tokens", "{\"expires_at\":\"tomorrow\"}", "expires_at"),
          new Case("POST", "/tokens", "{\"token\":\"dpt_chosen\"}", "token"),
          new Case("PATCH", "/users/admin", "{\"name\":\"root\"}", "name")
        }) {
      HttpResponse<String> r = asAdmin(c.method(), c.path(), c.body());
      assertError(r, 400, "INVALID_REQUEST");
      assertEquals(c.field(), TestNode.json(r).get("field").asText(), c.body());
    }
    assertError(asAdmin("POST", "/users", "not json"), 400, "INVALID_REQUEST");
    assertError(asAdmin("POST", "/users", "[1,2]"), 400, "INVALID_REQUEST");
    assertError(
        asAdmin("POST", "/tokens", "{\"user\":\"nobody-" + UUID.randomUUID() + "\"}"),
        404,
        "NOT_FOUND");
    String existing = createUser("viewer");
    assertError(
        asAdmin(
            "POST",
            "/users",
            "{\"name\":\""
                + existing
                + "\",\"role\":\"viewer\",\"password\":\""
                + GOOD_PASSWORD
                + "\"}"),
        409,
        "CONFLICT");
    JsonNode users = TestNode.json(asAdmin("GET", "/users", null));
    assertFalse(
        users.get("users").findValuesAsText("name").contains(name), "no refused user was created");
  }
}
