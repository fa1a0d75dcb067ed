package dev.deployrt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.cli.view.Format;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code deployctl node leave|down NAME}: ask the cluster to remove a member (admin). */
@Command(
    name = "node",
    mixinStandardHelpOptions = true,
    description = "Remove a member from the cluster (admin).",
    subcommands = {NodeCommand.Leave.class, NodeCommand.Down.class})
final class NodeCommand {

  abstract static class Removal implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(
        index = "0",
        paramLabel = "NAME",
        description = "The node's name, as `deployctl nodes` shows it.")
    String name;

    abstract String action();

    @Override
    public Integer call() {
      DeployCtl root = DeployCtl.of(spec);
      JsonNode answer = root.client().postJson("/cluster/nodes/" + name + "/" + action(), null);
      root.session
          .out()
          .println(
              "asked the cluster to "
                  + action()
                  + " "
                  + name
                  + " ("
                  + Format.text(answer, "address")
                  + "); follow it with: deployctl nodes");
      return 0;
    }
  }

  @Command(
      name = "leave",
      mixinStandardHelpOptions = true,
      description = "Ask NAME to leave gracefully: it hands its work over, then exits.")
  static final class Leave extends Removal {
    @Override
    String action() {
      return "leave";
    }
  }

  @Command(
      name = "down",
      mixinStandardHelpOptions = true,
      description =
          "Mark NAME down: for a node that is gone and will not come back (it must not be running).")
  static final class Down extends Removal {
    @Override
    String action() {
      return "down";
    }
  }
}
