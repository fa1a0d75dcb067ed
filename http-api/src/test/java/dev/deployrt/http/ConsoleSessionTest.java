package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.testkit.Tarball;
import dev.deployrt.testkit.TestDatabase;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web console's sessions (API.md, "Web console") on a 2-node cluster sharing one database: the
 * cookie's attributes, a session opened on one node good on the other (the second node's sessions
 * last 4 s), the {@code X-Requested-With: deploy-console} header required for every change made
 * with the cookie, sign-out, and sessions ended by a new password, by deleting the user and by
 * their expiry — on both nodes. The second node marks its cookie {@code Secure} ({@code
 * session-cookie-secure = on}, as behind a TLS-terminating proxy).
 */
@Tag("database")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleSessionTest {
  private static final String CONSOLE = "deploy-console";
  private final Map<String, Object> database = TestDatabase.shared("sessions");
  private TestNode first;
  private TestNode second;

  @BeforeAll
  void startTwoNodes(@TempDir Path dir) {
    first = start(dir, "node-1", null);
    second = start(dir, "node-2", first.clusterHostPort());
    first.awaitMembersUp(2);
    second.awaitMembersUp(2);
  }

  private TestNode start(Path dir, String name, String seed) {
    Map<String, Object> settings = new HashMap<>(database);
    if (seed != null) {
      // Sessions opened on the second node are short, to see them expire; it stands behind a
      // TLS-terminating proxy, so its cookie is Secure.
      settings.put("deploy.http.session-ttl", "4s");
      settings.put("deploy.http.session-cookie-secure", "on");
      settings.put("deploy.cluster.seed-nodes", seed);
    }
    return TestNode.start(dir.resolve(name), name, settings);
  }

  @AfterAll
  void stop() {
    if (second != null) {
      second.close();
    }
    if (first != null) {
      first.close();
    }
  }

  private static HttpRequest.Builder plain(TestNode node, String path) {
    return HttpRequest.newBuilder(URI.create(node.url(path))).timeout(Duration.ofSeconds(30));
  }

  private static HttpResponse<String> signIn(TestNode node, String user, String password) {
    return node.send(
        plain(node, "/session")
            .header("Content-Type", "application/json")
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    "{\"user\":\"" + user + "\",\"password\":\"" + password + "\"}"))
            .build());
  }

  /** Signs in and returns the cookie pair ({@code deploy_session=...}). */
  private static String session(TestNode node, String user, String password) {
    HttpResponse<String> r = signIn(node, user, password);
    assertEquals(204, r.statusCode(), r.body());
    String setCookie = r.headers().firstValue("Set-Cookie").orElseThrow();
    return setCookie.substring(0, setCookie.indexOf(';'));
  }

  private static HttpResponse<String> getWith(TestNode node, String cookie, String path) {
    return node.send(plain(node, path).header("Cookie", cookie).GET().build());
  }

  private static HttpResponse<String> deployWith(
      TestNode node, String cookie, String project, boolean consoleHeader) {
    HttpRequest.Builder b =
        plain(node, "/deployments?project=" + project)
            .header("Cookie", cookie)
            .header("Content-Type", "application/gzip")
            .POST(
                HttpRequest.BodyPublishers.ofByteArray(
                    Tarball.builder().file("index.html", "hello").toBytes()));
    if (consoleHeader) {
      b.header("X-Requested-With", CONSOLE);
    }
    return node.send(b.build());
  }

  /** Polls (every 100 ms, no fixed sleep) until the cookie is refused on {@code node}. */
  private static void awaitRefused(TestNode node, String cookie) {
    node.testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(10),
            Duration.ofMillis(100),
            () -> {
              HttpResponse<String> r = getWith(node, cookie, "/deployments?limit=1");
              assertEquals(401, r.statusCode(), "still works on " + node.node.nodeName());
              assertEquals(
                  "Session realm=\"deploy\"",
                  r.headers().firstValue("WWW-Authenticate").orElseThrow(),
                  "a browser must not be offered Basic (it would show its own password prompt)");
              assertEquals("POST /session", TestNode.json(r).get("sign_in").asText());
              assertFalse(
                  TestNode.json(getWith(node, cookie, "/session")).get("signed_in").asBoolean());
              return null;
            });
  }

  @Test
  void signInSetsAStrictHttpOnlyCookieGoodOnEveryNode() {
    HttpResponse<String> r = signIn(first, "admin", TestNode.PASSWORD);
    assertEquals(204, r.statusCode(), r.body());
    String setCookie = r.headers().firstValue("Set-Cookie").orElseThrow();
    assertTrue(setCookie.startsWith("deploy_session=dps_"), setCookie);
    for (String attribute : List.of("HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200")) {
      assertTrue(setCookie.contains(attribute), attribute + " in " + setCookie);
    }
    assertFalse(setCookie.contains("Secure"), "plain HTTP: not Secure, " + setCookie);
    String cookie = setCookie.substring(0, setCookie.indexOf(';'));

    for (TestNode node : List.of(first, second)) {
      JsonNode me = TestNode.json(getWith(node, cookie, "/session"));
      assertTrue(me.get("signed_in").asBoolean(), me.toString());
      assertEquals("admin", me.get("user").asText());
      assertEquals("admin", me.get("role").asText());
      assertEquals(200, getWith(node, cookie, "/deployments").statusCode());
    }
  }

  @Test
  void aWrongPasswordIsRefusedWithoutABasicChallenge() {
    HttpResponse<String> r = signIn(first, "admin", "not-the-password");
    assertEquals(401, r.statusCode());
    assertEquals("UNAUTHORIZED", TestNode.json(r).get("code").asText());
    assertEquals("Session realm=\"deploy\"", r.headers().firstValue("WWW-Authenticate").get());
    assertTrue(r.headers().firstValue("Set-Cookie").isEmpty());
    HttpResponse<String> unknown =
        first.send(
            plain(first, "/session")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"user\":\"admin\",\"role\":\"x\"}"))
                .build());
    assertEquals(400, unknown.statusCode(), "an unknown field is refused");
    assertEquals("INVALID_REQUEST", TestNode.json(unknown).get("code").asText());
    assertFalse(
        TestNode.json(first.send(plain(first, "/session").GET().build()))
            .get("signed_in")
            .asBoolean());
  }

  @Test
  void aChangeWithTheCookieNeedsTheConsoleHeader() {
    first.createUser("dora", "deployer", "dora-password-1");
    String cookie = session(first, "dora", "dora-password-1");
    String project = "csrf-" + UUID.randomUUID().toString().substring(0, 8);

    HttpResponse<String> forged = deployWith(first, cookie, project, false);
    assertEquals(403, forged.statusCode(), forged.body());
    assertEquals("FORBIDDEN", TestNode.json(forged).get("code").asText());
    assertTrue(TestNode.json(forged).get("error").asText().contains("X-Requested-With"));
    assertEquals(
        0,
        first.get("/deployments?project=" + project).get("total").asInt(),
        "a refused forgery leaves no record");
    // An admin's cookie, for a change the role allows: refused for the missing header alone.
    String admin = session(first, "admin", TestNode.PASSWORD);
    HttpResponse<String> settings =
        first.send(
            plain(first, "/projects/" + project + "/settings")
                .header("Cookie", admin)
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"keep_releases\": 3}"))
                .build());
    assertEquals(403, settings.statusCode(), settings.body());
    assertTrue(TestNode.json(settings).get("error").asText().contains("X-Requested-With"));
    assertEquals(5, first.get("/projects/" + project + "/settings").get("keep_releases").asInt());

    HttpResponse<String> real = deployWith(first, cookie, project, true);
    assertEquals(201, real.statusCode(), real.body());
    assertEquals("dora", TestNode.json(real).get("user").asText(), "the user is the session's");
    assertEquals("succeeded", TestNode.json(real).get("status").asText());

    // Basic and Bearer callers (scripts, the CLI) need no such header.
    assertEquals(
        201,
        first
            .deployRaw("project=" + project, Tarball.builder().file("a", "b").toBytes())
            .statusCode());
  }

  @Test
  void signingOutEndsTheSessionOnEveryNode() {
    String cookie = session(first, "admin", TestNode.PASSWORD);
    HttpResponse<String> forged =
        first.send(plain(first, "/session").header("Cookie", cookie).DELETE().build());
    assertEquals(403, forged.statusCode(), "signing out is a change: it needs the header too");
    assertEquals(200, getWith(second, cookie, "/deployments?limit=1").statusCode());

    HttpResponse<String> out =
        second.send(
            plain(second, "/session")
                .header("Cookie", cookie)
                .header("X-Requested-With", CONSOLE)
                .DELETE()
                .build());
    assertEquals(204, out.statusCode(), out.body());
    String cleared = out.headers().firstValue("Set-Cookie").orElseThrow();
    assertTrue(cleared.startsWith("deploy_session=;") && cleared.contains("Max-Age=0"), cleared);
    awaitRefused(second, cookie);
    awaitRefused(first, cookie);
  }

  @Test
  void aNewPasswordOrDeletingTheUserEndsTheirSessions() {
    first.createUser("paul", "viewer", "paul-password-1");
    String paul = session(first, "paul", "paul-password-1");
    first.createUser("gina", "viewer", "gina-password-1");
    String gina = session(first, "gina", "gina-password-1");
    assertEquals(200, getWith(second, paul, "/projects").statusCode());
    assertEquals(200, getWith(first, gina, "/projects").statusCode());

    HttpResponse<String> changed =
        first.send(
            first
                .request("/users/paul")
                .header("Content-Type", "application/json")
                .method(
                    "PATCH",
                    HttpRequest.BodyPublishers.ofString("{\"password\":\"paul-new-pw-2\"}"))
                .build());
    assertEquals(200, changed.statusCode(), changed.body());
    awaitRefused(first, paul);
    awaitRefused(second, paul);
    assertEquals(200, getWith(second, gina, "/projects").statusCode(), "others keep theirs");

    HttpResponse<String> deleted = second.send(second.request("/users/gina").DELETE().build());
    assertEquals(204, deleted.statusCode(), deleted.body());
    awaitRefused(second, gina);
    awaitRefused(first, gina);
  }

  @Test
  void aSessionExpires() {
    HttpResponse<String> r = signIn(second, "admin", TestNode.PASSWORD);
    String setCookie = r.headers().firstValue("Set-Cookie").orElseThrow();
    assertTrue(setCookie.contains("Max-Age=4"), setCookie);
    assertTrue(setCookie.contains("; Secure"), "session-cookie-secure = on: " + setCookie);
    String cookie = setCookie.substring(0, setCookie.indexOf(';'));
    JsonNode me = TestNode.json(getWith(first, cookie, "/session"));
    long left =
        java.time.Instant.parse(me.get("expires_at").asText()).toEpochMilli()
            - System.currentTimeMillis();
    assertTrue(left > 0 && left <= 4_000, "expires within the 4 s ttl: " + left);
    awaitRefused(second, cookie);
    awaitRefused(first, cookie);
  }

  @Test
  void aViewerSessionMayNotDeploy() {
    first.createUser("vera", "viewer", "vera-password-1");
    String cookie = session(first, "vera", "vera-password-1");
    HttpResponse<String> r = deployWith(first, cookie, "viewer-try", true);
    assertEquals(403, r.statusCode(), r.body());
    assertEquals(0, first.get("/deployments?project=viewer-try").get("total").asInt());
  }

  @Test
  void theConsoleIsServedFromTheJarUnderAStrictPolicy() {
    for (TestNode node : List.of(first, second)) {
      HttpResponse<String> page = node.send(plain(node, "/").GET().build());
      assertEquals(200, page.statusCode());
      assertTrue(page.headers().firstValue("Content-Type").orElseThrow().startsWith("text/html"));
      assertTrue(page.body().contains("/console/app.js"), page.body());
      String policy = page.headers().firstValue("Content-Security-Policy").orElseThrow();
      assertTrue(policy.contains("script-src 'self'") && policy.contains("default-src 'none'"));
      assertFalse(policy.contains("unsafe-inline"), policy);
      assertEquals("nosniff", page.headers().firstValue("X-Content-Type-Options").orElseThrow());
      assertFalse(page.body().contains("<script>"), "no inline script");

      HttpResponse<String> module =
          node.send(plain(node, "/console/views/deployment.js").GET().build());
      assertEquals(200, module.statusCode());
      assertTrue(
          module.headers().firstValue("Content-Type").orElseThrow().contains("javascript"),
          "module scripts need a JavaScript type under nosniff");
      assertTrue(module.headers().firstValue("Content-Security-Policy").isPresent());
    }
    for (String path :
        List.of(
            "/console/no-such.js",
            "/console/../reference.conf",
            "/console/%2e%2e/reference.conf",
            "/console/..%2freference.conf")) {
      HttpResponse<String> r = first.send(plain(first, path).GET().build());
      assertTrue(r.statusCode() == 404 || r.statusCode() == 400, path + " → " + r.statusCode());
      assertFalse(r.body().contains("deploy {"), path + " serves no other resource");
    }
  }

  @Test
  void aChangeSentFromAnotherSitesPageIsRefusedWhateverItsCredentials() {
    String project = "cross-" + UUID.randomUUID().toString().substring(0, 8);
    byte[] payload = Tarball.builder().file("a", "b").toBytes();
    for (String site : List.of("cross-site", "same-site")) {
      HttpResponse<String> r =
          first.send(
              first
                  .request("/deployments?project=" + project)
                  .header("Content-Type", "application/gzip")
                  .header("Sec-Fetch-Site", site)
                  .POST(HttpRequest.BodyPublishers.ofByteArray(payload))
                  .build());
      assertEquals(403, r.statusCode(), "Basic credentials from " + site + ": " + r.body());
      HttpResponse<String> signIn =
          first.send(
              plain(first, "/session")
                  .header("Content-Type", "text/plain")
                  .header("Sec-Fetch-Site", site)
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"user\":\"admin\",\"password\":\"" + TestNode.PASSWORD + "\"}"))
                  .build());
      assertEquals(403, signIn.statusCode(), "no sign-in forged from " + site);
      assertTrue(signIn.headers().firstValue("Set-Cookie").isEmpty());
    }
    assertEquals(0, first.get("/deployments?project=" + project).get("total").asInt());
    HttpResponse<String> own =
        first.send(
            first
                .request("/deployments?project=" + project)
                .header("Content-Type", "application/gzip")
                .header("Sec-Fetch-Site", "same-origin")
                .POST(HttpRequest.BodyPublishers.ofByteArray(payload))
                .build());
    assertEquals(201, own.statusCode(), own.body());
    assertEquals(
        200,
        first
            .send(
                first
                    .request("/deployments?limit=1")
                    .header("Sec-Fetch-Site", "cross-site")
                    .GET()
                    .build())
            .statusCode(),
        "reading is not a change");
  }

  @Test
  void signingInAgainEndsTheSessionHeldBefore() {
    String before = session(first, "admin", TestNode.PASSWORD);
    HttpResponse<String> again =
        first.send(
            plain(first, "/session")
                .header("Cookie", before)
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"user\":\"admin\",\"password\":\"" + TestNode.PASSWORD + "\"}"))
                .build());
    assertEquals(204, again.statusCode(), again.body());
    String after = again.headers().firstValue("Set-Cookie").orElseThrow().split(";")[0];
    awaitRefused(first, before);
    assertEquals(200, getWith(first, after, "/projects").statusCode());
  }

  @Test
  void aPasswordChangedWhileSigningInLeavesNoSession() throws Exception {
    first.createUser("rita", "deployer", "rita-password-1");
    // The password is checked, then changed before the session is written.
    var verified =
        first.users.verifyPassword("rita", "rita-password-1").toCompletableFuture().get();
    HttpResponse<String> changed =
        first.send(
            first
                .request("/users/rita")
                .header("Content-Type", "application/json")
                .method(
                    "PATCH",
                    HttpRequest.BodyPublishers.ofString("{\"password\":\"rita-new-pw-22\"}"))
                .build());
    assertEquals(200, changed.statusCode(), changed.body());
    var opened = first.users.sessionStore().open(verified).toCompletableFuture();
    var failure = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, opened::get);
    assertTrue(
        String.valueOf(failure.getCause()).contains("while signing in"), String.valueOf(failure));
    assertEquals(204, signIn(first, "rita", "rita-new-pw-22").statusCode());
  }

  @Test
  void onlyTheConsolesOwnFilesAreServed() {
    for (String path :
        List.of(
            "/console/ConsoleRoutes.class",
            "/console/ConsoleBrowser.class",
            "/console/static/app.js",
            "/console/App.js",
            "/console/views/..%2fapp.js")) {
      HttpResponse<String> r = first.send(plain(first, path).GET().build());
      assertEquals(404, r.statusCode(), path + " → " + r.statusCode() + " " + r.body());
    }
  }
}
