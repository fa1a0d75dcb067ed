package dev.deployrt.http;

import dev.deployrt.testkit.Ports;
import dev.deployrt.testkit.Unprivileged;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One node in a JVM of its own, started as {@code bin/deploy-node} starts it ({@code NodeMain},
 * configured by DEPLOY_* variables) with this test JVM's classpath. For tests that need a real
 * process boundary: SIGKILL, restart on the same data directory.
 */
final class NodeProcess {
  final String name;
  final int httpPort;
  final int clusterPort;
  final Path dataDir;
  private final Map<String, String> env;
  private final List<String> jvmOptions;
  private Process process;

  NodeProcess(String name, Path dataDir, Map<String, String> env, List<String> jvmOptions) {
    this.name = name;
    this.dataDir = dataDir;
    this.httpPort = freePort();
    this.clusterPort = freePort();
    this.env = env;
    this.jvmOptions = jvmOptions;
  }

  /** A free loopback port outside the ephemeral range ({@link Ports#free}). */
  static int freePort() {
    return Ports.free();
  }

  String clusterHostPort() {
    return "127.0.0.1:" + clusterPort;
  }

  String url(String path) {
    return "http://127.0.0.1:" + httpPort + path;
  }

  /**
   * Runs the node as an ordinary user ({@link Unprivileged}: uid 65534 when this JVM is root), from
   * a readable copy of the class path under {@code classpathCopy}; its data directory is handed to
   * it.
   */
  NodeProcess asOrdinaryUser(Path classpathCopy) throws IOException {
    this.ordinaryUserClasspath = classpathCopy;
    java.nio.file.Files.createDirectories(dataDir);
    Unprivileged.handOver(dataDir);
    return this;
  }

  private Path ordinaryUserClasspath;

  /**
   * The exit code once the process has ended by itself within {@code seconds}; -1 if it still runs.
   */
  int awaitExit(long seconds) throws InterruptedException {
    return process.waitFor(seconds, TimeUnit.SECONDS) ? process.exitValue() : -1;
  }

  /** Everything the node printed so far. */
  String log() throws IOException {
    return java.nio.file.Files.readString(dataDir.resolveSibling(name + ".log"));
  }

  NodeProcess start() {
    List<String> command;
    if (ordinaryUserClasspath != null) {
      command =
          Unprivileged.javaCommand(
              ordinaryUserClasspath, jvmOptions, "dev.deployrt.http.NodeMain", List.of());
    } else {
      command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.addAll(jvmOptions);
      command.add("-cp");
      command.add(System.getProperty("java.class.path"));
      command.add("dev.deployrt.http.NodeMain");
    }
    ProcessBuilder pb =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(
                ProcessBuilder.Redirect.appendTo(dataDir.resolveSibling(name + ".log").toFile()));
    pb.environment().putAll(env);
    pb.environment().put("DEPLOY_NODE_NAME", name);
    pb.environment().put("DEPLOY_DATA_DIR", dataDir.toString());
    pb.environment().put("DEPLOY_HTTP_PORT", Integer.toString(httpPort));
    pb.environment().put("DEPLOY_CLUSTER_PORT", Integer.toString(clusterPort));
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  /** SIGKILL: no shutdown hook, no leave, no flush. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM, then waits for the exit code (0 after a graceful leave). */
  int stop() throws InterruptedException {
    if (process == null || !process.isAlive()) {
      return process == null ? 0 : process.exitValue();
    }
    process.destroy();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
    return process.exitValue();
  }
}
