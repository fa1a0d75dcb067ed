package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deployrt.testkit.Multipart;
import dev.deployrt.testkit.Tarball;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code docs/openapi.yaml} against a live node: every operation it describes is called, and every
 * exchange is checked against it ({@link OpenApiDocument}: query parameter names and values, the
 * JSON request body, the status, the content type, the described headers' presence and values, the
 * JSON response body), plus the headers that link an answer to its body (a deploy's Location, an
 * error's Retry-After). The document and the node cannot drift apart: an answer the document does
 * not describe, or an operation no call here reaches, fails the test. (Path and request-header
 * parameters and the JSON inside event-stream frames are not checked.)
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenApiContractTest {
  private static final Path SPEC = Path.of("..", "docs", "openapi.yaml");

  private TestNode node;
  private OpenApiDocument spec;
  private String clusterSecret;

  /** The operations called so far, as "METHOD /path/{template}". */
  private final Set<String> called = new TreeSet<>();

  private final List<String> violations = new ArrayList<>();

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    node = TestNode.start(dir.resolve("node"), "node-1", Map.of());
    clusterSecret = node.node.clusterSecret().toCompletableFuture().get(30, TimeUnit.SECONDS);
    spec = new OpenApiDocument(SPEC);
  }

  @AfterAll
  void stop() {
    node.close();
  }

  @Test
  void everyOperationAnswersAsTheDocumentSays() throws Exception {
    health();
    String first = deployments();
    accounts();
    session();
    cluster();
    internalBlobs(first);

    assertTrue(violations.isEmpty(), String.join("\n\n", violations));
    assertEquals(
        spec.operations(),
        called,
        "every operation of docs/openapi.yaml is called, and nothing else");
  }

  private void health() {
    call(anonymous("/health/alive").GET(), 200);
    call(anonymous("/health/ready").GET(), 200);
    call(anonymous("/metrics").GET(), 200);
  }

  /** Every form of deploy, the reads, the payload; returns the first deployment's id. */
  private String deployments() {
    byte[] first = tarball("first");
    String id =
        TestNode.json(
                call(
                    node.request("/deployments?project=web&description=first")
                        .header("Content-Type", "application/gzip")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(first)),
                    201))
            .get("deployment_id")
            .asText();
    byte[] form =
        new Multipart()
            .field("project", "web")
            .field("description", "via form")
            .file("payload", "c.tar.gz", tarball("second"))
            .build();
    String second =
        TestNode.json(
                call(
                    node.request("/deployments")
                        .header("Content-Type", Multipart.contentType())
                        .POST(HttpRequest.BodyPublishers.ofByteArray(form)),
                    201))
            .get("deployment_id")
            .asText();
    call(
        node.request("/deployments?project=web&wait=false")
            .header("Content-Type", "application/octet-stream")
            .POST(HttpRequest.BodyPublishers.ofByteArray(tarball("third"))),
        202);
    call(
        node.request("/deployments?project=web")
            .header("Content-Type", "application/gzip")
            .header("Accept", "text/event-stream")
            .POST(HttpRequest.BodyPublishers.ofByteArray(tarball("fourth"))),
        200);
    String rollback =
        TestNode.json(
                call(
                    node.request("/deployments")
                        .header("Content-Type", "application/json")
                        .POST(
                            HttpRequest.BodyPublishers.ofString(
                                "{\"project\":\"web\",\"rollback_of\":\"" + id + "\"}")),
                    201))
            .get("deployment_id")
            .asText();
    call(
        node.request("/deployments?project=web")
            .header("Content-Type", "text/plain")
            .POST(HttpRequest.BodyPublishers.ofString("hello")),
        415);
    call(
        node.request("/deployments?project=Bad!")
            .header("Content-Type", "application/gzip")
            .POST(HttpRequest.BodyPublishers.ofByteArray(first)),
        400);
    call(
        node.request("/deployments?project=web&sha256=" + "0".repeat(64))
            .header("Content-Type", "application/gzip")
            .POST(HttpRequest.BodyPublishers.ofByteArray(tarball("mismatch"))),
        400);
    call(
        node.request("/deployments?project=web")
            .header("Content-Type", "application/gzip")
            .POST(
                HttpRequest.BodyPublishers.ofByteArray(
                    "not a tarball".getBytes(StandardCharsets.UTF_8))),
        422);
    call(
        anonymous("/deployments?project=web")
            .header("Content-Type", "application/gzip")
            .POST(HttpRequest.BodyPublishers.ofByteArray(first)),
        401);

    call(node.request("/deployments").GET(), 200);
    call(node.request("/deployments?project=web&status=succeeded&limit=2&offset=1").GET(), 200);
    call(node.request("/deployments?limit=0").GET(), 400);
    call(node.request("/deployments/" + id).GET(), 200);
    call(node.request("/deployments/" + UUID.randomUUID()).GET(), 404);
    call(node.request("/deployments/" + id + "/events").GET(), 200);
    call(node.request("/deployments/" + id + "/events").header("Last-Event-ID", "2").GET(), 200);

    HttpResponse<String> payload = call(node.request("/deployments/" + id + "/payload").GET(), 200);
    call(
        node.request("/deployments/" + id + "/payload")
            .header("If-None-Match", payload.headers().firstValue("ETag").orElseThrow())
            .GET(),
        304);
    call(node.request("/deployments/" + rollback + "/payload").DELETE(), 409);
    call(node.request("/deployments/" + second + "/payload").DELETE(), 200);
    call(node.request("/deployments/" + second + "/payload").GET(), 404);
    call(node.request("/projects").GET(), 200);
    call(node.request("/projects/web/settings").GET(), 200);
    call(
        node.request("/projects/web/settings")
            .header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofString("{\"keep_releases\": 4}")),
        200);
    call(
        node.request("/projects/web/settings")
            .header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofString("{\"keep_payloads\": 0}")),
        400);
    return rollback;
  }

  private void accounts() {
    String name = "ci-" + UUID.randomUUID().toString().substring(0, 8);
    call(
        json(
            "/users",
            "POST",
            "{\"name\":\""
                + name
                + "\",\"role\":\"deployer\",\"password\":\"correct horse battery\"}"),
        201);
    call(
        json(
            "/users",
            "POST",
            "{\"name\":\""
                + name
                + "\",\"role\":\"deployer\",\"password\":\"correct horse battery\"}"),
        409);
    call(node.request("/users").GET(), 200);
    call(node.request("/users/" + name).GET(), 200);
    call(json("/users/" + name, "PATCH", "{\"role\":\"viewer\"}"), 200);
    call(
        anonymous("/users")
            .header("Authorization", TestNode.basic(name, "correct horse battery"))
            .GET(),
        403);
    HttpResponse<String> token =
        call(json("/tokens", "POST", "{\"user\":\"" + name + "\",\"description\":\"ci\"}"), 201);
    call(node.request("/tokens").GET(), 200);
    call(node.request("/tokens/" + TestNode.json(token).get("id").asText()).DELETE(), 204);
    call(node.request("/users/" + name).DELETE(), 204);
    call(node.request("/users/" + name).GET(), 404);
  }

  private void session() {
    call(anonymous("/session").GET(), 200);
    call(
        anonymous("/session")
            .header("Content-Type", "application/json")
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    "{\"user\":\"admin\",\"password\":\"not-the-password\"}")),
        401);
    HttpResponse<String> signedIn =
        call(
            anonymous("/session")
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"user\":\"admin\",\"password\":\"" + TestNode.PASSWORD + "\"}")),
            204);
    String cookie = signedIn.headers().firstValue("Set-Cookie").orElseThrow().split(";")[0];
    call(anonymous("/session").header("Cookie", cookie).DELETE(), 403);
    call(
        anonymous("/session")
            .header("Cookie", cookie)
            .header("X-Requested-With", "deploy-console")
            .DELETE(),
        204);
  }

  private void cluster() {
    call(node.request("/cluster/nodes").GET(), 200);
    call(
        node.request("/cluster/nodes/no-such-node/leave").POST(HttpRequest.BodyPublishers.noBody()),
        404);
    call(
        node.request("/cluster/nodes/no-such-node/down").POST(HttpRequest.BodyPublishers.noBody()),
        404);
  }

  /** The node-to-node protocol, with the cluster secret; a user's credentials are refused there. */
  private void internalBlobs(String deploymentId) {
    String sha =
        TestNode.json(call(node.request("/deployments/" + deploymentId).GET(), 200))
            .get("sha256")
            .asText();
    call(node.request("/internal/blobs/" + sha).GET(), 403);
    call(secret("/internal/blobs/" + sha).GET(), 200);
    call(secret("/internal/blobs/" + sha + "/claim-mark").GET(), 200);
    byte[] replica = tarball("replica");
    call(
        secret("/internal/blobs/" + sha256(replica))
            .header("Content-Type", "application/octet-stream")
            .PUT(HttpRequest.BodyPublishers.ofByteArray(replica)),
        201);
    call(secret("/internal/blobs/" + sha256(replica)).DELETE(), 200);
  }

  private HttpRequest.Builder anonymous(String path) {
    return HttpRequest.newBuilder(URI.create(node.url(path)));
  }

  private HttpRequest.Builder secret(String path) {
    return anonymous(path).header("Authorization", "Cluster " + clusterSecret);
  }

  private HttpRequest.Builder json(String path, String method, String body) {
    return node.request(path)
        .header("Content-Type", "application/json")
        .method(method, HttpRequest.BodyPublishers.ofString(body));
  }

  /**
   * Sends the request, checks its status, and validates the exchange against the document; records
   * a violation (reported at the end, with every other) rather than stopping at the first.
   */
  private HttpResponse<String> call(HttpRequest.Builder builder, int expectedStatus) {
    HttpRequest request = builder.build();
    byte[] body = BodyCapture.bytes(request);
    HttpResponse<String> response = node.send(request);
    String what = request.method() + " " + request.uri().getRawPath();
    assertEquals(expectedStatus, response.statusCode(), what + ": " + response.body());
    called.add(
        request.method()
            + " "
            + spec.template(request.uri().getRawPath()).orElse("(undocumented)"));

    String requestType = mediaType(request.headers());
    String responseType = mediaType(response.headers());
    List<String> wrong =
        spec.violations(
            new OpenApiDocument.Exchange(
                request.method(),
                request.uri().getRawPath(),
                query(request.uri().getRawQuery()),
                requestType,
                body == null || !"application/json".equals(requestType)
                    ? null
                    : new String(body, StandardCharsets.UTF_8),
                response.statusCode(),
                responseType,
                firstValues(response),
                responseType == null
                        || responseType.equals("application/json")
                        || responseType.startsWith("text/")
                    ? response.body()
                    : null));
    wrong = new ArrayList<>(wrong);
    wrong.addAll(linkedHeaders(request, response, responseType));
    if (!wrong.isEmpty()) {
      violations.add(
          what
              + " -> "
              + response.statusCode()
              + ":\n  "
              + String.join("\n  ", wrong)
              + "\n  body: "
              + ("application/gzip".equals(responseType)
                  ? "(the payload)"
                  : response.body().substring(0, Math.min(400, response.body().length()))));
    }
    return response;
  }

  private static Map<String, String> firstValues(HttpResponse<String> response) {
    Map<String, String> out = new java.util.LinkedHashMap<>();
    response.headers().map().forEach((name, values) -> out.put(name, values.get(0)));
    return out;
  }

  /**
   * What the document cannot say with schemas: a deploy's answer that names its deployment carries
   * that deployment's Location, and an error that says when to retry carries the same Retry-After.
   */
  private static List<String> linkedHeaders(
      HttpRequest request, HttpResponse<String> response, String responseType) {
    List<String> out = new ArrayList<>();
    if (!"application/json".equals(responseType)) {
      return out;
    }
    var body = TestNode.json(response);
    if (request.method().equals("POST")
        && request.uri().getRawPath().equals("/deployments")
        && body.hasNonNull("deployment_id")) {
      String expected = "/deployments/" + body.get("deployment_id").asText();
      if (!response.headers().firstValue("Location").orElse("").equals(expected)) {
        out.add("response: Location is not " + expected);
      }
    }
    if (body.hasNonNull("retry_after")
        && !response
            .headers()
            .firstValue("Retry-After")
            .orElse("")
            .equals(body.get("retry_after").asText())) {
      out.add("response: Retry-After differs from retry_after " + body.get("retry_after"));
    }
    return out;
  }

  /** The Content-Type's media type without parameters, lower case; null without one. */
  private static String mediaType(java.net.http.HttpHeaders headers) {
    return headers
        .firstValue("Content-Type")
        .map(type -> type.split(";", 2)[0].trim().toLowerCase(java.util.Locale.ROOT))
        .orElse(null);
  }

  private static Map<String, List<String>> query(String raw) {
    Map<String, List<String>> out = new java.util.LinkedHashMap<>();
    if (raw != null) {
      for (String pair : raw.split("&")) {
        String[] kv = pair.split("=", 2);
        out.computeIfAbsent(decode(kv[0]), k -> new ArrayList<>())
            .add(kv.length > 1 ? decode(kv[1]) : "");
      }
    }
    return out;
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  private static byte[] tarball(String text) {
    return Tarball.builder().file("index.html", text + " " + UUID.randomUUID()).toBytes();
  }

  private static String sha256(byte[] bytes) {
    try {
      return java.util.HexFormat.of()
          .formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Reads back what a request's body publisher sends (the JDK hides it; the document check needs
   * it).
   */
  private static final class BodyCapture
      implements java.util.concurrent.Flow.Subscriber<java.nio.ByteBuffer> {
    private final java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    private final java.util.concurrent.CompletableFuture<byte[]> done =
        new java.util.concurrent.CompletableFuture<>();

    static byte[] bytes(HttpRequest request) {
      return request
          .bodyPublisher()
          .map(
              p -> {
                BodyCapture capture = new BodyCapture();
                p.subscribe(capture);
                return capture.done.join();
              })
          .orElse(null);
    }

    @Override
    public void onSubscribe(java.util.concurrent.Flow.Subscription s) {
      s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(java.nio.ByteBuffer item) {
      byte[] b = new byte[item.remaining()];
      item.get(b);
      out.writeBytes(b);
    }

    @Override
    public void onError(Throwable t) {
      done.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
      done.complete(out.toByteArray());
    }
  }
}
