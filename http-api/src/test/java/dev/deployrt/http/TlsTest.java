package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.http.console.ConsoleBrowser;
import dev.deployrt.testkit.Tarball;
import dev.deployrt.testkit.TestDatabase;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;

/**
 * TLS on both channels of a two-node cluster sharing one certificate (made with the JDK's keytool):
 * the operations API over HTTPS ({@code deploy.http.tls}), used by clients and by the nodes' own
 * blob transfers, and the cluster's Artery traffic over mutual TLS ({@code deploy.cluster.tls}),
 * which a node without the key cannot join.
 */
@Tag("database")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TlsTest {
  private static final String STORE_PASSWORD = "tls-test-pass";
  private TestNode first;
  private TestNode second;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    Path keystore = keystore(dir.resolve("node.p12"));
    Map<String, Object> settings = new HashMap<>(TestDatabase.shared("tls"));
    settings.put("deploy.http.tls.keystore", keystore.toString());
    settings.put("deploy.http.tls.keystore-password", STORE_PASSWORD);
    settings.put("deploy.cluster.tls.keystore", keystore.toString());
    settings.put("deploy.cluster.tls.keystore-password", STORE_PASSWORD);
    // The intruder test makes TLS handshakes fail on purpose. Pekko's remoting can then keep an
    // actor system from terminating (the failed connection's TLS stage does not stop:
    // akka/akka-core#29162, still open; seen once in CI as "Failed to stop [deploy] within [30
    // seconds]" with a TLSActor left). A node is not affected (NodeMain exits once coordinated
    // shutdown's phases end or time out), so here a slow stop is logged by the test kit rather than
    // failing the class after its tests passed.
    settings.put("pekko.actor.testkit.typed.throw-on-shutdown-timeout", false);
    first = TestNode.start(dir.resolve("node-1"), "node-1", settings);
    settings.put("deploy.cluster.seed-nodes", first.clusterHostPort());
    second = TestNode.start(dir.resolve("node-2"), "node-2", settings);
    this.dir = dir;
  }

  private Path dir;

  private static Path keystore(Path keystore) throws Exception {
    Process keytool =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-alias",
                "node",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                "CN=deploy-test",
                "-ext",
                "SAN=ip:127.0.0.1,dns:localhost",
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                keystore.toString(),
                "-storepass",
                STORE_PASSWORD,
                "-keypass",
                STORE_PASSWORD)
            .redirectErrorStream(true)
            .start();
    String out = new String(keytool.getInputStream().readAllBytes());
    assertTrue(
        keytool.waitFor(60, TimeUnit.SECONDS) && keytool.exitValue() == 0,
        "keytool failed: " + out);
    return keystore;
  }

  @AfterAll
  void stop() {
    second.close();
    first.close();
  }

  @Test
  void deploysOverHttpsReachEveryNode() {
    assertTrue(first.url("/").startsWith("https://"));
    first
        .testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(30),
            () -> {
              assertEquals(2, first.get("/cluster/nodes").get("nodes").size());
              return null;
            });
    HttpResponse<String> r =
        first.deployRaw(
            "project=web", Tarball.builder().file("index.html", "<h1>tls</h1>").toBytes());
    assertEquals(201, r.statusCode(), r.body());
    JsonNode d = TestNode.json(r);
    assertEquals("succeeded", d.get("status").asText(), d.toPrettyString());
    for (String n : List.of("node-1", "node-2")) {
      assertEquals("active", d.get("nodes").get(n).get("status").asText(), d.toPrettyString());
    }
    assertEquals("<h1>tls</h1>", read(second.dataDir.resolve("projects/web/current/index.html")));
  }

  /**
   * A peer whose directory entry says plain http (misconfigured, or forged) never receives the
   * cluster secret from a node with TLS on: the call fails before a connection is made.
   */
  @Test
  void theClusterSecretIsNeverSentOverPlainHttp() throws Exception {
    String https = second.url("");
    try (java.net.ServerSocket listener =
        new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      listener.setSoTimeout(1);
      String plain = "http://127.0.0.1:" + listener.getLocalPort();
      second.node.announceEndpoint(plain);
      first
          .testKit
          .createTestProbe()
          .awaitAssert(
              Duration.ofSeconds(10),
              () -> {
                assertEquals(java.util.Optional.of(plain), first.node.peers().endpoint("node-2"));
                return null;
              });
      IOException refused =
          assertThrows(
              IOException.class,
              () ->
                  first
                      .node
                      .peers()
                      .send(
                          "node-2",
                          org.apache.pekko.http.javadsl.model.HttpRequest.GET(
                              "/internal/blobs/" + "ab".repeat(32)),
                          Duration.ofSeconds(5)));
      assertTrue(
          refused.getMessage().contains("not sending the cluster secret"), refused.getMessage());
      assertThrows(
          java.net.SocketTimeoutException.class,
          listener::accept,
          "nothing connected to the http endpoint");
    } finally {
      second.node.announceEndpoint(https);
      first
          .testKit
          .createTestProbe()
          .awaitAssert(
              Duration.ofSeconds(10),
              () -> {
                assertEquals(java.util.Optional.of(https), first.node.peers().endpoint("node-2"));
                return null;
              });
    }
  }

  @Test
  void plainHttpIsNotServed() {
    HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + first.port + "/health/alive"))
            .timeout(Duration.ofSeconds(10))
            .build();
    assertThrows(
        IOException.class, () -> plain.send(request, HttpResponse.BodyHandlers.ofString()));
  }

  @Test
  void aNodeWithAnotherKeyCannotJoinTheCluster() throws Exception {
    Map<String, Object> settings = new HashMap<>(TestDatabase.shared("tls"));
    Path otherKey = keystore(dir.resolve("intruder.p12"));
    settings.put("deploy.cluster.tls.keystore", otherKey.toString());
    settings.put("deploy.cluster.tls.keystore-password", STORE_PASSWORD);
    settings.put("deploy.cluster.seed-nodes", first.clusterHostPort());
    TestProbe<ClusterEvent.MemberEvent> events = first.testKit.createTestProbe();
    Cluster.get(first.testKit.system())
        .subscriptions()
        .tell(Subscribe.create(events.getRef(), ClusterEvent.MemberEvent.class));
    // The current members first, as events: the two nodes holding the key.
    events.receiveSeveralMessages(2);
    try (TestNode intruder =
        TestNode.startWithoutWaiting(dir.resolve("intruder"), "intruder", settings)) {
      // An absence can only be checked over a window; the intruder retries its join meanwhile.
      events.expectNoMessage(Duration.ofSeconds(8));
      assertTrue(
          Cluster.get(intruder.testKit.system()).selfMember().status() != MemberStatus.up(),
          "the intruder is not up");
    }
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void theConsolesSessionCookieIsSecureOverHttps() {
    HttpResponse<String> r =
        first.send(
            HttpRequest.newBuilder(URI.create(first.url("/session")))
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"user\":\"admin\",\"password\":\"" + TestNode.PASSWORD + "\"}"))
                .build());
    assertEquals(204, r.statusCode(), r.body());
    String cookie = r.headers().firstValue("Set-Cookie").orElseThrow();
    assertTrue(cookie.contains("; Secure") && cookie.contains("HttpOnly"), cookie);
  }

  @Test
  void theConsoleWorksInABrowserOverHttps() {
    ConsoleBrowser.requireChromium();
    try (ConsoleBrowser browser = new ConsoleBrowser(true)) {
      browser.open(second.url("/"));
      WebElement form = browser.awaitVisible("signin-form");
      form.findElement(By.name("user")).sendKeys("admin");
      form.findElement(By.name("password")).sendKeys(TestNode.PASSWORD, Keys.ENTER);
      browser.awaitText("whoami", "admin · admin");
      browser.awaitVisible("deployments-table");
      assertTrue(browser.driver.getCurrentUrl().startsWith("https://"));
      assertTrue(browser.driver.manage().getCookieNamed("deploy_session").isSecure());
      browser.screenshot("deployments-https", 1280);
      browser.assertNoConsoleErrors();
    }
  }
}
