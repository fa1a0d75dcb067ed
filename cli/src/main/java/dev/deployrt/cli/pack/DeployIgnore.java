package dev.deployrt.cli.pack;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;

/**
 * The rules of a {@code .deployignore} file, a subset of {@code .gitignore}: one glob per line;
 * blank lines and lines starting with {@code #} are skipped; {@code !} re-includes what an earlier
 * line excluded (the last matching line wins); a trailing {@code /} matches directories only; a
 * pattern with a {@code /} elsewhere is relative to the directory being deployed, one without
 * matches a name at any depth; {@code *} stays within a path segment and {@code **} crosses
 * segments. An excluded directory is skipped with everything under it. Globs are the JDK's ({@link
 * PathMatcher}).
 */
public final class DeployIgnore {
  public static final String FILE_NAME = ".deployignore";

  private record Rule(
      PathMatcher matcher, boolean negate, boolean directoryOnly, boolean anchored, String text) {}

  private final List<Rule> rules;

  private DeployIgnore(List<Rule> rules) {
    this.rules = rules;
  }

  public static DeployIgnore none() {
    return new DeployIgnore(List.of());
  }

  /** The rules in {@code root/.deployignore}, or none when there is no such file. */
  public static DeployIgnore of(Path root) throws IOException {
    Path file = root.resolve(FILE_NAME);
    return Files.isRegularFile(file) ? parse(Files.readAllLines(file)) : none();
  }

  public static DeployIgnore parse(List<String> lines) {
    List<Rule> rules = new ArrayList<>();
    for (String raw : lines) {
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      boolean negate = line.startsWith("!");
      if (negate) {
        line = line.substring(1);
      }
      boolean directoryOnly = line.endsWith("/");
      if (directoryOnly) {
        line = line.substring(0, line.length() - 1);
      }
      boolean anchored = line.contains("/");
      if (line.startsWith("/")) {
        line = line.substring(1);
      }
      if (line.isEmpty()) {
        continue;
      }
      try {
        rules.add(
            new Rule(
                FileSystems.getDefault().getPathMatcher("glob:" + line),
                negate,
                directoryOnly,
                anchored,
                raw));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            FILE_NAME + ": not a valid pattern: " + raw + " (" + e.getMessage() + ")");
      }
    }
    return new DeployIgnore(List.copyOf(rules));
  }

  /** Whether {@code relative} (a path under the deployed directory) is left out. */
  public boolean excludes(Path relative, boolean directory) {
    boolean excluded = false;
    Path name = relative.getFileName();
    for (Rule rule : rules) {
      if (rule.directoryOnly() && !directory) {
        continue;
      }
      boolean matches =
          rule.anchored() ? rule.matcher().matches(relative) : rule.matcher().matches(name);
      if (matches) {
        excluded = !rule.negate();
      }
    }
    return excluded;
  }
}
