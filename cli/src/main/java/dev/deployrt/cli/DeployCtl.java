package dev.deployrt.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * {@code deployctl}: the command line client of the operations API (API.md, "CLI"). Exit codes: 0
 * succeeded, 1 the deployment failed (or partial, superseded, reverted) or the operation was
 * refused, 2 usage error, 3 authentication or permission, 4 not found, 5 server unreachable or
 * unavailable.
 */
@Command(
    name = "deployctl",
    mixinStandardHelpOptions = true,
    versionProvider = DeployCtl.Version.class,
    description = "Deploy components to a deployment-runtime cluster and operate it.",
    subcommands = {
      DeployCommand.class,
      ListCommand.class,
      GetCommand.class,
      TailCommand.class,
      RollbackCommand.class,
      ProjectsCommand.class,
      SettingsCommand.class,
      NodesCommand.class,
      NodeCommand.class,
      PayloadCommand.class,
      UsersCommand.class,
      TokensCommand.class,
      AutoComplete.GenerateCompletion.class
    },
    footer = {
      "",
      "Target and credentials: flags, then DEPLOY_URL, DEPLOY_USER, DEPLOY_PASSWORD,",
      "DEPLOY_TOKEN, then ~/.config/deployctl/config.json (mode 0600; any of the",
      "fields url, user, password, token).",
      "",
      "Exit codes: 0 succeeded; 1 deployment failed, partial, superseded or reverted,",
      "or the operation was refused; 2 usage error; 3 authentication error; 4 not",
      "found; 5 server unreachable or unavailable."
    })
public final class DeployCtl {
  @Option(
      names = "--url",
      scope = ScopeType.INHERIT,
      paramLabel = "URL",
      description =
          "A node's operations API (default: DEPLOY_URL, the config file, else "
              + Target.DEFAULT_URL
              + ").")
  String url;

  @Option(
      names = {"-u", "--user"},
      scope = ScopeType.INHERIT,
      paramLabel = "NAME",
      description = "User for HTTP Basic auth.")
  String user;

  @Option(
      names = "--password",
      scope = ScopeType.INHERIT,
      paramLabel = "PASSWORD",
      description =
          "Password (prefer DEPLOY_PASSWORD or the config file: arguments are visible to other local users).")
  String password;

  @Option(
      names = "--token",
      scope = ScopeType.INHERIT,
      paramLabel = "TOKEN",
      description = "API token (Bearer).")
  String token;

  @Option(
      names = "--config",
      scope = ScopeType.INHERIT,
      paramLabel = "FILE",
      description = "Config file (default: ~/.config/deployctl/config.json).")
  Path config;

  final Session session;
  private ApiClient client;

  DeployCtl(Session session) {
    this.session = session;
  }

  /** The API client for the resolved target, created on first use (so --help needs no target). */
  ApiClient client() {
    if (client == null) {
      client =
          new ApiClient(
              Target.resolve(new Target.Flags(url, user, password, token, config), session));
    }
    return client;
  }

  static DeployCtl of(CommandSpec spec) {
    return (DeployCtl) spec.root().userObject();
  }

  public static CommandLine commandLine(Session session) {
    CommandLine cl = new CommandLine(new DeployCtl(session));
    cl.setOut(new PrintWriter(session.out(), true));
    cl.setErr(new PrintWriter(session.err(), true));
    cl.setExecutionExceptionHandler(
        (e, line, parsed) -> {
          if (e instanceof CliException cli) {
            session.err().println("deployctl: " + cli.getMessage());
            session.err().flush();
            return cli.exitCode();
          }
          session.err().println("deployctl: " + e);
          session.err().flush();
          return CliException.FAILED;
        });
    return cl;
  }

  public static int run(Session session, String... args) {
    return commandLine(session).execute(args);
  }

  public static void main(String[] args) {
    System.exit(run(Session.ofProcess(), args));
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = DeployCtl.class.getPackage().getImplementationVersion();
      return new String[] {"deployctl " + (v == null ? "(development build)" : v)};
    }
  }
}
