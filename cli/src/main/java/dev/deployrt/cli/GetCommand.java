package dev.deployrt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.cli.view.Format;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code deployctl get ID}: one deployment, its nodes and (with --events) its retained events. */
@Command(name = "get", mixinStandardHelpOptions = true, description = "Show one deployment.")
final class GetCommand extends ReadCommand {
  @Parameters(index = "0", paramLabel = "ID")
  String id;

  @Option(names = "--events", description = "Also list the retained events.")
  boolean events;

  @Override
  String path() {
    return "/deployments/" + id;
  }

  @Override
  void print(JsonNode d, PrintStream out) {
    String[][] fields = {
      {"deployment", "deployment_id"},
      {"project", "project"},
      {"status", "status"},
      {"description", "description"},
      {"user", "user"},
      {"origin node", "origin_node"},
      {"rollback of", "rollback_of"},
      {"sha256", "sha256"},
      {"created", "created_at"},
      {"completed", "completed_at"}
    };
    for (String[] f : fields) {
      String v = Format.text(d, f[1]);
      if (!v.isEmpty()) {
        out.printf("%-12s %s%n", f[0] + ":", v);
      }
    }
    if (d.hasNonNull("payload_size")) {
      out.printf(
          "%-12s %s%s%n",
          "payload:",
          Format.bytes(d.get("payload_size").asLong()),
          d.path("payload_present").asBoolean(true) ? "" : " (pruned)");
    }
    for (String failure : Format.failures(d)) {
      out.printf("%-12s %s%n", "error:", failure);
    }
    List<List<String>> rows = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = d.path("nodes").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> n = it.next();
      JsonNode error = n.getValue().get("error");
      rows.add(
          List.of(
              Format.printable(n.getKey()),
              Format.text(n.getValue(), "status"),
              Format.text(n.getValue(), "updated_at"),
              error == null || error.isNull()
                  ? ""
                  : Format.text(error, "code") + ": " + Format.text(error, "message")));
    }
    if (!rows.isEmpty()) {
      out.println();
      out.print(Format.table(List.of("NODE", "STATUS", "UPDATED", "ERROR"), rows));
    }
    if (events) {
      out.println();
      for (JsonNode e : d.path("events")) {
        out.println(Format.eventLine(e));
      }
      out.println("(" + d.path("event_count").asLong() + " events in all)");
    }
  }
}
