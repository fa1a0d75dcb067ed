package dev.deployrt.cli;

import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;

/**
 * What the CLI takes from the process it runs in, so that tests can run it in-JVM: output streams,
 * stdin, the environment, the home directory and whether stdout is an interactive terminal (which
 * selects the progress bar and live status over plain one-line-per-event output).
 */
public record Session(
    PrintStream out,
    PrintStream err,
    InputStream in,
    Map<String, String> env,
    Path home,
    boolean terminal) {

  /** The real process: a terminal when the JVM has a console and TERM is not "dumb". */
  public static Session ofProcess() {
    Map<String, String> env = System.getenv();
    boolean terminal = System.console() != null && !"dumb".equals(env.get("TERM"));
    return new Session(
        System.out, System.err, System.in, env, Path.of(System.getProperty("user.home")), terminal);
  }

  String env(String name) {
    String value = env.get(name);
    return value == null || value.isEmpty() ? null : value;
  }
}
