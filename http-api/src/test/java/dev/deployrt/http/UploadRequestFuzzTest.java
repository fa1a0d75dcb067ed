package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.api.BugDetectors;
import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.api.SilentCloseable;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.http.deployments.DeployRequest;
import dev.deployrt.testkit.FileTrees;
import dev.deployrt.testkit.RawHttp;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Coverage-guided fuzzing of upload request parsing (Jazzer): the deploy parameters' validation, and
 * multipart bodies sent to a live node over a socket. Asserted for every input: the parameters are
 * accepted only when every rule holds (never a reserved or unknown field); a multipart body gets a
 * documented client error or 201, never a 500 or no answer, and leaves no staging file behind.
 *
 * <p>Without {@code JAZZER_FUZZ}: a regression test over the saved inputs, part of every build;
 * {@code bench/fuzz.sh} fuzzes for longer.
 */
class UploadRequestFuzzTest {
  private static final String BOUNDARY = "fuzzBoundary42";
  private static final String[] KEYS = {
    "project", "sha256", "description", "wait", "timeout", "rollback_of", "user", "status", "deployment_id",
    "origin_node", "_x", "", "Project", "project "
  };
  private static final String[] VALUES = {
    "web", "a", "web-1.2_x", "-web", "Web", "true", "false", "1", "600", "601", "0", "-1", "9999999999999999999",
    "0".repeat(64), "a".repeat(64), "A".repeat(64), "00000000-0000-0000-0000-000000000000", "", "d".repeat(513)
  };
  private static final Set<Integer> CLIENT_ERRORS = Set.of(400, 413, 415, 422, 429);

  private static Path dir;
  private static TestNode node;

  @BeforeAll
  static void start() throws IOException {
    dir = Files.createTempDirectory("upload-fuzz");
    node = TestNode.start(dir, "fuzz-node", Map.of("deploy.upload.max-bytes", 1024 * 1024,
        "deploy.limits.requests-per-second-per-user", 0));
  }

  @AfterAll
  static void stop() throws IOException {
    node.close();
    try (var walk = Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  /** {@link DeployRequest#parse}: a request without a problem obeys every rule of API.md's "Deploy". */
  @FuzzTest(maxDuration = "30s")
  void deployParameters(FuzzedDataProvider data) {
    boolean rollback = data.consumeBoolean();
    Set<String> allowed = rollback ? Set.of("project", "rollback_of", "description")
        : Set.of("project", "sha256", "description");
    Map<String, String> fields = new HashMap<>();
    Map<String, String> options = new HashMap<>();
    int n = data.consumeInt(0, 6);
    for (int i = 0; i < n; i++) {
      String key = data.consumeBoolean() ? data.pickValue(KEYS) : data.consumeString(12);
      String value = data.consumeBoolean() ? data.pickValue(VALUES) : data.consumeString(80);
      (data.consumeBoolean() ? fields : options).put(key, value);
    }
    DeployRequest r = DeployRequest.parse(fields, allowed, options, Duration.ofSeconds(600));
    if (r.problem() == null) {
      assertTrue(allowed.containsAll(fields.keySet()), "only allowed fields: " + fields);
      assertTrue(Set.of("wait", "timeout").containsAll(options.keySet()), "only response options: " + options);
      assertNotNull(r.project());
      assertTrue(DeployRequest.PROJECT.matcher(r.project()).matches(), r.project());
      assertTrue(r.sha256() == null || r.sha256().matches("[0-9a-f]{64}"), r.sha256());
      assertTrue(r.description() == null || r.description().length() <= DeployRequest.MAX_DESCRIPTION);
      assertTrue(r.timeout().toSeconds() >= 1 && r.timeout().toSeconds() <= 600);
      assertTrue(!rollback || DeployRequest.DEPLOYMENT_ID.matcher(r.rollbackOf()).matches());
    } else {
      assertEquals("INVALID_REQUEST", r.problem().code());
      assertEquals(400, r.problem().status());
    }
    for (String key : fields.keySet()) {
      if (key.startsWith("_") || List.of("user", "status", "deployment_id", "origin_node").contains(key)) {
        assertNotNull(r.problem(), "a reserved field is always refused: " + key);
      }
    }
  }

  /** Arbitrary multipart bodies (boundary {@value #BOUNDARY}) posted to a live node. */
  @FuzzTest(maxDuration = "30s")
  // No CR, LF or quote in entries: libFuzzer's dictionary format does not take them unescaped.
  @DictionaryEntries({"--" + BOUNDARY, "--" + BOUNDARY + "--", "Content-Disposition: form-data; name=",
      "; filename=", "payload", "project", "sha256", "description", "Content-Type: application/gzip"})
  void multipartBodies(byte[] body) throws IOException {
    String head = "POST /deployments?wait=false HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        + "Authorization: " + TestNode.basic("admin", TestNode.PASSWORD) + "\r\n"
        + "Content-Type: multipart/form-data; boundary=" + BOUNDARY + "\r\nContent-Length: " + body.length + "\r\n\r\n";
    RawHttp.Answer answer;
    // Jazzer's SSRF detector flags every connection; this one, to the node under test, is the point.
    try (SilentCloseable allowed = BugDetectors.allowNetworkConnections((host, port) -> port == node.port);
        Socket socket = new Socket("127.0.0.1", node.port)) {
      socket.setSoTimeout(30_000);
      OutputStream out = socket.getOutputStream();
      out.write(head.getBytes(StandardCharsets.US_ASCII));
      out.write(body);
      out.flush();
      answer = RawHttp.read(socket.getInputStream());
    }
    int status = answer.status();
    String json = answer.body();
    if (status == 201 || status == 202) {
      return;
    }
    assertTrue(CLIENT_ERRORS.contains(status), "a documented client error, not " + answer.head() + "\n" + json);
    JsonNode error = ApiJson.MAPPER.readTree(json);
    assertNotNull(error.get("code"), json);
    assertNull(error.get("stack"), json);
    node.testKit.createTestProbe().awaitAssert(Duration.ofSeconds(10), () -> {
      assertEquals(List.of(), FileTrees.list(node.dataDir.resolve("blobs/staging")), "no staging file left");
      return null;
    });
  }

}
