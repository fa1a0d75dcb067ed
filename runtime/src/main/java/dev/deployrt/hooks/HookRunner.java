package dev.deployrt.hooks;

import dev.deployrt.text.ClientText;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Runs a hook command: its argv as given (no shell), in a working directory, with the documented
 * {@code DEPLOY_*} variables and only the harmless part of the node's own environment ({@code
 * PATH}, {@code HOME}, locale, user): never the node's secrets ({@code DEPLOY_ADMIN_PASSWORD},
 * {@code DEPLOY_DB_PASSWORD}, …). Blocking.
 *
 * <p>Output (stdout and stderr together) goes to a file under {@code <data>/hooks/}, not a pipe, so
 * a hook that starts a long-running service (which inherits the output) never keeps this node
 * waiting; the last {@value #MAX_LINES} lines are read back once the command exits, and the file is
 * deleted. A command still running at its timeout, or when the caller cancels, is killed with its
 * descendants. Files a crash left are removed when the runner is opened.
 */
public final class HookRunner {
  public static final int MAX_LINES = 50;
  private static final int TAIL_BYTES = 64 * 1024;
  private static final int MAX_LINE_CHARS = 500;
  private static final List<String> INHERITED =
      List.of("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR", "JAVA_HOME");

  private final Path outputDir;

  private HookRunner(Path outputDir) {
    this.outputDir = outputDir;
  }

  /** A runner writing its output files under {@code dataDir/hooks}, emptied now. */
  public static HookRunner open(Path dataDir) {
    Path dir = dataDir.resolve("hooks");
    try {
      Files.createDirectories(dir);
      try (DirectoryStream<Path> left = Files.newDirectoryStream(dir)) {
        for (Path p : left) {
          Files.deleteIfExists(p);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare " + dir, e);
    }
    return new HookRunner(dir);
  }

  /**
   * One run of a hook.
   *
   * @param exitCode the command's exit status (-1 if it was killed at its timeout)
   * @param lastLines its last output lines (at most {@value #MAX_LINES}), control characters
   *     escaped
   */
  public record Run(
      String kind,
      List<String> argv,
      int exitCode,
      boolean timedOut,
      List<String> lastLines,
      Duration took) {
    public boolean ok() {
      return !timedOut && exitCode == 0;
    }

    /** E.g. {@code check hook [bin/selftest] exited 1 after 0.2 s}. */
    public String summary() {
      String what = kind + " hook " + ClientText.printable(argv.toString(), 200);
      return timedOut
          ? what + " did not finish within " + took.toSeconds() + " s and was killed"
          : what + " exited " + exitCode + " after " + seconds(took) + " s";
    }
  }

  /**
   * Runs {@code command} in {@code cwd} with {@code env} added to the inherited variables.
   *
   * @throws IOException if the command could not be started (e.g. no such program)
   * @throws CancellationException if {@code cancelled} turned true first (the command was killed)
   */
  public Run run(
      String kind,
      ProjectHooks.Command command,
      Path cwd,
      Map<String, String> env,
      BooleanSupplier cancelled)
      throws IOException {
    Path output = outputDir.resolve(kind + "-" + UUID.randomUUID() + ".log");
    ProcessBuilder builder =
        new ProcessBuilder(command.argv())
            .directory(cwd.toFile())
            .redirectErrorStream(true)
            .redirectOutput(output.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Map<String, String> vars = builder.environment();
    Map<String, String> own = Map.copyOf(vars);
    vars.clear();
    INHERITED.forEach(
        name -> {
          if (own.containsKey(name)) {
            vars.put(name, own.get(name));
          }
        });
    vars.putAll(env);
    long start = System.nanoTime();
    try {
      Process process = builder.start();
      boolean timedOut = !waitFor(process, command.timeout(), cancelled);
      Duration took = Duration.ofNanos(System.nanoTime() - start);
      return new Run(
          kind,
          command.argv(),
          timedOut ? -1 : process.exitValue(),
          timedOut,
          lastLines(output),
          took);
    } finally {
      Files.deleteIfExists(output);
    }
  }

  /** True if it exited in time; false if killed at the timeout. */
  private static boolean waitFor(Process process, Duration timeout, BooleanSupplier cancelled) {
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      while (!process.waitFor(100, TimeUnit.MILLISECONDS)) {
        if (cancelled.getAsBoolean()) {
          kill(process);
          throw new CancellationException("cancelled while a hook ran");
        }
        if (System.nanoTime() - deadline > 0) {
          kill(process);
          return false;
        }
      }
      return true;
    } catch (InterruptedException e) {
      kill(process);
      Thread.currentThread().interrupt();
      throw new CancellationException("interrupted while a hook ran");
    }
  }

  private static void kill(Process process) {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
    try {
      process.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static List<String> lastLines(Path output) throws IOException {
    byte[] tail;
    try (RandomAccessFile file = new RandomAccessFile(output.toFile(), "r")) {
      long length = file.length();
      long from = Math.max(0, length - TAIL_BYTES);
      tail = new byte[(int) (length - from)];
      file.seek(from);
      file.readFully(tail);
    }
    List<String> lines =
        new ArrayList<>(Arrays.asList(new String(tail, StandardCharsets.UTF_8).split("\n", -1)));
    while (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
      lines.remove(lines.size() - 1);
    }
    List<String> last = lines.subList(Math.max(0, lines.size() - MAX_LINES), lines.size());
    return last.stream().map(line -> ClientText.printable(line, MAX_LINE_CHARS)).toList();
  }

  private static String seconds(Duration d) {
    return String.format(java.util.Locale.ROOT, "%.1f", d.toMillis() / 1000.0);
  }
}
