package dev.deployrt.hooks;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValueType;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * This node's hooks per project, read once from {@code deploy.hooks} (API.md, "Rollout strategies
 * and hooks"). A mistake in them (an unknown key, an empty command, a health hook with both or
 * neither of {@code url} and {@code command}) stops the node at start with a message naming the
 * setting, rather than surfacing at the next deploy.
 */
public final class HookSettings {
  private static final Pattern PROJECT = Pattern.compile("^[a-z0-9][a-z0-9._-]{0,63}$");
  private static final Set<String> KINDS = Set.of("check", "activate", "health");
  private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

  private final Map<String, ProjectHooks> byProject;

  private HookSettings(Map<String, ProjectHooks> byProject) {
    this.byProject = Map.copyOf(byProject);
  }

  public static final HookSettings NONE = new HookSettings(Map.of());

  /**
   * @param deploy the {@code deploy} section
   * @throws IllegalArgumentException naming the first setting that is wrong
   */
  public static HookSettings fromConfig(Config deploy) {
    if (!deploy.hasPath("hooks")) {
      return NONE;
    }
    Config hooks = deploy.getConfig("hooks");
    Map<String, ProjectHooks> out = new TreeMap<>();
    for (String project : hooks.root().keySet()) {
      String where = "deploy.hooks." + project;
      if (!PROJECT.matcher(project).matches()) {
        throw new IllegalArgumentException(where + ": not a project name");
      }
      try {
        out.put(project, project(hooks.getConfig(quoted(project)), where));
      } catch (ConfigException e) {
        throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
      }
    }
    return new HookSettings(out);
  }

  /** The project's hooks on this node ({@link ProjectHooks#NONE} if none). */
  public ProjectHooks of(String project) {
    return byProject.getOrDefault(project, ProjectHooks.NONE);
  }

  /** Project to the names of its configured hooks, for every project with any. */
  public Map<String, List<String>> configured() {
    Map<String, List<String>> out = new TreeMap<>();
    byProject.forEach((project, hooks) -> out.put(project, hooks.configured()));
    return out;
  }

  private static ProjectHooks project(Config c, String where) {
    for (String key : c.root().keySet()) {
      if (!KINDS.contains(key)) {
        throw new IllegalArgumentException(
            where + "." + key + ": unknown hook (use check, activate or health)");
      }
    }
    return new ProjectHooks(
        c.hasPath("check") ? command(c.getConfig("check"), where + ".check") : null,
        c.hasPath("activate") ? command(c.getConfig("activate"), where + ".activate") : null,
        c.hasPath("health") ? health(c.getConfig("health"), where + ".health") : null);
  }

  private static ProjectHooks.Command command(Config c, String where) {
    onlyKeys(c, where, Set.of("command", "timeout"));
    return new ProjectHooks.Command(
        argv(c, where), c.hasPath("timeout") ? c.getDuration("timeout") : DEFAULT_TIMEOUT);
  }

  private static List<String> argv(Config c, String where) {
    if (!c.hasPath("command") || c.getValue("command").valueType() != ConfigValueType.LIST) {
      throw new IllegalArgumentException(
          where + ".command: must be a list of strings, e.g. [\"bin/selftest\", \"--quick\"]");
    }
    List<String> argv = c.getStringList("command");
    if (argv.isEmpty() || argv.get(0).isBlank()) {
      throw new IllegalArgumentException(where + ".command: must name a program");
    }
    return argv;
  }

  private static ProjectHooks.Health health(Config c, String where) {
    onlyKeys(c, where, Set.of("url", "command", "interval", "failures", "timeout"));
    boolean url = c.hasPath("url");
    if (url == c.hasPath("command")) {
      throw new IllegalArgumentException(where + ": set exactly one of url and command");
    }
    Duration timeout = c.hasPath("timeout") ? c.getDuration("timeout") : Duration.ofSeconds(5);
    URI uri = null;
    if (url) {
      uri = URI.create(c.getString("url"));
      if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
        throw new IllegalArgumentException(where + ".url: must be an http or https URL");
      }
    }
    int failures = c.hasPath("failures") ? c.getInt("failures") : 3;
    Duration interval = c.hasPath("interval") ? c.getDuration("interval") : Duration.ofSeconds(2);
    if (failures < 1 || interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException(
          where + ": failures must be at least 1 and interval more than 0");
    }
    return new ProjectHooks.Health(
        uri,
        url ? null : new ProjectHooks.Command(argv(c, where), timeout),
        interval,
        failures,
        timeout);
  }

  private static void onlyKeys(Config c, String where, Set<String> allowed) {
    for (String key : c.root().keySet()) {
      if (!allowed.contains(key)) {
        throw new IllegalArgumentException(
            where + "." + key + ": unknown setting (allowed: " + String.join(", ", allowed) + ")");
      }
    }
  }

  private static String quoted(String project) {
    return "\"" + project + "\"";
  }
}
