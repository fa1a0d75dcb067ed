package dev.deployrt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.cli.view.Format;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code deployctl list}: deployment history, newest first, with the API's filters. */
@Command(
    name = "list",
    mixinStandardHelpOptions = true,
    description = "List deployments, newest first.")
final class ListCommand extends ReadCommand {
  @Option(
      names = {"-p", "--project"},
      paramLabel = "PROJECT")
  String project;

  @Option(
      names = "--status",
      paramLabel = "STATUS",
      description = "pending, distributing, succeeded, partial, failed, superseded or reverted.")
  String status;

  @Option(
      names = "--since",
      paramLabel = "TIME",
      description = "Created at or after (ISO-8601, e.g. 2026-11-22T00:00:00Z).")
  String since;

  @Option(names = "--until", paramLabel = "TIME", description = "Created at or before (ISO-8601).")
  String until;

  @Option(
      names = "--limit",
      paramLabel = "N",
      description = "At most N (1-1000; the server's default is 50).")
  Integer limit;

  @Option(names = "--offset", paramLabel = "N")
  Integer offset;

  @Override
  String path() {
    return "/deployments"
        + ApiClient.query(
            ApiClient.params(
                "project", project, "status", status, "since", since, "until", until, "limit",
                limit, "offset", offset));
  }

  @Override
  void print(JsonNode page, PrintStream out) {
    List<List<String>> rows = new ArrayList<>();
    for (JsonNode d : page.path("deployments")) {
      rows.add(
          List.of(
              Format.text(d, "deployment_id"),
              Format.text(d, "project"),
              Format.text(d, "status"),
              Format.text(d, "user"),
              Format.text(d, "created_at"),
              d.hasNonNull("payload_size") ? Format.bytes(d.get("payload_size").asLong()) : "",
              Format.text(d, "description")));
    }
    out.print(
        Format.table(
            List.of("DEPLOYMENT", "PROJECT", "STATUS", "USER", "CREATED", "SIZE", "DESCRIPTION"),
            rows));
    long total = page.path("total").asLong(rows.size());
    if (total > rows.size()) {
      out.println(
          "("
              + rows.size()
              + " of "
              + total
              + "; more with --offset "
              + (page.path("offset").asLong() + rows.size())
              + ")");
    }
  }
}
