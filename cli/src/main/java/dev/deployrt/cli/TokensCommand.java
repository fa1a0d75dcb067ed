package dev.deployrt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.deployrt.cli.view.Format;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code deployctl tokens list|create|revoke} (admin). A new token's secret is printed once. */
@Command(
    name = "tokens",
    mixinStandardHelpOptions = true,
    description = "Manage API tokens (admin).",
    subcommands = {
      TokensCommand.ListTokens.class,
      TokensCommand.Create.class,
      TokensCommand.Revoke.class
    })
final class TokensCommand {

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "List tokens (never their secrets).")
  static final class ListTokens extends ReadCommand {
    @Override
    String path() {
      return "/tokens";
    }

    @Override
    void print(JsonNode page, java.io.PrintStream out) {
      List<List<String>> rows = new ArrayList<>();
      for (JsonNode t : page.path("tokens")) {
        String state =
            t.path("active").asBoolean()
                ? "active"
                : t.hasNonNull("revoked_at")
                    ? "revoked " + Format.text(t, "revoked_at")
                    : "expired";
        rows.add(
            List.of(
                Format.text(t, "id"),
                Format.text(t, "user"),
                state,
                Format.text(t, "expires_at"),
                Format.text(t, "description")));
      }
      out.print(Format.table(List.of("ID", "USER", "STATE", "EXPIRES", "DESCRIPTION"), rows));
    }
  }

  @Command(
      name = "create",
      mixinStandardHelpOptions = true,
      description =
          "Create a token; its secret is printed once (stdout, alone on its line with --quiet).")
  static final class Create implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--for",
        paramLabel = "USER",
        description = "Whose token (default: the caller).")
    String owner;

    @Option(
        names = {"-d", "--description"},
        paramLabel = "TEXT")
    String description;

    @Option(
        names = "--expires-at",
        paramLabel = "TIME",
        description = "ISO-8601, e.g. 2027-01-01T00:00:00Z.")
    String expiresAt;

    @Option(
        names = {"-q", "--quiet"},
        description = "Print only the secret (for scripts).")
    boolean quiet;

    @Override
    public Integer call() {
      DeployCtl root = DeployCtl.of(spec);
      ObjectNode body = ApiClient.object();
      if (owner != null) {
        body.put("user", owner);
      }
      if (description != null) {
        body.put("description", description);
      }
      if (expiresAt != null) {
        body.put("expires_at", expiresAt);
      }
      JsonNode token = root.client().postJson("/tokens", body);
      if (quiet) {
        root.session.out().println(Format.text(token, "token"));
      } else {
        root.session
            .out()
            .println(
                "token "
                    + Format.text(token, "id")
                    + " for "
                    + Format.text(token, "user")
                    + " (shown only now; use it as DEPLOY_TOKEN):");
        root.session.out().println(Format.text(token, "token"));
      }
      return 0;
    }
  }

  @Command(
      name = "revoke",
      mixinStandardHelpOptions = true,
      description = "Revoke a token (it stays listed, for the audit).")
  static final class Revoke implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "ID")
    String id;

    @Override
    public Integer call() {
      DeployCtl root = DeployCtl.of(spec);
      root.client().delete("/tokens/" + id);
      root.session.out().println("token " + id + " revoked");
      return 0;
    }
  }
}
