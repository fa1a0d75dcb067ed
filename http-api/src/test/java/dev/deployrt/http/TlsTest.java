package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.testkit.TestDatabase;
import dev.deployrt.testkit.Tarball;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operations API over HTTPS ({@code deploy.http.tls}): a two-node cluster sharing one certificate
 * (made with the JDK's keytool), where clients and the nodes' own blob transfers speak https only.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TlsTest {
  private static final String STORE_PASSWORD = "tls-test-pass";
  private TestNode first;
  private TestNode second;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    Path keystore = dir.resolve("node.p12");
    Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
        "-genkeypair", "-alias", "node", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=deploy-test",
        "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2", "-storetype", "PKCS12",
        "-keystore", keystore.toString(), "-storepass", STORE_PASSWORD, "-keypass", STORE_PASSWORD)
        .redirectErrorStream(true).start();
    String out = new String(keytool.getInputStream().readAllBytes());
    assertTrue(keytool.waitFor(60, TimeUnit.SECONDS) && keytool.exitValue() == 0, "keytool failed: " + out);

    Map<String, Object> settings = new HashMap<>(TestDatabase.shared("tls"));
    settings.put("deploy.http.tls.keystore", keystore.toString());
    settings.put("deploy.http.tls.keystore-password", STORE_PASSWORD);
    first = TestNode.start(dir.resolve("node-1"), "node-1", settings);
    settings.put("deploy.cluster.seed-nodes", first.clusterHostPort());
    second = TestNode.start(dir.resolve("node-2"), "node-2", settings);
  }

  @AfterAll
  void stop() {
    second.close();
    first.close();
  }

  @Test
  void deploysOverHttpsReachEveryNode() {
    assertTrue(first.url("/").startsWith("https://"));
    first.testKit.createTestProbe().awaitAssert(Duration.ofSeconds(30), () -> {
      assertEquals(2, first.get("/cluster/nodes").get("nodes").size());
      return null;
    });
    HttpResponse<String> r = first.deployRaw("project=web",
        Tarball.builder().file("index.html", "<h1>tls</h1>").toBytes());
    assertEquals(201, r.statusCode(), r.body());
    JsonNode d = TestNode.json(r);
    assertEquals("succeeded", d.get("status").asText(), d.toPrettyString());
    for (String n : List.of("node-1", "node-2")) {
      assertEquals("active", d.get("nodes").get(n).get("status").asText(), d.toPrettyString());
    }
    assertEquals("<h1>tls</h1>", read(second.dataDir.resolve("projects/web/current/index.html")));
  }

  @Test
  void plainHttpIsNotServed() {
    HttpClient plain = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + first.port + "/health/alive"))
        .timeout(Duration.ofSeconds(10)).build();
    assertThrows(IOException.class, () -> plain.send(request, HttpResponse.BodyHandlers.ofString()));
  }

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
