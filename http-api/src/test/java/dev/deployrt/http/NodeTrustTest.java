package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.deployrt.testkit.Tarball;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Node-to-node endpoints take the cluster secret and nothing else; user endpoints never take it.
 */
@Tag("database")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NodeTrustTest {
  private TestNode node;
  private String secret;
  private String sha;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    node = TestNode.start(dir, "node-1", Map.of());
    secret = node.node.clusterSecret().toCompletableFuture().get(30, TimeUnit.SECONDS);
    HttpResponse<String> r =
        node.deployRaw("project=web", Tarball.builder().file("a", "b").toBytes());
    assertEquals(201, r.statusCode(), r.body());
    sha = TestNode.json(r).get("sha256").asText();
  }

  @AfterAll
  void stop() {
    node.close();
  }

  private HttpResponse<String> blob(String authorization) {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(java.net.URI.create(node.url("/internal/blobs/" + sha))).GET();
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return node.send(b.build());
  }

  @Test
  void theClusterSecretFetchesABlob() {
    HttpResponse<String> r = blob("Cluster " + secret);
    assertEquals(200, r.statusCode());
  }

  @Test
  void userCredentialsAreRefusedOnTheInternalEndpoint() {
    HttpResponse<String> r = blob(TestNode.basic("admin", TestNode.PASSWORD));
    assertEquals(403, r.statusCode(), r.body());
    assertEquals("FORBIDDEN", TestNode.json(r).get("code").asText());
  }

  @Test
  void noOrAWrongSecretIsUnauthorized() {
    assertEquals("UNAUTHORIZED", TestNode.json(blob(null)).get("code").asText());
    HttpResponse<String> wrong = blob("Cluster " + "0".repeat(secret.length()));
    assertEquals(401, wrong.statusCode());
    assertEquals("UNAUTHORIZED", TestNode.json(wrong).get("code").asText());
  }

  @Test
  void theClusterSecretCannotCallUserEndpoints() {
    HttpResponse<String> r =
        node.send(
            HttpRequest.newBuilder(java.net.URI.create(node.url("/deployments?project=web")))
                .header("Authorization", "Cluster " + secret)
                .header("Content-Type", "application/gzip")
                .POST(
                    HttpRequest.BodyPublishers.ofByteArray(
                        Tarball.builder().file("x", "y").toBytes()))
                .build());
    assertEquals(401, r.statusCode(), r.body());
    assertEquals("UNAUTHORIZED", TestNode.json(r).get("code").asText());
    HttpResponse<String> list =
        node.send(
            HttpRequest.newBuilder(java.net.URI.create(node.url("/cluster/nodes")))
                .header("Authorization", "Cluster " + secret)
                .GET()
                .build());
    assertEquals(401, list.statusCode(), list.body());
  }

  @Test
  void aPushedReplicaWithOtherBytesIsRefusedAndLeavesNothing() {
    String other = "ab".repeat(32);
    HttpResponse<String> r =
        node.send(
            HttpRequest.newBuilder(java.net.URI.create(node.url("/internal/blobs/" + other)))
                .header("Authorization", "Cluster " + secret)
                .PUT(HttpRequest.BodyPublishers.ofByteArray(new byte[] {1, 2, 3}))
                .build());
    assertEquals(400, r.statusCode(), r.body());
    assertEquals("DIGEST_MISMATCH", TestNode.json(r).get("code").asText());
    assertEquals(false, node.node.blobs().contains(other));
    assertEquals(
        java.util.List.of(),
        dev.deployrt.testkit.FileTrees.list(node.node.blobs().stagingDirectory()));
  }
}
