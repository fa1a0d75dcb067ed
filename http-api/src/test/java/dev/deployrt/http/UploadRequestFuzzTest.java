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
import dev.deployrt.deploy.DeployRequest;
import dev.deployrt.errors.ErrorCode;
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
 * Coverage-guided fuzzing of upload request parsing (Jazzer): the deploy parameters' validation,
 * and multipart bodies sent to a live node over a socket. Asserted for every input: the parameters
 * are accepted only when every rule holds (never a reserved or unknown field); a multipart body
 * gets a documented client error or 201, never a 500 or no answer, and leaves no staging file
 * behind.
 *
 * <p>Without {@code JAZZER_FUZZ}: a regression test over the saved inputs, part of every build;
 * {@code bench/fuzz.sh} fuzzes for longer.
 */
class UploadRequestFuzzTest {
  private static final String BOUNDARY = "fuzzBoundary42";
  private static final String[] KEYS = {
    "project",
    "sha256",
    "description",
    "wait",
    "timeout",
    "rollback_of",
    "user",
    "status",
    "deployment_id",
    "origin_node",
    "_x",
    "",
    "Project",
    "project "
  };
  private static final String[] VALUES = {
    "web",
    "a",
    "web-1.2_x",
    "-web",
    "Web",
    "true",
    "false",
    "1",
    "600",
    "601",
    "0",
    "-1",
    "9999999999999999999",
    "0".repeat(64),
    "a".repeat(64),
    "A".repeat(64),
    "00000000-0000-0000-0000-000000000000",
    "",
    "d".repeat(513)
  };
  private static final Set<Integer> CLIENT_ERRORS = Set.of(400, 413, 415, 422, 429);

  private static Path dir;
  private static TestNode node;

  @BeforeAll
  static void start() throws IOException {
    dir = Files.createTempDirectory("upload-fuzz");
    node =
        TestNode.start(
            dir,
            "fuzz-node",
            Map.of(
                "deploy.upload.max-bytes",
                1024 * 1024,
                "deploy.limits.requests-per-second-per-user",
                0));
  }

  @AfterAll
  static void stop() throws IOException {
    node.close();
    try (var walk = Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  /**
   * {@link DeployRequest#parse}: a request without a problem obeys every rule of API.md's "Deploy".
   */
  @FuzzTest(maxDuration = "30s")
  void deployParameters(FuzzedDataProvider data) {
    boolean rollback = data.consumeBoolean();
    Set<String> allowed =
        rollback
            ? Set.of("project", "rollback_of", "description")
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
    boolean valid = followsApiRules(fields, options, rollback);
    assertEquals(
        valid,
        r.problem() == null,
        "API.md's rules say "
            + (valid ? "valid" : "invalid")
            + ": fields "
            + fields
            + ", query "
            + options
            + (r.problem() == null ? "" : ", problem: " + r.problem().getMessage()));
    if (r.problem() == null) {
      assertEquals(fields.get("project"), r.project());
      assertEquals(fields.get("sha256"), r.sha256());
      assertEquals(fields.get("description"), r.description());
      assertEquals(rollback ? fields.get("rollback_of") : null, r.rollbackOf());
    } else {
      assertEquals(ErrorCode.INVALID_REQUEST, r.problem().code());
      assertEquals(400, r.problem().status());
    }
  }

  /**
   * API.md's rules for POST /deployments, written out here independently of the code under test:
   * only the form's fields ({@code project}, {@code sha256} or {@code rollback_of}, {@code
   * description}) and the query's {@code wait} and {@code timeout}; project {@code
   * ^[a-z0-9][a-z0-9._-]{0,63}$}; sha256 64 lowercase hex; description at most 512 characters, no
   * control characters; wait true or false; timeout whole seconds from 1 to the maximum (600 here);
   * rollback_of a deployment id (a lowercase UUID).
   */
  private static boolean followsApiRules(
      Map<String, String> fields, Map<String, String> query, boolean rollback) {
    Set<String> form =
        rollback
            ? Set.of("project", "rollback_of", "description")
            : Set.of("project", "sha256", "description");
    if (!form.containsAll(fields.keySet())
        || !Set.of("wait", "timeout").containsAll(query.keySet())) {
      return false;
    }
    String project = fields.get("project");
    if (project == null || !project.matches("[a-z0-9][a-z0-9._-]{0,63}")) {
      return false;
    }
    String sha = fields.get("sha256");
    if (sha != null && !sha.matches("[0-9a-f]{64}")) {
      return false;
    }
    String description = fields.get("description");
    if (description != null
        && (description.length() > 512
            || description
                .codePoints()
                .anyMatch(
                    c ->
                        Character.getType(c) == Character.CONTROL
                            || (c >= 0x202a && c <= 0x202e)
                            || (c >= 0x2066 && c <= 0x2069)
                            || c == 0x200e
                            || c == 0x200f))) {
      return false;
    }
    String wait = query.get("wait");
    if (wait != null && !wait.equals("true") && !wait.equals("false")) {
      return false;
    }
    String timeout = query.get("timeout");
    if (timeout != null
        && (!timeout.matches("[0-9]{1,9}")
            || Long.parseLong(timeout) < 1
            || Long.parseLong(timeout) > 600)) {
      return false;
    }
    return !rollback
        || (fields.get("rollback_of") != null
            && fields
                .get("rollback_of")
                .matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"));
  }

  /** Arbitrary multipart bodies (boundary {@value #BOUNDARY}) posted to a live node. */
  @FuzzTest(maxDuration = "30s")
  // No CR, LF or quote in entries: libFuzzer's dictionary format does not take them unescaped.
  @DictionaryEntries({
    "--" + BOUNDARY,
    "--" + BOUNDARY + "--",
    "Content-Disposition: form-data; name=",
    "; filename=",
    "payload",
    "project",
    "sha256",
    "description",
    "Content-Type: application/gzip"
  })
  void multipartBodies(byte[] body) throws IOException {
    String head =
        "POST /deployments?wait=false HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            + "Authorization: "
            + TestNode.basic("admin", TestNode.PASSWORD)
            + "\r\n"
            + "Content-Type: multipart/form-data; boundary="
            + BOUNDARY
            + "\r\nContent-Length: "
            + body.length
            + "\r\n\r\n";
    RawHttp.Answer answer;
    // Jazzer's SSRF detector flags every connection; this one, to the node under test, is the
    // point.
    try (SilentCloseable allowed =
            BugDetectors.allowNetworkConnections((host, port) -> port == node.port);
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
      // Accepted: the record is stored, and the bytes it names are in the blob store under their
      // digest and came from this body (the payload part's content appears in it verbatim).
      JsonNode accepted = ApiJson.MAPPER.readTree(json);
      JsonNode d = node.get("/deployments/" + accepted.get("deployment_id").asText());
      assertTrue(
          Set.of("distributing", "succeeded").contains(d.get("status").asText()),
          d.toPrettyString());
      String sha = d.get("sha256").asText();
      Path blob = node.dataDir.resolve("blobs/sha256").resolve(sha.substring(0, 2)).resolve(sha);
      byte[] stored = Files.readAllBytes(blob);
      assertEquals(sha, FileTrees.sha256(stored), "stored under its own digest");
      assertEquals(d.get("payload_size").asLong(), stored.length);
      assertTrue(indexOf(body, stored) >= 0, "the stored payload is the body's payload part");
      assertEquals(
          List.of(), FileTrees.list(node.dataDir.resolve("blobs/staging")), "no staging file left");
      return;
    }
    assertTrue(
        CLIENT_ERRORS.contains(status),
        "a documented client error, not " + answer.head() + "\n" + json);
    JsonNode error = ApiJson.MAPPER.readTree(json);
    assertNotNull(error.get("code"), json);
    assertNull(error.get("stack"), json);
    node.testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(10),
            () -> {
              assertEquals(
                  List.of(),
                  FileTrees.list(node.dataDir.resolve("blobs/staging")),
                  "no staging file left");
              return null;
            });
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
