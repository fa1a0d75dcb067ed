package dev.deployrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deployrt.http.TestNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * deployctl in a pseudo-terminal (util-linux {@code script} gives it one), as a person sees it: the
 * upload's progress bar redrawn in place, then coloured phase and node lines, then the outcome. The
 * CLI runs as its own JVM, so it decides for itself that it is on a terminal.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TerminalModeTest {
  private TestNode node;
  private Path work;

  @BeforeAll
  void start(@TempDir Path dir) {
    work = dir;
    node = TestNode.start(dir.resolve("node"), "node-1", Map.of());
  }

  @AfterAll
  void stop() {
    node.close();
  }

  private record Terminal(int exit, String screen) {}

  private Terminal inTerminal(String... args) throws IOException, InterruptedException {
    StringBuilder command = new StringBuilder();
    for (String part :
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx64m",
            "-cp",
            System.getProperty("java.class.path"),
            DeployCtl.class.getName())) {
      command.append(quote(part)).append(' ');
    }
    for (String a : args) {
      command.append(quote(a)).append(' ');
    }
    Path screen = work.resolve("screen.txt");
    ProcessBuilder pb =
        new ProcessBuilder("script", "-qefc", command.toString(), "/dev/null")
            .redirectErrorStream(true)
            .redirectOutput(screen.toFile())
            .redirectInput(ProcessBuilder.Redirect.PIPE);
    pb.environment()
        .putAll(
            Map.of(
                "DEPLOY_URL",
                node.url(""),
                "DEPLOY_USER",
                "admin",
                "DEPLOY_PASSWORD",
                TestNode.PASSWORD,
                "TERM",
                "xterm-256color",
                "COLUMNS",
                "120"));
    Process p = pb.start();
    assertTrue(p.waitFor(3, TimeUnit.MINUTES), "deployctl in a terminal did not finish");
    return new Terminal(p.exitValue(), Files.readString(screen, StandardCharsets.UTF_8));
  }

  private static String quote(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }

  @Test
  void aTerminalGetsAProgressBarAndLiveColouredStatus() throws Exception {
    Path dir = work.resolve("big");
    Files.createDirectories(dir);
    byte[] chunk = new byte[1 << 20];
    new Random(7).nextBytes(chunk);
    for (int i = 0; i < 24; i++) {
      Files.write(dir.resolve("part-" + i + ".bin"), chunk);
    }
    Terminal t = inTerminal("deploy", dir.toString(), "--project", "term");
    assertEquals(0, t.exit(), t.screen());
    String s = t.screen();
    assertTrue(
        s.contains("upload") && s.contains("%") && s.contains("MiB"), "a progress bar:\n" + s);
    assertTrue(s.contains("\r"), "redrawn in place:\n" + s);
    assertTrue(s.contains("\u001b[32m● "), "a node turning active, in green:\n" + s);
    assertTrue(s.contains("▸ ") && s.contains("phase extract"), "phase lines:\n" + s);
    assertTrue(s.contains("✔ deployment ") && s.contains("term succeeded"), "the outcome:\n" + s);
    assertTrue(Files.isSymbolicLink(node.dataDir.resolve("projects/term/current")));
  }

  @Test
  void aFailureInATerminalIsRedWithItsReasonAndExitsOne() throws Exception {
    Path bad =
        Files.write(work.resolve("bad.tar.gz"), "not a tarball".getBytes(StandardCharsets.UTF_8));
    Terminal t = inTerminal("deploy", bad.toString(), "--project", "term-bad");
    assertEquals(1, t.exit(), t.screen());
    assertTrue(t.screen().contains("\u001b[31m✖ "), t.screen());
    assertTrue(t.screen().contains("INVALID_ARCHIVE"), t.screen());
  }
}
