package dev.deployrt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * A command that reads one resource and prints it for people, or as the API returns it with {@code
 * --json}.
 */
abstract class ReadCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--json", description = "Print it as the API returns it.")
  boolean json;

  /** The path and query to read. */
  abstract String path();

  abstract void print(JsonNode answer, PrintStream out);

  @Override
  public Integer call() {
    DeployCtl root = DeployCtl.of(spec);
    JsonNode answer = root.client().get(path());
    PrintStream out = root.session.out();
    if (json) {
      out.println(answer.toPrettyString());
    } else {
      print(answer, out);
    }
    out.flush();
    return 0;
  }
}
