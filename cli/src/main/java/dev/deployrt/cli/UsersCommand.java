package dev.deployrt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.deployrt.cli.view.Format;
import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code deployctl users list|add|set|delete}. A new password is read from stdin ({@code
 * --new-password-stdin}, for scripts) or asked for twice on the terminal, never taken as an
 * argument, where other local users could see it.
 */
@Command(
    name = "users",
    mixinStandardHelpOptions = true,
    description = "Manage users (admin; anyone may change their own password).",
    subcommands = {
      UsersCommand.ListUsers.class,
      UsersCommand.Add.class,
      UsersCommand.Set.class,
      UsersCommand.Delete.class
    })
final class UsersCommand {

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List users.")
  static final class ListUsers extends ReadCommand {
    @Override
    String path() {
      return "/users";
    }

    @Override
    void print(JsonNode page, java.io.PrintStream out) {
      List<List<String>> rows = new ArrayList<>();
      for (JsonNode u : page.path("users")) {
        rows.add(
            List.of(
                Format.text(u, "name"),
                Format.text(u, "role"),
                Format.text(u, "created_at"),
                Format.text(u, "created_by")));
      }
      out.print(Format.table(List.of("USER", "ROLE", "CREATED", "CREATED BY"), rows));
    }
  }

  abstract static class WithNewPassword {
    @Option(
        names = "--new-password-stdin",
        description = "Read the new password from the first line of stdin.")
    boolean passwordFromStdin;

    String newPassword(Session session, boolean required) {
      if (passwordFromStdin) {
        try {
          String line =
              new BufferedReader(new InputStreamReader(session.in(), StandardCharsets.UTF_8))
                  .readLine();
          if (line == null || line.isEmpty()) {
            throw new CliException(
                CliException.USAGE, "--new-password-stdin: stdin held no password");
          }
          return line;
        } catch (IOException e) {
          throw new CliException(CliException.USAGE, "--new-password-stdin: " + e.getMessage());
        }
      }
      if (!required) {
        return null;
      }
      Console console = System.console();
      if (!session.terminal() || console == null) {
        throw new CliException(
            CliException.USAGE, "no terminal to ask for the password: use --new-password-stdin");
      }
      char[] first = console.readPassword("new password: ");
      char[] again = console.readPassword("again: ");
      if (first == null || !Arrays.equals(first, again)) {
        throw new CliException(CliException.USAGE, "the two passwords differ");
      }
      return new String(first);
    }
  }

  @Command(name = "add", mixinStandardHelpOptions = true, description = "Create a user.")
  static final class Add extends WithNewPassword implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(
        names = "--role",
        required = true,
        paramLabel = "ROLE",
        description = "admin, deployer or viewer.")
    String role;

    @Override
    public Integer call() {
      DeployCtl root = DeployCtl.of(spec);
      String password = newPassword(root.session, true);
      JsonNode user =
          root.client()
              .postJson(
                  "/users",
                  ApiClient.object().put("name", name).put("role", role).put("password", password));
      root.session
          .out()
          .println(
              "user "
                  + Format.text(user, "name")
                  + " created with role "
                  + Format.text(user, "role"));
      return 0;
    }
  }

  @Command(
      name = "set",
      mixinStandardHelpOptions = true,
      description = "Change a user's role and/or password.")
  static final class Set extends WithNewPassword implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Option(names = "--role", paramLabel = "ROLE", description = "admin, deployer or viewer.")
    String role;

    @Option(names = "--new-password", description = "Ask for a new password on the terminal.")
    boolean askPassword;

    @Override
    public Integer call() {
      DeployCtl root = DeployCtl.of(spec);
      String password = newPassword(root.session, askPassword);
      if (role == null && password == null) {
        throw new CliException(
            CliException.USAGE,
            "nothing to change: give --role, --new-password or --new-password-stdin");
      }
      ObjectNode body = ApiClient.object();
      if (role != null) {
        body.put("role", role);
      }
      if (password != null) {
        body.put("password", password);
        // One's own password needs the current one: signed in with a password, these credentials
        // hold it. (Signed in with a token, the server's 400 says that a password sign-in is
        // needed.)
        Target target = root.client().target();
        if (name.equals(target.who())) {
          target.password().ifPresent(current -> body.put("current_password", current));
        }
      }
      JsonNode user = root.client().sendJson("PATCH", "/users/" + name, body);
      root.session
          .out()
          .println(
              "user "
                  + Format.text(user, "name")
                  + " updated (role "
                  + Format.text(user, "role")
                  + ")");
      return 0;
    }
  }

  @Command(
      name = "delete",
      mixinStandardHelpOptions = true,
      description = "Delete a user and revoke their tokens.")
  static final class Delete implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() {
      DeployCtl root = DeployCtl.of(spec);
      root.client().delete("/users/" + name);
      root.session.out().println("user " + name + " deleted");
      return 0;
    }
  }
}
