package dev.deployrt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.cli.view.DeploymentView;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code deployctl rollback --project P --to ID}: deploys an earlier deployment's payload again and
 * follows it.
 */
@Command(
    name = "rollback",
    mixinStandardHelpOptions = true,
    description =
        "Deploy an earlier deployment's stored payload again (a new, audited deployment) and follow it.")
final class RollbackCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(
      names = {"-p", "--project"},
      required = true,
      paramLabel = "PROJECT",
      description = "Project to roll back.")
  String project;

  @Option(
      names = "--to",
      required = true,
      paramLabel = "ID",
      description = "The deployment whose payload to deploy again.")
  String to;

  @Option(names = "--no-wait", description = "Return once distribution started.")
  boolean noWait;

  @Option(names = "--json", description = "Print only the final deployment as JSON.")
  boolean json;

  @Override
  public Integer call() {
    DeployCtl root = DeployCtl.of(spec);
    Session session = root.session;
    ApiClient api = root.client();
    JsonNode accepted =
        api.postJson(
            "/deployments?wait=false",
            ApiClient.object().put("project", project).put("rollback_of", to));
    String id = accepted.get("deployment_id").asText();
    if (noWait) {
      session
          .out()
          .println(
              json
                  ? accepted.toPrettyString()
                  : "rollback "
                      + id
                      + " of "
                      + project
                      + " to "
                      + to
                      + " accepted; follow it with: deployctl tail "
                      + id);
      return 0;
    }
    DeploymentView view = DeployCommand.views(session, json);
    if (!json) {
      session.out().println("rolling back " + project + " to " + to + " as deployment " + id);
    }
    return Follower.finish(session, Follower.follow(api, id, view), json);
  }
}
