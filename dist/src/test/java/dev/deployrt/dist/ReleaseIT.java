package dev.deployrt.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The release as a newcomer gets it: {@code deploy-runtime-VERSION.tar.gz} unpacked into an empty
 * directory outside the checkout, a node started with its {@code bin/deploy-node} (no Maven, no
 * sources), a directory deployed with its {@code bin/deployctl}, the node stopped with SIGTERM.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReleaseIT {
  private static final String PASSWORD = "release-admin-pw";
  private final ActorTestKit waits = ActorTestKit.create();

  @AfterAll
  void stop() {
    waits.shutdownTestKit();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /**
   * Runs {@code command} in {@code dir} with {@code env} added, Java 17's {@code java} first on the
   * PATH.
   */
  private static ProcessBuilder process(Path dir, Map<String, String> env, String... command) {
    ProcessBuilder pb =
        new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
    pb.environment()
        .put("PATH", Path.of(System.getProperty("java.home"), "bin") + ":" + System.getenv("PATH"));
    pb.environment().putAll(env);
    return pb;
  }

  @Test
  void theUnpackedReleaseRunsANodeAndItsCliDeploysToIt(@TempDir Path empty) throws Exception {
    Path archive = Path.of(System.getProperty("release.archive"));
    assertTrue(Files.isRegularFile(archive), "the release was packed: " + archive);
    Process untar =
        new ProcessBuilder("tar", "xzf", archive.toString(), "-C", empty.toString())
            .inheritIO()
            .start();
    assertEquals(0, untar.waitFor());
    Path home;
    try (var entries = Files.list(empty)) {
      home = entries.findFirst().orElseThrow();
    }
    for (String part :
        List.of(
            "bin/deploy-node",
            "bin/deployctl",
            "config/application.conf",
            "README.md",
            "docs/api.md")) {
      assertTrue(Files.exists(home.resolve(part)), part);
    }
    assertFalse(Files.exists(home.resolve("http-api")), "no sources, no build output");

    int http = freePort();
    Path log = empty.resolve("node.log");
    Process node =
        process(
                empty,
                Map.of(
                    "DEPLOY_DATA_DIR",
                    empty.resolve("data").toString(),
                    "DEPLOY_HTTP_PORT",
                    Integer.toString(http),
                    "DEPLOY_CLUSTER_PORT",
                    Integer.toString(freePort()),
                    "DEPLOY_ADMIN_PASSWORD",
                    PASSWORD,
                    "DEPLOY_NODE_NAME",
                    "release",
                    "JAVA_OPTS",
                    "-Xmx256m"),
                home.resolve("bin/deploy-node").toString())
            .redirectOutput(log.toFile())
            .start();
    try {
      HttpClient client = HttpClient.newHttpClient();
      waits
          .createTestProbe()
          .awaitAssert(
              Duration.ofSeconds(90),
              Duration.ofMillis(500),
              () -> {
                try {
                  HttpResponse<String> ready =
                      client.send(
                          HttpRequest.newBuilder(
                                  URI.create("http://127.0.0.1:" + http + "/health/ready"))
                              .build(),
                          HttpResponse.BodyHandlers.ofString());
                  assertEquals(200, ready.statusCode());
                } catch (IOException e) {
                  throw new AssertionError("not answering yet", e);
                }
                return null;
              });

      Path site = Files.createDirectories(empty.resolve("site"));
      Files.writeString(site.resolve("index.html"), "<h1>from the release</h1>");
      Process deploy =
          process(
                  empty,
                  Map.of(
                      "DEPLOY_URL",
                      "http://127.0.0.1:" + http,
                      "DEPLOY_USER",
                      "admin",
                      "DEPLOY_PASSWORD",
                      PASSWORD),
                  home.resolve("bin/deployctl").toString(),
                  "deploy",
                  site.toString(),
                  "--project",
                  "smoke")
              .start();
      String output = new String(deploy.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(deploy.waitFor(120, TimeUnit.SECONDS));
      assertEquals(0, deploy.exitValue(), output);
      assertEquals(
          "<h1>from the release</h1>",
          Files.readString(empty.resolve("data/projects/smoke/current/index.html")));
    } finally {
      node.destroy();
      assertTrue(node.waitFor(60, TimeUnit.SECONDS), "the node stops on SIGTERM");
    }
    assertEquals(0, node.exitValue(), Files.readString(log));
  }
}
