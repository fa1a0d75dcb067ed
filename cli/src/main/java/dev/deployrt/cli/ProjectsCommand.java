package dev.deployrt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.cli.view.Format;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;

/**
 * {@code deployctl projects}: each project's current release, where each node stands and the disk
 * its releases take there ({@code node-1:active[3.1 MiB]}).
 */
@Command(
    name = "projects",
    mixinStandardHelpOptions = true,
    description = "Each project's current release and each node's state.")
final class ProjectsCommand extends ReadCommand {
  @Override
  String path() {
    return "/projects";
  }

  @Override
  void print(JsonNode page, PrintStream out) {
    List<List<String>> rows = new ArrayList<>();
    for (JsonNode p : page.path("projects")) {
      List<String> nodes = new ArrayList<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = p.path("nodes").fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> n = it.next();
        boolean current =
            Format.text(n.getValue(), "deployment_id").equals(Format.text(p, "deployment_id"));
        JsonNode bytes = n.getValue().get("release_bytes");
        nodes.add(
            n.getKey()
                + ":"
                + Format.text(n.getValue(), "status")
                + (current ? "" : "(other release)")
                + (bytes == null || bytes.isNull()
                    ? ""
                    : "[" + Format.bytes(bytes.asLong()) + "]"));
      }
      String sha = Format.text(p, "sha256");
      rows.add(
          List.of(
              Format.text(p, "project"),
              Format.text(p, "deployment_id"),
              sha.length() > 12 ? sha.substring(0, 12) : sha,
              String.join(" ", nodes)));
    }
    out.print(Format.table(List.of("PROJECT", "DEPLOYMENT", "SHA256", "NODES"), rows));
  }
}
