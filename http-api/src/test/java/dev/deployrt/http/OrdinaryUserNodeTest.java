package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.testkit.FileTrees;
import dev.deployrt.testkit.Tarball;
import dev.deployrt.testkit.Unprivileged;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node in a process of its own running as an ordinary user (uid 65534 when the build runs as
 * root, as CI does; root ignores permission bits, so these bugs cannot show in-process): an archive
 * whose read-only directory is listed after its contents deploys; the data directory and what it
 * holds are the node's alone; a leftover the node cannot remove does not stop it from starting; a
 * weak DEPLOY_ADMIN_PASSWORD is a clear start-up error.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OrdinaryUserNodeTest {
  private static final String PASSWORD = "ordinary-user-admin";
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final ActorTestKit waits = ActorTestKit.create();
  private Path classpath;
  private Path root;

  @BeforeAll
  void copyClasspath(@TempDir Path dir) {
    root = dir;
    classpath = dir.resolve("classpath");
    Unprivileged.classpath(classpath);
  }

  @AfterAll
  void stop() {
    waits.shutdownTestKit();
  }

  private NodeProcess node(String name, Map<String, String> env) throws IOException {
    return new NodeProcess(
            name, root.resolve(name).resolve("data"), env, List.of("-Xmx256m", "-XX:+UseSerialGC"))
        .asOrdinaryUser(classpath);
  }

  private HttpResponse<String> send(HttpRequest.Builder request) {
    try {
      return http.send(
          request.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private void awaitReady(NodeProcess n) {
    waits
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(90),
            Duration.ofMillis(500),
            () -> {
              assertEquals(
                  200,
                  send(HttpRequest.newBuilder(URI.create(n.url("/health/ready")))).statusCode());
              return null;
            });
  }

  private static String mode(Path p) throws IOException {
    return PosixFilePermissions.toString(
        Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void aNodeRunningAsAnOrdinaryUserDeploysStartsAgainAndKeepsItsDataPrivate() throws Exception {
    NodeProcess n = node("node-u", Map.of("DEPLOY_ADMIN_PASSWORD", PASSWORD));
    n.start();
    try {
      awaitReady(n);
      // A read-only directory listed after its contents: a/b/ (0700), then a/ (0000).
      byte[] archive =
          Tarball.builder().dir("a/b/", 0700).file("a/b/f", "x").dir("a/", 0).toBytes();
      HttpResponse<String> r =
          send(
              HttpRequest.newBuilder(URI.create(n.url("/deployments?project=web")))
                  .header("Authorization", TestNode.basic("admin", PASSWORD))
                  .header("Content-Type", "application/gzip")
                  .POST(HttpRequest.BodyPublishers.ofByteArray(archive)));
      assertEquals(201, r.statusCode(), r.body());
      JsonNode d = TestNode.json(r);
      assertEquals("succeeded", d.get("status").asText(), d.toPrettyString());
      Path release = n.dataDir.resolve("projects/web/current");
      assertEquals("---------", mode(release.resolve("a")), "the archive's own mode, applied last");

      assertEquals("rwx------", mode(n.dataDir), "the data directory is the node's alone");
      for (String blob : FileTrees.list(n.dataDir.resolve("blobs/sha256"))) {
        Path p = n.dataDir.resolve("blobs/sha256").resolve(blob);
        if (Files.isRegularFile(p)) {
          assertEquals("rw-------", mode(p), blob);
        }
      }
      try (var db = Files.list(n.dataDir.resolve("db"))) {
        for (Path f : db.filter(Files::isRegularFile).toList()) {
          assertEquals("rw-------", mode(f), f.toString());
        }
      }
    } finally {
      assertEquals(0, n.stop(), n.log());
    }

    // A leftover the node cannot remove (root's, inside the node's releases): set aside, and it
    // starts.
    if (Unprivileged.isRoot()) {
      Path foreign =
          Files.createDirectories(n.dataDir.resolve("projects/web/releases/.staging-x-1/sub"));
      Files.writeString(foreign.resolve("f"), "root's");
    }
    n.start();
    try {
      awaitReady(n);
      HttpResponse<String> list =
          send(
              HttpRequest.newBuilder(URI.create(n.url("/deployments?project=web")))
                  .header("Authorization", TestNode.basic("admin", PASSWORD)));
      assertEquals(200, list.statusCode(), list.body());
      if (Unprivileged.isRoot()) {
        assertTrue(
            FileTrees.list(n.dataDir.resolve("projects/web/releases")).stream()
                .anyMatch(p -> p.startsWith(".unremovable-.staging-x-1-")),
            "set aside: " + n.log());
      }
    } finally {
      assertEquals(0, n.stop(), n.log());
    }
  }

  @Test
  void aWeakAdminPasswordIsAClearStartUpError() throws Exception {
    NodeProcess n = node("node-weak", Map.of("DEPLOY_ADMIN_PASSWORD", "short"));
    n.start();
    int exit = n.awaitExit(60);
    assertEquals(2, exit, n.log());
    assertTrue(
        n.log()
            .contains(
                "DEPLOY_ADMIN_PASSWORD (deploy.admin-password) must be 12 to 1024 characters"),
        n.log());
  }
}
