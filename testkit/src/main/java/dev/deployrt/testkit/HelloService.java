package dev.deployrt.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
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

/**
 * The tour's sample component ({@code examples/hello-service}) for tests that deploy a real
 * service: its payload (a Python HTTP server whose {@code /healthz} follows the release's {@code
 * health} file) and a node's hooks for it (activate restarts it with {@code supervise.py}, health
 * polls it). Each node runs its own copy on its own port.
 */
public final class HelloService {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final Path home;

  /** Copies the example's scripts into {@code home} (the hooks run them from there). */
  public HelloService(Path home) {
    this.home = home;
    try {
      Files.createDirectories(home);
      Files.write(home.resolve("supervise.py"), resource("supervise.py"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A release of the service: {@code version}, healthy or broken. */
  public static byte[] payload(String version, boolean healthy) {
    return Tarball.builder()
        .file("server.py", new String(resource("app/server.py"), StandardCharsets.UTF_8))
        .file("version", version + "\n")
        .file("health", (healthy ? "healthy" : "broken") + "\n")
        .toBytes();
  }

  /**
   * A node's {@code deploy.hooks.<project>} settings (as flat config paths) running the service on
   * {@code port}: activate restarts it, health polls {@code /healthz} every 200 ms (3 failures in a
   * row fail it).
   */
  public Map<String, Object> hooks(String project, String node, int port) {
    return hooks(project, node, port, 3);
  }

  /** As {@link #hooks(String, String, int)}, failing the watch after {@code failures} in a row. */
  public Map<String, Object> hooks(String project, String node, int port, int failures) {
    String prefix = "deploy.hooks." + project + ".";
    return Map.of(
        prefix + "activate.command",
        List.of(
            python(),
            home.resolve("supervise.py").toString(),
            Integer.toString(port),
            home.resolve(project + "-" + node + ".pid").toString()),
        prefix + "activate.timeout",
        "20s",
        prefix + "health.url",
        "http://127.0.0.1:" + port + "/healthz",
        prefix + "health.interval",
        "200ms",
        prefix + "health.failures",
        failures);
  }

  /** What the service on {@code port} answers at {@code /}, or null if nothing answers. */
  public static String version(int port) {
    try {
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                  .timeout(Duration.ofSeconds(2))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? r.body().strip() : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** Stops every copy of the service started from this home (their pid files). */
  public void stopAll() {
    try (var files = Files.newDirectoryStream(home, "*.pid")) {
      for (Path pidFile : files) {
        long pid = Long.parseLong(Files.readString(pidFile).strip());
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      }
    } catch (IOException | NumberFormatException e) {
      throw new IllegalStateException("could not stop the hello services", e);
    }
  }

  /**
   * A free loopback port for a copy of the service, outside the ephemeral range ({@link
   * Ports#free}): the service binds it again after every restart, so an outgoing connection must
   * not be handed it meanwhile.
   */
  public static int freePort() {
    return Ports.free();
  }

  /** The Python 3 the hooks run (the system's, so it works for any user). */
  public static String python() {
    return Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
  }

  private static byte[] resource(String name) {
    try (InputStream in = HelloService.class.getResourceAsStream("/hello-service/" + name)) {
      if (in == null) {
        throw new IllegalStateException("hello-service/" + name + " is not on the classpath");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
