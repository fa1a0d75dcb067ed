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
 * {@code deployctl settings PROJECT [--keep-releases N] [--keep-payloads N]}: shows a project's
 * settings, or (with an option; admin) changes the ones given and shows the result.
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

  @Option(names = "--json", description = "Print them as the API returns them.")
  boolean json;

  @Override
  public Integer call() {
    DeployCtl root = DeployCtl.of(spec);
    ApiClient api = root.client();
    String path = "/projects/" + project + "/settings";
    JsonNode settings;
    if (keepReleases == null && keepPayloads == null) {
      settings = api.get(path);
    } else {
      ObjectNode change = ApiClient.object();
      if (keepReleases != null) {
        change.put("keep_releases", keepReleases);
      }
      if (keepPayloads != null) {
        change.put("keep_payloads", keepPayloads);
      }
      settings = api.sendJson("PUT", path, change);
    }
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
    String by = Format.text(s, "updated_by");
    out.printf(
        "%-14s %s%n",
        "updated:",
        by.isEmpty() ? "never (the defaults)" : Format.text(s, "updated_at") + " by " + by);
  }
}
