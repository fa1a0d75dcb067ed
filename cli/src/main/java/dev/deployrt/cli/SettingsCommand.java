package dev.deployrt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.deployrt.cli.view.Format;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code deployctl settings PROJECT [--keep-releases N] [--keep-payloads N] [--strategy S]
 * [--canary-nodes N] [--health-window S] [--auto-revert|--no-auto-revert]}: shows a project's
 * settings and which nodes have which hooks, or (with an option; admin) changes the ones given and
 * shows the result.
 */
@Command(
    name = "settings",
    mixinStandardHelpOptions = true,
    description = "Show a project's settings, or change them (admin).")
final class SettingsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "PROJECT")
  String project;

  @Option(
      names = "--keep-releases",
      paramLabel = "N",
      description = "Release directories each node keeps (at least 2).")
  Integer keepReleases;

  @Option(
      names = "--keep-payloads",
      paramLabel = "N",
      description = "Deployments whose payloads the cluster keeps (at least 1).")
  Integer keepPayloads;

  @Option(
      names = "--strategy",
      paramLabel = "S",
      description = "Rollout strategy: all-at-once, two-phase or canary.")
  String strategy;

  @Option(
      names = "--canary-nodes",
      paramLabel = "N",
      description = "With canary: how many targets (first by node name) go first.")
  Integer canaryNodes;

  @Option(
      names = "--health-window",
      paramLabel = "S",
      description = "Seconds each node watches its health hook after switching (0: no watch).")
  Integer healthWindow;

  @Option(
      names = "--auto-revert",
      negatable = true,
      description = "Whether a node failing after its switch reverts the whole rollout.")
  Boolean autoRevert;

  @Option(names = "--json", description = "Print them as the API returns them.")
  boolean json;

  @Override
  public Integer call() {
    DeployCtl root = DeployCtl.of(spec);
    ApiClient api = root.client();
    String path = "/projects/" + project + "/settings";
    JsonNode settings;
    ObjectNode change = ApiClient.object();
    if (keepReleases != null) {
      change.put("keep_releases", keepReleases);
    }
    if (keepPayloads != null) {
      change.put("keep_payloads", keepPayloads);
    }
    ObjectNode rollout = ApiClient.object();
    if (strategy != null) {
      rollout.put("strategy", strategy);
    }
    if (canaryNodes != null) {
      rollout.put("canary_nodes", canaryNodes);
    }
    if (healthWindow != null) {
      rollout.put("health_window_s", healthWindow);
    }
    if (autoRevert != null) {
      rollout.put("auto_revert", autoRevert);
    }
    if (!rollout.isEmpty()) {
      change.set("rollout", rollout);
    }
    settings = change.isEmpty() ? api.get(path) : api.sendJson("PUT", path, change);
    PrintStream out = root.session.out();
    if (json) {
      out.println(settings.toPrettyString());
    } else {
      print(settings, out);
    }
    out.flush();
    return 0;
  }

  private static void print(JsonNode s, PrintStream out) {
    out.printf("%-14s %s%n", "project:", Format.text(s, "project"));
    out.printf("%-14s %s%n", "keep releases:", Format.text(s, "keep_releases"));
    out.printf("%-14s %s%n", "keep payloads:", Format.text(s, "keep_payloads"));
    JsonNode r = s.path("rollout");
    out.printf(
        "%-14s %s%s, health window %s s, auto-revert %s%n",
        "rollout:",
        Format.text(r, "strategy"),
        "canary".equals(Format.text(r, "strategy"))
            ? " (" + Format.text(r, "canary_nodes") + " first)"
            : "",
        Format.text(r, "health_window_s"),
        r.path("auto_revert").asBoolean() ? "on" : "off");
    s.path("hooks")
        .fields()
        .forEachRemaining(
            node -> {
              java.util.List<String> kinds = new java.util.ArrayList<>();
              node.getValue()
                  .fields()
                  .forEachRemaining(
                      k -> {
                        if (k.getValue().asBoolean()) {
                          kinds.add(k.getKey());
                        }
                      });
              out.printf(
                  "%-14s %s: %s%n",
                  "hooks:", node.getKey(), kinds.isEmpty() ? "none" : String.join(", ", kinds));
            });
    String by = Format.text(s, "updated_by");
    out.printf(
        "%-14s %s%n",
        "updated:",
        by.isEmpty() ? "never (the defaults)" : Format.text(s, "updated_at") + " by " + by);
  }
}
