package dev.deployrt.hooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HookRunnerTest {
  @TempDir Path data;
  @TempDir Path release;

  private static ProjectHooks.Command sh(String script, Duration timeout) {
    return new ProjectHooks.Command(List.of("sh", "-c", script), timeout);
  }

  @Test
  void runsInTheReleaseWithTheDocumentedVariablesAndNoneOfTheNodesSecrets() throws IOException {
    HookRunner runner = HookRunner.open(data);
    HookRunner.Run run =
        runner.run(
            "check",
            sh(
                "pwd; echo \"$DEPLOY_PROJECT $DEPLOY_DEPLOYMENT_ID\"; env | sort | cut -d= -f1",
                Duration.ofSeconds(10)),
            release,
            Map.of("DEPLOY_PROJECT", "web", "DEPLOY_DEPLOYMENT_ID", "d-1"),
            () -> false);
    assertTrue(run.ok(), run.summary());
    assertEquals(release.toRealPath().toString(), run.lastLines().get(0));
    assertEquals("web d-1", run.lastLines().get(1));
    List<String> names = run.lastLines().subList(2, run.lastLines().size());
    assertTrue(names.contains("PATH"), names.toString());
    for (String name : names) {
      assertTrue(
          List.of(
                      "PATH",
                      "HOME",
                      "USER",
                      "LOGNAME",
                      "LANG",
                      "LC_ALL",
                      "TZ",
                      "TMPDIR",
                      "JAVA_HOME",
                      "PWD",
                      "SHLVL",
                      "_")
                  .contains(name)
              || name.startsWith("DEPLOY_PROJECT")
              || name.startsWith("DEPLOY_DEPLOYMENT_ID"),
          "a hook sees only the documented variables, not " + name);
    }
  }

  @Test
  void keepsTheLast50LinesEscapedAndReportsTheExitCode() throws IOException {
    HookRunner runner = HookRunner.open(data);
    HookRunner.Run run =
        runner.run(
            "check",
            sh(
                "i=0; while [ $i -lt 120 ]; do echo line $i; i=$((i+1)); done; printf 'bell\\a\\n' >&2; exit 3",
                Duration.ofSeconds(10)),
            release,
            Map.of(),
            () -> false);
    assertFalse(run.ok());
    assertEquals(3, run.exitCode());
    assertEquals(HookRunner.MAX_LINES, run.lastLines().size());
    assertEquals("line 71", run.lastLines().get(0));
    assertEquals("bell\\u0007", run.lastLines().get(49), "control characters are escaped");
    assertTrue(run.summary().contains("exited 3"), run.summary());
    assertNoOutputFiles();
  }

  @Test
  void aCommandPastItsTimeoutIsKilledWithItsChildren() throws Exception {
    HookRunner runner = HookRunner.open(data);
    Path pid = release.resolve("child.pid");
    HookRunner.Run run =
        runner.run(
            "activate",
            sh("sleep 30 & echo $! > " + pid + "; wait", Duration.ofMillis(500)),
            release,
            Map.of(),
            () -> false);
    assertTrue(run.timedOut());
    assertFalse(run.ok());
    assertTrue(run.summary().contains("was killed"), run.summary());
    long child = Long.parseLong(Files.readString(pid).strip());
    assertTrue(endsWithin(child, Duration.ofSeconds(5)), "the hook's child was killed too");
    assertNoOutputFiles();
  }

  @Test
  void aServiceTheHookLeavesRunningDoesNotKeepTheNodeWaiting() throws Exception {
    HookRunner runner = HookRunner.open(data);
    Path pid = release.resolve("service.pid");
    HookRunner.Run run =
        runner.run(
            "activate",
            sh("sleep 30 & echo $! > " + pid + "; echo started", Duration.ofSeconds(10)),
            release,
            Map.of(),
            () -> false);
    try {
      assertTrue(run.ok(), run.summary());
      assertEquals(List.of("started"), run.lastLines());
      assertTrue(run.took().compareTo(Duration.ofSeconds(10)) < 0, "returned at the hook's exit");
    } finally {
      ProcessHandle.of(Long.parseLong(Files.readString(pid).strip()))
          .ifPresent(ProcessHandle::destroyForcibly);
    }
  }

  @Test
  void cancellingKillsTheCommand() throws IOException {
    HookRunner runner = HookRunner.open(data);
    AtomicBoolean cancelled = new AtomicBoolean(true);
    assertThrows(
        CancellationException.class,
        () ->
            runner.run(
                "check",
                sh("sleep 30", Duration.ofSeconds(60)),
                release,
                Map.of(),
                cancelled::get));
    assertNoOutputFiles();
  }

  @Test
  void aProgramThatDoesNotExistIsAnError() throws IOException {
    HookRunner runner = HookRunner.open(data);
    assertThrows(
        IOException.class,
        () ->
            runner.run(
                "check",
                new ProjectHooks.Command(List.of("/nonexistent/selftest"), Duration.ofSeconds(5)),
                release,
                Map.of(),
                () -> false));
    assertNoOutputFiles();
  }

  @Test
  void outputFilesACrashLeftAreRemovedWhenOpened() throws IOException {
    Files.createDirectories(data.resolve("hooks"));
    Files.writeString(data.resolve("hooks/check-left.log"), "x");
    HookRunner.open(data);
    assertNoOutputFiles();
  }

  /**
   * Whether process {@code pid} ends (or is a zombie: killed, but its new parent has not reaped it)
   * within {@code limit}; polls {@code /proc}.
   */
  private static boolean endsWithin(long pid, Duration limit) throws IOException {
    long deadline = System.nanoTime() + limit.toNanos();
    Path stat = Path.of("/proc/" + pid + "/stat");
    while (System.nanoTime() - deadline < 0) {
      if (!Files.exists(stat)) {
        return true;
      }
      try {
        String s = Files.readString(stat);
        if (s.substring(s.lastIndexOf(')') + 2).startsWith("Z")) {
          return true;
        }
      } catch (java.nio.file.NoSuchFileException gone) {
        return true;
      }
      Thread.onSpinWait();
    }
    return false;
  }

  private void assertNoOutputFiles() throws IOException {
    try (Stream<Path> left = Files.list(data.resolve("hooks"))) {
      assertEquals(List.of(), left.toList());
    }
  }
}
