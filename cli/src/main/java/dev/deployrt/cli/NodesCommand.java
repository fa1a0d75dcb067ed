package dev.deployrt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.cli.view.Format;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;

/** {@code deployctl nodes}: the cluster's members as the node asked sees them. */
@Command(
    name = "nodes",
    mixinStandardHelpOptions = true,
    description = "The cluster's members and their projects.")
final class NodesCommand extends ReadCommand {
  @Override
  String path() {
    return "/cluster/nodes";
  }

  @Override
  void print(JsonNode cluster, PrintStream out) {
    String self = Format.text(cluster, "self");
    List<List<String>> rows = new ArrayList<>();
    for (JsonNode n : cluster.path("nodes")) {
      List<String> roles = new ArrayList<>();
      n.path("roles").forEach(r -> roles.add(Format.printable(r.asText())));
      List<String> projects = new ArrayList<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = n.path("projects").fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> p = it.next();
        String id = Format.printable(p.getValue().asText());
        projects.add(
            Format.printable(p.getKey()) + "=" + (id.length() > 8 ? id.substring(0, 8) : id));
      }
      String name = Format.text(n, "node");
      rows.add(
          List.of(
              name + (name.equals(self) ? " *" : ""),
              Format.text(n, "address"),
              Format.text(n, "status"),
              String.join(",", roles),
              String.join(" ", projects)));
    }
    out.print(Format.table(List.of("NODE", "ADDRESS", "STATUS", "ROLES", "PROJECTS"), rows));
    out.println("(* the node answering: " + self + ")");
  }
}
