package dev.deployrt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.cli.view.DeploymentView;
import dev.deployrt.cli.view.Format;

/**
 * Follows one deployment's event stream to its end and returns the final deployment. The stream
 * replays the retained events first, so nothing is missed however late it is opened; if the
 * connection drops it resumes after the last event seen ({@code Last-Event-ID}), a few times,
 * before giving up with exit code 5.
 */
final class Follower {
  private static final int RESUMES = 5;

  private Follower() {}

  static JsonNode follow(ApiClient api, String id, DeploymentView view) {
    String last = null;
    JsonNode[] done = {null};
    for (int attempt = 0; ; attempt++) {
      try {
        last =
            api.events(
                "/deployments/" + id + "/events",
                last,
                sse -> {
                  if (sse.event().equals("done")) {
                    done[0] = sse.data();
                    return false;
                  }
                  view.event(sse.data());
                  return true;
                });
      } catch (CliException e) {
        if (e.exitCode() != CliException.UNAVAILABLE || attempt >= RESUMES) {
          throw e;
        }
        pause(attempt);
        continue;
      }
      if (done[0] != null) {
        JsonNode deployment = api.get("/deployments/" + id);
        view.finished(deployment);
        return deployment;
      }
      if (attempt >= RESUMES) {
        throw new CliException(
            CliException.UNAVAILABLE,
            "the event stream of "
                + id
                + " kept ending before the deployment did; follow it with: deployctl tail "
                + id);
      }
    }
  }

  /**
   * The end of a deploy or rollback: the deployment as JSON if asked, why it failed on stderr, the
   * exit code.
   */
  static int finish(Session session, JsonNode deployment, boolean json) {
    if (json) {
      session.out().println(deployment.toPrettyString());
      session.out().flush();
    }
    explain(session, deployment);
    return exitCode(deployment);
  }

  /** 0 for succeeded, 1 for any other terminal status (failed, partial, superseded, reverted). */
  static int exitCode(JsonNode deployment) {
    return "succeeded".equals(Format.text(deployment, "status")) ? 0 : CliException.FAILED;
  }

  /** Says on stderr why a deployment did not succeed: the phase and reason of each failure. */
  static void explain(Session session, JsonNode deployment) {
    if (exitCode(deployment) == 0) {
      return;
    }
    session.err().println("deployctl: " + Format.outcome(deployment));
    for (String line : Format.failures(deployment)) {
      session.err().println("  " + line);
    }
    session.err().flush();
  }

  private static void pause(int attempt) {
    try {
      Thread.sleep(500L * (attempt + 1)); // back off before resuming a dropped stream
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(CliException.FAILED, "interrupted");
    }
  }
}
