package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deployrt.testkit.RawHttp;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failed sign-ins are limited per client address and per user name before any password is hashed
 * (here 5 per address and 3 per user a minute). Each test signs in as a user of its own. Clients
 * come from different loopback addresses (127.0.0.x), which is what the node counts: the TCP peer,
 * never a header.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LoginLimitsTest {
  private static final String PASSWORD = "a long enough password";
  private TestNode node;

  @BeforeAll
  void start(@TempDir Path dir) {
    node =
        TestNode.start(
            dir.resolve("node"),
            "node-1",
            Map.of(
                "deploy.limits.failed-logins-per-address",
                5,
                "deploy.limits.failed-logins-per-user",
                3,
                "deploy.limits.requests-per-second-per-user",
                0,
                "deploy.http.trusted-proxies",
                "127.0.0.50"));
    for (String user : List.of("target", "busy", "flooded", "raced")) {
      node.createUser(user, "viewer", PASSWORD);
    }
  }

  @AfterAll
  void stop() {
    node.close();
  }

  /** GET /projects from {@code source} (a 127.0.0.x address) with {@code authorization}. */
  private RawHttp.Answer get(String source, String authorization) throws Exception {
    return get(source, authorization, "10.9.9.9");
  }

  /**
   * The same, with an {@code X-Forwarded-For} header (which only a trusted proxy's requests are
   * read by).
   */
  private RawHttp.Answer get(String source, String authorization, String forwardedFor)
      throws Exception {
    try (Socket socket =
        new Socket(InetAddress.getLoopbackAddress(), node.port, InetAddress.getByName(source), 0)) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      out.write(
          ("GET /projects HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX-Forwarded-For: "
                  + forwardedFor
                  + "\r\nAuthorization: "
                  + authorization
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      return RawHttp.read(socket.getInputStream());
    }
  }

  /** Attempts in flight at once each hold a failure: they cannot overdraw a budget. */
  @Test
  void parallelWrongAttemptsCannotOverdrawTheBudget() throws Exception {
    ExecutorService clients = Executors.newFixedThreadPool(12);
    try {
      List<java.util.concurrent.Future<Integer>> answers = new ArrayList<>();
      for (int i = 0; i < 24; i++) {
        String source = "127.0.2." + (i + 1);
        answers.add(clients.submit(() -> get(source, TestNode.basic("raced", "guess")).status()));
      }
      int judged = 0;
      for (var answer : answers) {
        int status = answer.get(60, TimeUnit.SECONDS);
        assertTrue(status == 401 || status == 429, "status " + status);
        judged += status == 401 ? 1 : 0;
      }
      assertTrue(judged <= 3, judged + " wrong passwords were checked; the user's budget is 3");
    } finally {
      clients.shutdown();
    }
  }

  /**
   * Behind a trusted proxy the client is the address it forwards; anyone else's header is ignored.
   */
  @Test
  void aTrustedProxysForwardedAddressIsTheClient() throws Exception {
    for (int i = 0; i < 5; i++) {
      assertEquals(
          401, get("127.0.0.50", TestNode.basic("proxied-" + i, "wrong"), "192.0.2.7").status());
    }
    assertEquals(
        429,
        get("127.0.0.50", TestNode.basic("target", PASSWORD), "192.0.2.7").status(),
        "192.0.2.7 is out of failures");
    assertEquals(
        200,
        get("127.0.0.50", TestNode.basic("target", PASSWORD), "192.0.2.8").status(),
        "another client behind the same proxy is not");
    assertEquals(
        200,
        get("127.0.0.51", TestNode.basic("target", PASSWORD), "192.0.2.7").status(),
        "a header from an untrusted peer is ignored: 127.0.0.51 is the client");
  }

  private static String retryAfter(RawHttp.Answer a) {
    return a.head()
        .lines()
        .filter(l -> l.startsWith("Retry-After: "))
        .findFirst()
        .map(l -> l.substring(13))
        .orElse("");
  }

  @Test
  void anAddressOutOfFailuresIsRefusedBeforeAnyPasswordIsHashed() throws Exception {
    for (int i = 0; i < 5; i++) {
      // A different user each time: only the address's budget runs out.
      assertEquals(401, get("127.0.0.3", TestNode.basic("nobody-" + i, "wrong")).status());
    }
    long hashed = node.users.passwordChecks();
    for (int i = 0; i < 10; i++) {
      RawHttp.Answer limited = get("127.0.0.3", TestNode.basic("target", PASSWORD));
      assertEquals(
          429, limited.status(), "right or wrong, once the address is out: " + limited.body());
      assertTrue(limited.body().contains("TOO_MANY_REQUESTS"), limited.body());
      assertTrue(Integer.parseInt(retryAfter(limited)) >= 1, limited.head());
    }
    assertEquals(
        hashed, node.users.passwordChecks(), "no password was hashed for a refused attempt");
    assertEquals(
        200,
        get("127.0.0.4", TestNode.basic("target", PASSWORD)).status(),
        "other addresses are not held");
  }

  @Test
  void aUserOutOfFailuresIsRefusedExceptFromAnAddressTheyUse() throws Exception {
    assertEquals(
        200, get("127.0.0.20", TestNode.basic("busy", PASSWORD)).status(), "busy's own machine");
    for (int i = 0; i < 3; i++) {
      assertEquals(401, get("127.0.0." + (21 + i), TestNode.basic("busy", "guess " + i)).status());
    }
    RawHttp.Answer limited = get("127.0.0.30", TestNode.basic("busy", PASSWORD));
    assertEquals(429, limited.status(), limited.body());
    assertTrue(limited.body().contains("for user 'busy'"), limited.body());
    assertEquals(
        200,
        get("127.0.0.20", TestNode.basic("busy", PASSWORD)).status(),
        "guessing from elsewhere does not lock the user out of their own machine");
  }

  @Test
  void unknownTokensAndImpossibleNamesSpendTheAddressesBudgetWithoutQueries() throws Exception {
    assertEquals(401, get("127.0.0.40", TestNode.basic("Not A Name", "x")).status());
    for (int i = 0; i < 4; i++) {
      assertEquals(401, get("127.0.0.40", "Bearer dpt_" + "0".repeat(40) + i).status());
    }
    assertEquals(429, get("127.0.0.40", "Bearer dpt_unknown").status());
  }

  /**
   * A flood of wrong passwords from other addresses (for the same user and for made-up ones) does
   * not keep a real user waiting: every one of their sign-ins is answered 200 within 2 s.
   */
  @Test
  void aCorrectSignInDuringAFloodOfWrongOnesIsAnsweredWithinTwoSeconds() throws Exception {
    assertEquals(200, get("127.0.0.1", TestNode.basic("flooded", PASSWORD)).status());
    AtomicBoolean flooding = new AtomicBoolean(true);
    AtomicInteger sent = new AtomicInteger();
    ExecutorService attackers = Executors.newFixedThreadPool(16);
    for (int t = 0; t < 16; t++) {
      String source = "127.0.1." + (t + 1);
      String user = t % 2 == 0 ? "flooded" : "made-up-" + t;
      attackers.execute(
          () -> {
            while (flooding.get()) {
              try {
                get(source, TestNode.basic(user, "wrong " + sent.incrementAndGet()));
              } catch (Exception e) {
                // the node may refuse or drop a connection under the flood; keep sending
              }
            }
          });
    }
    try {
      while (sent.get() < 200) {
        Thread.onSpinWait();
      }
      for (int i = 0; i < 5; i++) {
        // A change to the accounts empties this node's credential cache: each sign-in below is
        // hashed.
        String token =
            TestNode.json(
                    node.send(
                        node.request("/tokens")
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString("{}"))
                            .build()))
                .get("id")
                .asText();
        assertEquals(
            204, node.send(node.request("/tokens/" + token).DELETE().build()).statusCode());
        long hashed = node.users.passwordChecks();
        HttpResponse<String> r =
            node.client.send(
                HttpRequest.newBuilder(URI.create(node.url("/projects")))
                    .timeout(Duration.ofSeconds(2))
                    .header("Authorization", TestNode.basic("flooded", PASSWORD))
                    .GET()
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(
            node.users.passwordChecks() > hashed,
            "the sign-in was hashed, not answered from the cache");
      }
    } finally {
      flooding.set(false);
      attackers.shutdown();
      assertTrue(attackers.awaitTermination(60, TimeUnit.SECONDS));
    }
  }

  /**
   * A bootstrap that failed (here: the password file could not be written) is retried, not final.
   */
  @Test
  void aFailedAdminBootstrapIsRetriedAndSignInsSay503Meanwhile(@TempDir Path dir) throws Exception {
    Path data = Files.createDirectories(dir.resolve("fresh"));
    Path obstacle = Files.createDirectories(data.resolve("initial-admin-password.tmp/in-the-way"));
    try (TestNode fresh =
        TestNode.startWithoutWaiting(data, "node-b", Map.of("deploy.admin-password", ""))) {
      fresh
          .testKit
          .createTestProbe()
          .awaitAssert(
              Duration.ofSeconds(30),
              Duration.ofMillis(200),
              () -> {
                HttpResponse<String> r =
                    fresh.send(
                        HttpRequest.newBuilder(URI.create(fresh.url("/projects")))
                            .header("Authorization", TestNode.basic("admin", "whatever-it-is"))
                            .GET()
                            .build());
                assertEquals(503, r.statusCode(), r.body());
                assertEquals("UNAVAILABLE", TestNode.json(r).get("code").asText());
                return null;
              });
      Files.delete(obstacle);
      Files.delete(obstacle.getParent());
      fresh
          .testKit
          .createTestProbe()
          .awaitAssert(
              Duration.ofSeconds(30),
              Duration.ofMillis(200),
              () -> {
                // The file holds exactly the password: usable as read, without stripping.
                String password = Files.readString(data.resolve("initial-admin-password"));
                HttpResponse<String> r =
                    fresh.send(
                        HttpRequest.newBuilder(URI.create(fresh.url("/projects")))
                            .header("Authorization", TestNode.basic("admin", password))
                            .GET()
                            .build());
                assertEquals(200, r.statusCode(), r.body());
                return null;
              });
    }
  }
}
