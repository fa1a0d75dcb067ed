package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.testkit.FileTrees;
import dev.deployrt.testkit.Multipart;
import dev.deployrt.testkit.Tarball;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** POST /deployments and GET /deployments/{id} against a live single node (API.md, "Deploy"). */
@Tag("database")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeployApiTest {
  private static final long MAX_BYTES = 2 * 1024 * 1024;

  private Path data;
  private TestNode node;

  @BeforeAll
  void start(@TempDir Path dir) {
    data = dir;
    node = TestNode.start(data, "node-1", Map.of("deploy.upload.max-bytes", MAX_BYTES));
  }

  @AfterAll
  void stop() {
    node.close();
  }

  private static byte[] component(String marker) {
    return Tarball.builder()
        .file("index.html", "<h1>" + marker + "</h1>")
        .file("bin/start.sh", "#!/bin/sh\n".getBytes(StandardCharsets.UTF_8), 0755)
        .symlink("home.html", "index.html")
        .toBytes();
  }

  private Path projectDir(String project) {
    return data.resolve("projects").resolve(project);
  }

  private List<String> blobs() {
    return FileTrees.list(data.resolve("blobs/sha256"));
  }

  @Test
  void aRawUploadEndsSucceededWithTheFilesActive() throws Exception {
    byte[] payload = component("raw");
    HttpResponse<String> r = node.deployRaw("project=web&description=first+release", payload);
    assertEquals(201, r.statusCode(), r.body());
    JsonNode d = TestNode.json(r);
    String id = d.get("deployment_id").asText();
    assertEquals("/deployments/" + id, r.headers().firstValue("Location").orElseThrow());
    assertEquals("succeeded", d.get("status").asText());
    assertEquals("web", d.get("project").asText());
    assertEquals("first release", d.get("description").asText());
    assertEquals("admin", d.get("user").asText());
    assertEquals("node-1", d.get("origin_node").asText());
    assertEquals(FileTrees.sha256(payload), d.get("sha256").asText());
    assertEquals(payload.length, d.get("payload_size").asLong());
    assertTrue(d.get("payload_present").asBoolean());
    assertEquals("active", d.get("nodes").get("node-1").get("status").asText());
    assertTrue(
        d.get("created_at")
            .asText()
            .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"));
    assertEquals(d.get("event_count").asInt(), d.get("events").size());

    Path current = projectDir("web").resolve("current");
    assertEquals(Path.of("releases", id), Files.readSymbolicLink(current));
    assertEquals("<h1>raw</h1>", Files.readString(current.resolve("index.html")));
    assertTrue(Files.isExecutable(current.resolve("bin/start.sh")));
    assertEquals(d, node.get("/deployments/" + id), "GET returns the same resource");
    // The receiving node extracted the archive while it arrived: one extract phase event, no fetch.
    List<String> extractPhases = new java.util.ArrayList<>();
    for (JsonNode e : d.get("events")) {
      if (e.get("type").asText().equals("phase")) {
        assertFalse(e.path("phase").asText().equals("fetch"), "no fetch of its own payload: " + e);
        if (e.path("phase").asText().equals("extract")) {
          extractPhases.add(e.get("message").asText());
        }
      }
    }
    assertEquals(List.of("node-1 extracted the release while the payload arrived"), extractPhases);
    try (var releases = Files.list(projectDir("web").resolve("releases"))) {
      assertTrue(
          releases.noneMatch(rel -> rel.getFileName().toString().startsWith(".")),
          "no staging directory left");
    }
  }

  @Test
  void aMultipartUploadWithFieldsBeforeThePayloadSucceeds() throws Exception {
    byte[] body =
        new Multipart()
            .field("project", "api")
            .field("description", "via form")
            .file("payload", "c.tar.gz", component("multipart"))
            .build();
    HttpResponse<String> r =
        node.send(
            node.request("/deployments")
                .header("Content-Type", Multipart.contentType())
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build());
    assertEquals(201, r.statusCode(), r.body());
    assertEquals("succeeded", TestNode.json(r).get("status").asText());
    assertEquals(
        "<h1>multipart</h1>", Files.readString(projectDir("api").resolve("current/index.html")));
  }

  @Test
  void withoutWaitingTheAnswerIs202AndTheDeploymentStillCompletes() {
    HttpResponse<String> r = node.deployRaw("project=nowait&wait=false", component("nowait"));
    assertEquals(202, r.statusCode(), r.body());
    String location = r.headers().firstValue("Location").orElseThrow();
    node.testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(20),
            () -> {
              assertEquals("succeeded", node.get(location).get("status").asText());
              return null;
            });
  }

  @Test
  void aSecondDeploySwitchesCurrentAndKeepsTheFirstRelease() throws Exception {
    String first =
        TestNode.json(node.deployRaw("project=twice", component("one")))
            .get("deployment_id")
            .asText();
    String second =
        TestNode.json(node.deployRaw("project=twice", component("two")))
            .get("deployment_id")
            .asText();
    assertNotEquals(first, second);
    assertEquals(
        Path.of("releases", second),
        Files.readSymbolicLink(projectDir("twice").resolve("current")));
    assertEquals(
        "<h1>two</h1>", Files.readString(projectDir("twice").resolve("current/index.html")));
    assertEquals(
        "<h1>one</h1>",
        Files.readString(projectDir("twice").resolve("releases/" + first + "/index.html")));
  }

  @Test
  void aRollbackDeploysTheEarlierPayloadAsANewDeployment() throws Exception {
    JsonNode first = TestNode.json(node.deployRaw("project=rb", component("v1")));
    node.deployRaw("project=rb", component("v2"));
    String firstId = first.get("deployment_id").asText();
    HttpResponse<String> r = node.rollback("", "rb", firstId);
    assertEquals(201, r.statusCode(), r.body());
    JsonNode rollback = TestNode.json(r);
    assertEquals("succeeded", rollback.get("status").asText());
    assertEquals(firstId, rollback.get("rollback_of").asText());
    assertEquals(first.get("sha256"), rollback.get("sha256"));
    assertEquals("<h1>v1</h1>", Files.readString(projectDir("rb").resolve("current/index.html")));
  }

  static Stream<Arguments> badRawRequests() {
    byte[] ok = component("bad");
    byte[] big = Tarball.builder().randomFile("big.bin", 3 * 1024 * 1024, 5).toBytes();
    return Stream.of(
        Arguments.of("missing project", "", "application/gzip", ok, 400, "INVALID_REQUEST"),
        Arguments.of(
            "bad project name", "project=Web!", "application/gzip", ok, 400, "INVALID_REQUEST"),
        Arguments.of(
            "unknown field",
            "project=web&color=red",
            "application/gzip",
            ok,
            400,
            "INVALID_REQUEST"),
        Arguments.of(
            "reserved user",
            "project=web&user=mallory",
            "application/gzip",
            ok,
            400,
            "INVALID_REQUEST"),
        Arguments.of(
            "reserved status",
            "project=web&status=succeeded",
            "application/gzip",
            ok,
            400,
            "INVALID_REQUEST"),
        Arguments.of(
            "reserved id",
            "project=web&deployment_id=x",
            "application/gzip",
            ok,
            400,
            "INVALID_REQUEST"),
        Arguments.of(
            "reserved origin",
            "project=web&origin_node=n",
            "application/gzip",
            ok,
            400,
            "INVALID_REQUEST"),
        Arguments.of(
            "underscore field",
            "project=web&_internal=1",
            "application/gzip",
            ok,
            400,
            "INVALID_REQUEST"),
        Arguments.of(
            "bad sha256", "project=web&sha256=xyz", "application/gzip", ok, 400, "INVALID_REQUEST"),
        Arguments.of(
            "bad wait", "project=web&wait=maybe", "application/gzip", ok, 400, "INVALID_REQUEST"),
        Arguments.of(
            "digest mismatch",
            "project=web&sha256=" + "0".repeat(64),
            "application/gzip",
            ok,
            400,
            "DIGEST_MISMATCH"),
        Arguments.of(
            "unsafe archive",
            "project=web",
            "application/gzip",
            Tarball.builder().file("../../evil", "x").toBytes(),
            422,
            "INVALID_ARCHIVE"),
        Arguments.of(
            "not gzip",
            "project=web",
            "application/octet-stream",
            "plain text".getBytes(StandardCharsets.UTF_8),
            422,
            "INVALID_ARCHIVE"),
        Arguments.of(
            "empty body", "project=web", "application/gzip", new byte[0], 422, "INVALID_ARCHIVE"),
        Arguments.of("too large", "project=web", "application/gzip", big, 413, "PAYLOAD_TOO_LARGE"),
        Arguments.of(
            "unsupported type", "project=web", "text/plain", ok, 415, "UNSUPPORTED_MEDIA_TYPE"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badRawRequests")
  void aBadRequestIsRecordedAsFailedAndLeavesNothingBehind(
      String name, String query, String contentType, byte[] body, int status, String code) {
    List<String> blobsBefore = blobs();
    HttpResponse<String> r =
        node.send(
            node.request("/deployments?" + query)
                .header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build());
    assertFailedAndClean(r, status, code, blobsBefore);
  }

  @Test
  void anOversizeBodyWithoutContentLengthIsCutOffWhileStreaming() {
    byte[] big = Tarball.builder().randomFile("big.bin", 3 * 1024 * 1024, 6).toBytes();
    List<String> blobsBefore = blobs();
    // ofInputStream has no known length, so the client sends it chunked.
    HttpResponse<String> r =
        node.send(
            node.request("/deployments?project=chunked")
                .header("Content-Type", "application/gzip")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big)))
                .build());
    JsonNode error = assertFailedAndClean(r, 413, "PAYLOAD_TOO_LARGE", blobsBefore);
    assertEquals(MAX_BYTES, error.get("limit").asLong());
  }

  static Stream<Arguments> badMultipartRequests() {
    byte[] ok = component("mp");
    return Stream.of(
        Arguments.of(
            "file before fields",
            new Multipart().file("payload", "c.tar.gz", ok).field("project", "web").build(),
            Multipart.contentType()),
        Arguments.of(
            "two file parts",
            new Multipart()
                .field("project", "web")
                .file("payload", "a.tar.gz", ok)
                .file("payload", "b.tar.gz", ok)
                .build(),
            Multipart.contentType()),
        Arguments.of(
            "missing file part",
            new Multipart().field("project", "web").build(),
            Multipart.contentType()),
        Arguments.of(
            "file part misnamed",
            new Multipart().field("project", "web").file("file", "a.tar.gz", ok).build(),
            Multipart.contentType()),
        Arguments.of(
            "reserved field",
            new Multipart()
                .field("project", "web")
                .field("user", "mallory")
                .file("payload", "a.tar.gz", ok)
                .build(),
            Multipart.contentType()),
        Arguments.of(
            "no boundary", new Multipart().field("project", "web").build(), "multipart/form-data"),
        // Found by the fuzzer: Pekko's parser fails this body with an IllegalStateException (was a
        // 500).
        Arguments.of(
            "body ends inside a part's headers",
            ("--"
                    + Multipart.BOUNDARY
                    + "\r\nContent-Disposition: "
                    + "form-data; name=\"project\"\r\n\r\nweb\r\n--"
                    + Multipart.BOUNDARY
                    + "\r\nContent-Disposition: form-data; "
                    + "name=\"d\"\r\n--"
                    + Multipart.BOUNDARY
                    + "\r")
                .getBytes(StandardCharsets.US_ASCII),
            Multipart.contentType()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badMultipartRequests")
  void aMalformedMultipartRequestIsRecordedAsFailed(String name, byte[] body, String contentType) {
    List<String> blobsBefore = blobs();
    HttpResponse<String> r =
        node.send(
            node.request("/deployments")
                .header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build());
    assertFailedAndClean(r, 400, "INVALID_REQUEST", blobsBefore);
  }

  @Test
  void aFieldOverItsSizeLimitIsRefusedByName() {
    byte[] body =
        new Multipart()
            .field("project", "web")
            .field("description", "d".repeat(5000))
            .file("payload", "c.tar.gz", component("long"))
            .build();
    List<String> blobsBefore = blobs();
    HttpResponse<String> r =
        node.send(
            node.request("/deployments")
                .header("Content-Type", Multipart.contentType())
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build());
    JsonNode error = assertFailedAndClean(r, 400, "INVALID_REQUEST", blobsBefore);
    assertEquals("field 'description' is longer than 4096 bytes", error.get("error").asText());
  }

  /**
   * A body that breaks off inside a field part (found by the multipart fuzzer, where the failure
   * also raced the field's reading): a malformed body, not a field over its size limit, and never a
   * 500.
   */
  @Test
  void aBodyThatEndsInsideAFieldIsMalformedNotTooLong() {
    byte[] body =
        ("--"
                + Multipart.BOUNDARY
                + "\r\nContent-Disposition: form-data; name=\"project\"\r\n\r\nweb\r\n--"
                + Multipart.BOUNDARY
                + "\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nthe body ends here")
            .getBytes(StandardCharsets.US_ASCII);
    List<String> blobsBefore = blobs();
    HttpResponse<String> r =
        node.send(
            node.request("/deployments")
                .header("Content-Type", Multipart.contentType())
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build());
    JsonNode error = assertFailedAndClean(r, 400, "INVALID_REQUEST", blobsBefore);
    String message = error.get("error").asText();
    assertTrue(message.startsWith("malformed") && !message.contains("longer than"), message);
  }

  /**
   * The node's own disk refusing (here: a file where the project's releases directory belongs)
   * fails the node with STORAGE_ERROR, never as a bad archive or a failed fetch, and the node keeps
   * serving.
   */
  @Test
  void aDiskThatRefusesFailsTheNodeWithStorageError() throws Exception {
    Files.createDirectories(projectDir("disk-refuses"));
    Files.writeString(projectDir("disk-refuses").resolve("releases"), "not a directory");
    HttpResponse<String> r = node.deployRaw("project=disk-refuses", component("disk"));
    assertEquals(201, r.statusCode(), r.body());
    JsonNode d = TestNode.json(r);
    assertEquals("failed", d.get("status").asText(), d.toPrettyString());
    JsonNode error = d.get("nodes").get("node-1").get("error");
    assertEquals("STORAGE_ERROR", error.get("code").asText(), d.toPrettyString());
    assertTrue(error.get("message").asText().contains("disk refused"), error.toString());
    assertEquals(
        201,
        node.deployRaw("project=disk-fine", component("fine")).statusCode(),
        "the node keeps serving");
  }

  /**
   * A multipart body past its field limit is answered as soon as the limit is passed, while the
   * client still sends: no field beyond it is kept (the client below never sends the rest it
   * announced).
   */
  @Test
  void aMultipartBodyWithMoreFieldsThanTheFormHasIsAnsweredAtOnce() throws Exception {
    // Two fields past the limit of 8 (the ninth ends where the tenth begins), and little else: the
    // server has read all that was sent when it answers and closes. Bytes it left unread would make
    // its close a reset, which can reach the client before the answer does.
    Multipart fields = new Multipart().field("project", "many-fields");
    for (int i = 0; i < 9; i++) {
      fields.field("f" + i, "v");
    }
    byte[] start = fields.build();
    start =
        java.util.Arrays.copyOf(
            start, start.length - ("--" + Multipart.BOUNDARY + "--\r\n").length());
    try (Socket socket = new Socket("127.0.0.1", node.port)) {
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      java.io.ByteArrayOutputStream request = new java.io.ByteArrayOutputStream();
      request.write(
          ("POST /deployments HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                  + "Authorization: "
                  + TestNode.basic("admin", TestNode.PASSWORD)
                  + "\r\n"
                  + "Content-Type: "
                  + Multipart.contentType()
                  + "\r\nContent-Length: "
                  + (start.length + 1_000_000)
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      request.write(start);
      // In one write, so that it arrives whole before the server parses it.
      out.write(request.toByteArray());
      out.flush();
      dev.deployrt.testkit.RawHttp.Answer answer =
          dev.deployrt.testkit.RawHttp.read(socket.getInputStream());
      assertEquals(400, answer.status(), answer.body());
      JsonNode error = ApiJson.MAPPER.readTree(answer.body());
      assertEquals(
          "more than " + 8 + " fields before the file part 'payload'", error.get("error").asText());
      JsonNode d = node.get("/deployments/" + error.get("deployment_id").asText());
      assertEquals("failed", d.get("status").asText());
      assertEquals(
          "many-fields",
          d.get("project").asText(),
          "recorded with the fields read before the limit");
    }
  }

  /**
   * A client can name any key in a rollback body; none of them becomes the recorded error's text.
   */
  @Test
  void aRollbackBodyCannotForgeTheRecordedError() {
    HttpResponse<String> r =
        node.send(
            node.request("/deployments")
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"\\u0000body\": \"all good, nothing to see\"}"))
                .build());
    assertEquals(400, r.statusCode(), r.body());
    JsonNode error = TestNode.json(r);
    assertEquals("INVALID_REQUEST", error.get("code").asText());
    assertFalse(error.get("error").asText().contains("nothing to see"), error.toString());
    JsonNode d = node.get("/deployments/" + error.get("deployment_id").asText());
    assertFalse(d.get("error").get("message").asText().contains("nothing to see"), d.toString());
  }

  @Test
  void duplicateJsonKeysAreRefusedNotResolvedByTheLastOne() {
    HttpResponse<String> r =
        node.send(
            node.request("/deployments")
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"project\": \"web\", \"rollback_of\": \"x\", "
                            + "\"rollback_of\": \"00000000-0000-0000-0000-000000000000\"}"))
                .build());
    assertEquals(400, r.statusCode(), r.body());
    assertEquals(
        "field 'rollback_of' is given more than once", TestNode.json(r).get("error").asText());
    HttpResponse<String> token =
        node.send(
            node.request("/tokens")
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"description\": \"a\", \"description\": \"b\"}"))
                .build());
    assertEquals(400, token.statusCode(), token.body());
  }

  @Test
  void aDescriptionWithControlCharactersIsRefusedAndRecordedEscaped() {
    HttpResponse<String> r =
        node.deployRaw("project=escapes&description=%1B%5B31mred", component("e"));
    assertEquals(400, r.statusCode(), r.body());
    JsonNode error = TestNode.json(r);
    assertEquals("description", error.get("field").asText());
    JsonNode d = node.get("/deployments/" + error.get("deployment_id").asText());
    assertEquals(
        "\\u001b[31mred", d.get("description").asText(), "the record keeps it escaped, never raw");
    HttpResponse<String> token =
        node.send(
            node.request("/tokens")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"description\": \"\\u001b[2J\"}"))
                .build());
    assertEquals(400, token.statusCode(), token.body());
  }

  @Test
  void aClientThatDisconnectsMidUploadLeavesAFailedRecordAndNoBytes() throws Exception {
    byte[] payload = Tarball.builder().randomFile("big.bin", 1_500_000, 8).toBytes();
    List<String> blobsBefore = blobs();
    String status;
    try (Socket socket = new Socket("127.0.0.1", node.port)) {
      OutputStream out = socket.getOutputStream();
      out.write(
          ("POST /deployments?project=aborted HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  + "Authorization: "
                  + TestNode.basic("admin", TestNode.PASSWORD)
                  + "\r\n"
                  + "Content-Type: application/gzip\r\nContent-Length: "
                  + payload.length
                  + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.write(payload, 0, payload.length / 3);
      out.flush();
      socket.shutdownOutput(); // the client goes away mid-body
      InputStream in = socket.getInputStream();
      status = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
    }
    String location =
        status
            .lines()
            .filter(l -> l.startsWith("Location: "))
            .findFirst()
            .map(l -> l.substring("Location: ".length()))
            .orElseThrow(() -> new AssertionError(status));
    node.testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(10),
            () -> {
              JsonNode d = node.get(location);
              assertEquals("failed", d.get("status").asText());
              assertEquals("UPLOAD_ABORTED", d.get("error").get("code").asText());
              return null;
            });
    assertEquals(blobsBefore, blobs());
    assertEquals(List.of(), FileTrees.list(data.resolve("blobs/staging")));
    assertFalse(Files.exists(projectDir("aborted")));
  }

  @Test
  void requestsWithoutValidCredentialsAreRefused() {
    HttpResponse<String> none =
        node.send(
            java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(node.url("/deployments?project=web")))
                .header("Content-Type", "application/gzip")
                .POST(HttpRequest.BodyPublishers.ofByteArray(component("x")))
                .build());
    assertEquals(401, none.statusCode());
    assertEquals("UNAUTHORIZED", TestNode.json(none).get("code").asText());
    assertTrue(none.headers().firstValue("WWW-Authenticate").orElse("").startsWith("Basic"));

    HttpResponse<String> wrong =
        node.send(
            node.request("/deployments/" + java.util.UUID.randomUUID())
                .setHeader("Authorization", TestNode.basic("admin", "wrong"))
                .GET()
                .build());
    assertEquals(401, wrong.statusCode());
    assertEquals("UNAUTHORIZED", TestNode.json(wrong).get("code").asText());
  }

  @Test
  void anUnknownDeploymentIs404WithAJsonError() {
    HttpResponse<String> r =
        node.send(node.request("/deployments/" + java.util.UUID.randomUUID()).GET().build());
    assertEquals(404, r.statusCode());
    assertEquals("NOT_FOUND", TestNode.json(r).get("code").asText());
    HttpResponse<String> notAnId = node.send(node.request("/deployments/../../etc").GET().build());
    assertEquals(404, notAnId.statusCode());
    assertEquals("NOT_FOUND", TestNode.json(notAnId).get("code").asText());
  }

  /** A path no route has is 404 whatever the method, also the planned ones (API.md). */
  @Test
  void anUnknownPathIs404WithAJsonErrorForEveryMethod() {
    for (String method : List.of("GET", "POST", "PUT", "DELETE")) {
      for (String path : List.of("/uploads", "/blobs/migrations", "/deployments/x/y", "/nothing")) {
        HttpResponse<String> r =
            node.send(
                node.request(path).method(method, HttpRequest.BodyPublishers.noBody()).build());
        assertEquals(404, r.statusCode(), method + " " + path + ": " + r.body());
        assertEquals("NOT_FOUND", TestNode.json(r).get("code").asText(), method + " " + path);
      }
    }
    // A path that exists, with a method it does not take, is still 405.
    HttpResponse<String> patch =
        node.send(
            node.request("/deployments")
                .method("PATCH", HttpRequest.BodyPublishers.noBody())
                .build());
    assertEquals(405, patch.statusCode(), patch.body());
  }

  @Test
  void healthEndpointsNeedNoCredentials() {
    for (String path : List.of("/health/alive", "/health/ready")) {
      HttpResponse<String> r =
          node.send(
              java.net.http.HttpRequest.newBuilder(java.net.URI.create(node.url(path)))
                  .GET()
                  .build());
      assertEquals(200, r.statusCode(), path);
    }
  }

  /** The error answer, its record (failed, same code) and an untouched blob store and releases. */
  private JsonNode assertFailedAndClean(
      HttpResponse<String> r, int status, String code, List<String> blobsBefore) {
    assertEquals(status, r.statusCode(), r.body());
    JsonNode error = TestNode.json(r);
    assertEquals(code, error.get("code").asText(), r.body());
    assertFalse(error.get("error").asText().isBlank());
    String id = error.get("deployment_id").asText();
    assertEquals("/deployments/" + id, r.headers().firstValue("Location").orElseThrow());
    JsonNode d = node.get("/deployments/" + id);
    assertEquals("failed", d.get("status").asText());
    assertEquals(code, d.get("error").get("code").asText());
    assertEquals("admin", d.get("user").asText());
    assertEquals(blobsBefore, blobs(), "no blob stored");
    assertEquals(List.of(), FileTrees.list(data.resolve("blobs/staging")), "no staging file");
    try (var projects = Files.list(data.resolve("projects"))) {
      for (Path p : (Iterable<Path>) projects::iterator) {
        try (var releases = Files.list(p.resolve("releases"))) {
          assertTrue(
              releases.noneMatch(
                  rel ->
                      rel.getFileName().toString().equals(id)
                          || rel.getFileName().toString().startsWith(".")),
              "no release for " + id + " and no staging directory");
        }
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return error;
  }
}
