package dev.deployrt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.cli.view.DeploymentView;
import java.util.concurrent.Callable;
import java.util.function.LongSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code deployctl tail ID}: the deployment's events from the first retained one, then live ones,
 * until it ends; exits like deploy (0 succeeded, 1 otherwise). {@code --json}: one JSON event per
 * line.
 */
@Command(
    name = "tail",
    mixinStandardHelpOptions = true,
    description =
        "Print a deployment's events, replayed then live, until it ends; the exit code says how it ended.")
final class TailCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "ID")
  String id;

  @Option(
      names = "--json",
      description = "One event per line as JSON (the last line is the final deployment).")
  boolean json;

  @Override
  public Integer call() {
    DeployCtl root = DeployCtl.of(spec);
    Session session = root.session;
    DeploymentView view = json ? new JsonLines(session) : DeployCommand.views(session, false);
    JsonNode deployment = Follower.follow(root.client(), id, view);
    Follower.explain(session, deployment);
    return Follower.exitCode(deployment);
  }

  private record JsonLines(Session session) implements DeploymentView {
    @Override
    public void uploadStarted(String what, long total, LongSupplier sent) {}

    @Override
    public void uploadFinished(long bytes, double seconds) {}

    @Override
    public void event(JsonNode event) {
      session.out().println(event.toString());
      session.out().flush();
    }

    @Override
    public void finished(JsonNode deployment) {
      session.out().println(deployment.toString());
      session.out().flush();
    }
  }
}
