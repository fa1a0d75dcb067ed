package dev.deployrt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.http.TestNode;
import dev.deployrt.testkit.FileTrees;
import dev.deployrt.testkit.Tarball;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * deployctl against a live node in this JVM: every command, both output modes that run without a
 * terminal (plain lines, --json), exit codes and the order in which target and credentials are
 * taken. The terminal mode is tested through a pseudo-terminal in {@link TerminalModeTest}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeployCtlTest {
  private TestNode node;
  private Path work;

  @BeforeAll
  void start(@TempDir Path dir) {
    work = dir;
    // A small upload limit, so that one test can send more than the node takes.
    node =
        TestNode.start(dir.resolve("node"), "node-1", Map.of("deploy.upload.max-bytes", "4 MiB"));
  }

  @AfterAll
  void stop() {
    node.close();
  }

  private Map<String, String> adminEnv() {
    return new HashMap<>(
        Map.of(
            "DEPLOY_URL",
            node.url(""),
            "DEPLOY_USER",
            "admin",
            "DEPLOY_PASSWORD",
            TestNode.PASSWORD));
  }

  private CliRun run(String... args) {
    return run(adminEnv(), "", args);
  }

  private CliRun run(Map<String, String> env, String stdin, String... args) {
    return CliRun.run(env, work.resolve("home"), stdin, args);
  }

  private static Path write(Path file, String content) throws IOException {
    Files.createDirectories(file.getParent());
    return Files.writeString(file, content);
  }

  /**
   * A component directory with nesting, a link inside it, and files that .deployignore leaves out.
   */
  private Path component(String name, String version) throws IOException {
    Path dir = work.resolve(name);
    write(dir.resolve("index.html"), "<h1>" + version + "</h1>");
    write(dir.resolve("assets/app.js"), "console.log('" + version + "')");
    write(dir.resolve("assets/deep/style.css"), "body{}");
    Files.createSymbolicLink(dir.resolve("home.html"), Path.of("index.html"));
    write(dir.resolve("debug.log"), "left out");
    write(dir.resolve("keep.log"), "re-included");
    write(dir.resolve("tmp/scratch"), "left out with its directory");
    write(dir.resolve(".deployignore"), "# local files\n*.log\n!keep.log\ntmp/\n/.deployignore\n");
    return dir;
  }

  @Test
  void settingsShowsAndChangesAProjectsRetention() {
    CliRun shown = run("settings", "cli-settings");
    assertEquals(0, shown.exit(), shown.toString());
    assertTrue(shown.out().contains("keep releases: 5"), shown.toString());
    assertTrue(shown.out().contains("never (the defaults)"), shown.toString());

    CliRun changed = run("settings", "cli-settings", "--keep-releases", "3", "--json");
    assertEquals(0, changed.exit(), changed.toString());
    assertEquals(3, changed.json().get("keep_releases").asInt());
    assertEquals(10, changed.json().get("keep_payloads").asInt());
    assertEquals("admin", changed.json().get("updated_by").asText());

    CliRun refused = run("settings", "cli-settings", "--keep-payloads", "0");
    assertEquals(2, refused.exit(), refused.toString());
    assertTrue(refused.err().contains("keep_payloads"), refused.toString());

    CliRun rollout =
        run(
            "settings",
            "cli-settings",
            "--strategy",
            "canary",
            "--canary-nodes",
            "2",
            "--health-window",
            "9",
            "--no-auto-revert");
    assertEquals(0, rollout.exit(), rollout.toString());
    assertTrue(
        rollout.out().contains("canary (2 first), health window 9 s, auto-revert off"),
        rollout.toString());
    assertTrue(rollout.out().contains("keep releases: 3"), "the others stay: " + rollout);
    CliRun badStrategy = run("settings", "cli-settings", "--strategy", "blue-green");
    assertEquals(2, badStrategy.exit(), badStrategy.toString());
    assertTrue(badStrategy.err().contains("all-at-once"), badStrategy.toString());
  }

  private Path current(String project) {
    return node.dataDir.resolve("projects").resolve(project).resolve("current");
  }

  @Test
  void deployingADirectoryStreamsItHonoursDeployignoreAndEndsActive() throws IOException {
    Path dir = component("site", "v1");
    CliRun r = run("deploy", dir.toString(), "--project", "site", "--description", "first");
    assertEquals(0, r.exit(), r.toString());
    assertTrue(r.out().startsWith("uploading " + dir), r.toString());
    assertTrue(r.out().contains(" phase extract: "), "one line per event, phases included:\n" + r);
    assertTrue(r.out().contains(" node-1 node "), "per-node status lines:\n" + r);
    assertTrue(r.out().strip().endsWith("succeeded: active on 1 of 1 node"), r.toString());
    assertEquals("", r.err());

    TreeMap<String, String> expected = FileTrees.describe(dir);
    expected
        .keySet()
        .removeIf(
            p ->
                p.endsWith(".log") && !p.equals("keep.log")
                    || p.startsWith("tmp")
                    || p.equals(".deployignore"));
    assertEquals(expected, FileTrees.describe(current("site").toRealPath()));
    assertTrue(expected.containsKey("keep.log") && expected.containsKey("home.html"));
  }

  @Test
  void jsonPrintsOnlyTheFinalDeployment() throws IOException {
    Path file =
        Files.write(work.resolve("api.tar.gz"), Tarball.builder().file("VERSION", "1").toBytes());
    CliRun r = run("deploy", file.toString(), "--project", "api", "--json");
    assertEquals(0, r.exit(), r.toString());
    JsonNode d = r.json();
    assertEquals("succeeded", d.get("status").asText());
    assertEquals("admin", d.get("user").asText());
    assertEquals("active", d.get("nodes").get("node-1").get("status").asText());
    assertTrue(d.get("events").size() > 3, "the full resource, with its events");
    assertEquals("1", Files.readString(current("api").resolve("VERSION")));
  }

  @Test
  void aFailingDeployExitsOneWithThePhaseAndReasonOnStderr() throws IOException {
    Path bad =
        Files.write(
            work.resolve("bad.tar.gz"),
            Tarball.builder().symlink("escape", "../../../etc/passwd").toBytes());
    CliRun r = run("deploy", bad.toString(), "--project", "broken");
    assertEquals(1, r.exit(), r.toString());
    assertTrue(r.err().contains("failed in upload"), r.toString());
    assertTrue(r.err().contains("INVALID_ARCHIVE"), r.toString());
    assertTrue(
        r.out().contains("broken failed"),
        "the outcome is also the last line of the output:\n" + r);
    assertFalse(Files.exists(current("broken")));
  }

  @Test
  void aDirectoryOverTheNodesLimitIsCutOffAndReportedAsTooLarge() throws IOException {
    Path dir = work.resolve("huge");
    Files.createDirectories(dir);
    byte[] noise = new byte[3 << 20];
    new java.util.Random(3).nextBytes(noise);
    Files.write(dir.resolve("a.bin"), noise);
    new java.util.Random(4).nextBytes(noise);
    Files.write(dir.resolve("b.bin"), noise);
    CliRun r = run("deploy", dir.toString(), "--project", "huge");
    assertEquals(1, r.exit(), r.toString());
    assertTrue(r.err().contains("PAYLOAD_TOO_LARGE"), r.toString());
    assertFalse(Files.exists(current("huge")));
  }

  @Test
  void noWaitReturnsOnceAcceptedAndTailFollowsToTheEnd() throws IOException {
    Path dir = component("tailed", "v1");
    CliRun accepted = run("deploy", dir.toString(), "--project", "tailed", "--no-wait", "--json");
    assertEquals(0, accepted.exit(), accepted.toString());
    String id = accepted.json().get("deployment_id").asText();

    CliRun tail = run("tail", id);
    assertEquals(0, tail.exit(), tail.toString());
    List<String> lines = tail.out().lines().toList();
    assertTrue(lines.get(0).contains(" phase upload: "), tail.toString());
    assertTrue(lines.get(lines.size() - 1).contains(id + " of tailed succeeded"), tail.toString());

    CliRun json = run("tail", id, "--json");
    assertEquals(0, json.exit(), json.toString());
    List<String> jsonLines = json.out().lines().toList();
    long seq = 0;
    for (String line : jsonLines.subList(0, jsonLines.size() - 1)) {
      long next = ApiClient.parse(line).get("seq").asLong();
      assertEquals(seq + 1, next, "gapless replay: " + json.out());
      seq = next;
    }
    assertEquals(
        "succeeded", ApiClient.parse(jsonLines.get(jsonLines.size() - 1)).get("status").asText());
  }

  @Test
  void readCommandsShowHistoryProjectsAndNodes() throws IOException {
    Path file =
        Files.write(work.resolve("read.tar.gz"), Tarball.builder().file("a", "1").toBytes());
    String id =
        run("deploy", file.toString(), "--project", "read", "--json")
            .json()
            .get("deployment_id")
            .asText();

    // The list is served from the read model, which follows the records within a moment.
    node.testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(10),
            () -> {
              CliRun list = run("list", "--project", "read");
              assertEquals(0, list.exit(), list.toString());
              assertTrue(list.out().startsWith("DEPLOYMENT"), list.toString());
              assertTrue(
                  list.out().contains(id) && list.out().contains("succeeded"), list.toString());
              return null;
            });
    assertEquals(1, run("list", "--project", "read", "--json").json().get("total").asInt());

    CliRun get = run("get", id, "--events");
    assertEquals(0, get.exit(), get.toString());
    assertTrue(get.out().contains("status:      succeeded"), get.toString());
    assertTrue(get.out().contains("node-1  active"), get.toString());
    assertTrue(get.out().contains("events in all"), get.toString());

    // The disk a project's releases take is known after its first prune, right after the switch.
    node.testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(10),
            () -> {
              CliRun projects = run("projects");
              assertTrue(
                  projects
                      .out()
                      .lines()
                      .anyMatch(
                          l ->
                              l.startsWith("read ")
                                  && l.contains(id)
                                  && l.matches(".*node-1:active\\[[0-9.]+ [KMG]?i?B\\].*")),
                  projects.toString());
              return null;
            });

    CliRun nodes = run("nodes");
    assertEquals(0, nodes.exit(), nodes.toString());
    assertTrue(
        nodes
            .out()
            .lines()
            .anyMatch(l -> l.startsWith("node-1 *") && l.contains("up") && l.contains("read=")),
        nodes.toString());
  }

  @Test
  void rollbackDeploysTheEarlierPayloadAgain() throws IOException {
    Path v1 =
        Files.write(work.resolve("rb1.tar.gz"), Tarball.builder().file("VERSION", "1").toBytes());
    Path v2 =
        Files.write(work.resolve("rb2.tar.gz"), Tarball.builder().file("VERSION", "2").toBytes());
    String first =
        run("deploy", v1.toString(), "--project", "rb", "--json")
            .json()
            .get("deployment_id")
            .asText();
    assertEquals(0, run("deploy", v2.toString(), "--project", "rb").exit());
    assertEquals("2", Files.readString(current("rb").resolve("VERSION")));

    CliRun r = run("rollback", "--project", "rb", "--to", first, "--json");
    assertEquals(0, r.exit(), r.toString());
    assertEquals(first, r.json().get("rollback_of").asText());
    assertEquals("1", Files.readString(current("rb").resolve("VERSION")));
    assertEquals(
        4,
        run("rollback", "--project", "rb", "--to", "00000000-0000-0000-0000-000000000000").exit());
  }

  @Test
  void payloadGetVerifiesAndDeleteReclaims() throws IOException {
    byte[] v1 = Tarball.builder().file("VERSION", "1").toBytes();
    Path file1 = Files.write(work.resolve("pl1.tar.gz"), v1);
    Path file2 =
        Files.write(work.resolve("pl2.tar.gz"), Tarball.builder().file("VERSION", "2").toBytes());
    String first =
        run("deploy", file1.toString(), "--project", "pl", "--json")
            .json()
            .get("deployment_id")
            .asText();
    String second =
        run("deploy", file2.toString(), "--project", "pl", "--json")
            .json()
            .get("deployment_id")
            .asText();

    Path out = work.resolve("downloaded.tar.gz");
    CliRun get = run("payload", "get", first, "-o", out.toString());
    assertEquals(0, get.exit(), get.toString());
    assertEquals(FileTrees.sha256(v1), FileTrees.sha256(Files.readAllBytes(out)));
    try (var siblings = Files.list(work)) {
      assertTrue(
          siblings.noneMatch(p -> p.getFileName().toString().endsWith(".part")),
          "no temporary file left");
    }

    CliRun active = run("payload", "delete", second);
    assertEquals(1, active.exit(), "the active release's payload stays: " + active);
    assertTrue(active.err().contains("CONFLICT"), active.toString());
    CliRun deleted = run("payload", "delete", first);
    assertEquals(0, deleted.exit(), deleted.toString());
    assertTrue(deleted.out().contains("freed"), deleted.toString());
    CliRun pruned = run("payload", "get", first, "-o", work.resolve("pruned.tar.gz").toString());
    assertEquals(4, pruned.exit(), pruned.toString());
    assertTrue(pruned.err().contains("PAYLOAD_PRUNED"), pruned.toString());
    assertFalse(Files.exists(work.resolve("pruned.tar.gz")));
  }

  @Test
  void usersAndTokens() throws IOException {
    CliRun add =
        run(
            adminEnv(),
            "viewer-pass-12\n",
            "users",
            "add",
            "vic",
            "--role",
            "viewer",
            "--new-password-stdin");
    assertEquals(0, add.exit(), add.toString());
    assertTrue(
        run("users", "list")
            .out()
            .lines()
            .anyMatch(l -> l.startsWith("vic ") && l.contains("viewer")));

    Map<String, String> vic =
        new HashMap<>(
            Map.of(
                "DEPLOY_URL",
                node.url(""),
                "DEPLOY_USER",
                "vic",
                "DEPLOY_PASSWORD",
                "viewer-pass-12"));
    assertEquals(0, run(vic, "", "list").exit());
    // Their own password: the CLI sends the current one, which vic signed in with.
    CliRun own = run(vic, "viewer-pass-13\n", "users", "set", "vic", "--new-password-stdin");
    assertEquals(0, own.exit(), own.toString());
    vic.put("DEPLOY_PASSWORD", "viewer-pass-13");
    assertEquals(0, run(vic, "", "list").exit());
    Path file = Files.write(work.resolve("vic.tar.gz"), Tarball.builder().file("a", "1").toBytes());
    CliRun forbidden = run(vic, "", "deploy", file.toString(), "--project", "nope");
    assertEquals(3, forbidden.exit(), "a viewer may not deploy: " + forbidden);
    assertTrue(
        forbidden.err().contains("FORBIDDEN") && forbidden.err().contains("vic"),
        forbidden.toString());

    CliRun token = run("tokens", "create", "--for", "vic", "--description", "ci", "--quiet");
    assertEquals(0, token.exit(), token.toString());
    String secret = token.out().strip();
    assertTrue(secret.startsWith("dpt_"), token.toString());
    Map<String, String> byToken = Map.of("DEPLOY_URL", node.url(""), "DEPLOY_TOKEN", secret);
    assertEquals(0, run(byToken, "", "projects").exit());

    String tokenId =
        run("tokens", "list", "--json").json().get("tokens").findValuesAsText("id").stream()
            .filter(
                id ->
                    run("tokens", "list")
                        .out()
                        .lines()
                        .anyMatch(l -> l.startsWith(id) && l.contains("ci")))
            .findFirst()
            .orElseThrow();
    assertEquals(0, run("tokens", "revoke", tokenId).exit());
    assertEquals(3, run(byToken, "", "projects").exit(), "a revoked token is refused");

    assertEquals(0, run("users", "set", "vic", "--role", "deployer").exit());
    assertTrue(
        run("users", "list")
            .out()
            .lines()
            .anyMatch(l -> l.startsWith("vic ") && l.contains("deployer")));
    assertEquals(0, run("users", "delete", "vic").exit());
    assertEquals(3, run(vic, "", "list").exit());
  }

  @Test
  void exitCodesForUsageAuthNotFoundAndUnreachable() throws IOException {
    CliRun missing = run("deploy", work.toString());
    assertEquals(2, missing.exit(), "no --project: " + missing);
    assertTrue(missing.err().contains("--project"), missing.toString());
    assertEquals(2, run("deploy", work.resolve("nowhere").toString(), "--project", "x").exit());
    assertEquals(2, run("list", "--status", "bogus").exit(), "the server's 400 is a usage error");
    assertEquals(2, run("frobnicate").exit());

    Map<String, String> wrong = adminEnv();
    wrong.put("DEPLOY_PASSWORD", "wrong");
    CliRun auth = run(wrong, "", "list");
    assertEquals(3, auth.exit(), auth.toString());
    assertTrue(
        auth.err().contains("not authenticated") && auth.err().contains("DEPLOY_USER"),
        auth.toString());

    CliRun unknown = run("get", "00000000-0000-0000-0000-000000000000");
    assertEquals(4, unknown.exit(), unknown.toString());
    assertEquals(4, run("node", "down", "node-9").exit(), "no such node");

    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    Map<String, String> nowhere = adminEnv();
    nowhere.put("DEPLOY_URL", "http://127.0.0.1:" + closed);
    CliRun unreachable = run(nowhere, "", "list");
    assertEquals(5, unreachable.exit(), unreachable.toString());
    assertTrue(
        unreachable.err().contains("cannot reach http://127.0.0.1:" + closed)
            && unreachable.err().contains("bin/deploy-node"),
        unreachable.toString());
  }

  @Test
  void targetAndCredentialsComeFromFlagsThenEnvironmentThenConfigFile() throws IOException {
    Path config = work.resolve("home/.config/deployctl/config.json");
    write(
        config,
        "{\"url\": \""
            + node.url("")
            + "\", \"user\": \"admin\", \"password\": \""
            + TestNode.PASSWORD
            + "\"}");
    Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-------"));
    assertEquals(0, run(Map.of(), "", "projects").exit(), "the config file alone is enough");

    Map<String, String> wrongEnv = Map.of("DEPLOY_USER", "admin", "DEPLOY_PASSWORD", "wrong");
    assertEquals(3, run(wrongEnv, "", "projects").exit(), "the environment wins over the file");
    assertEquals(
        0,
        run(wrongEnv, "", "projects", "--password", TestNode.PASSWORD).exit(),
        "a flag wins over both");
    assertEquals(
        0,
        run(wrongEnv, "", "--user", "admin", "--password", TestNode.PASSWORD, "projects").exit(),
        "global options go before or after the command");
    assertEquals(
        5,
        run(Map.of("DEPLOY_URL", "http://127.0.0.1:1"), "", "projects").exit(),
        "the URL from the environment wins over the file's");

    Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-r--r--"));
    CliRun open = run(Map.of(), "", "projects");
    assertEquals(2, open.exit(), open.toString());
    assertTrue(open.err().contains("chmod 600 " + config), open.toString());
    Files.delete(config);
  }

  /**
   * A record holding raw control characters (written before the API refused them, or by a hostile
   * node) reaches the terminal escaped: no escape sequence, line break or reordering survives.
   */
  @Test
  void serverTextIsPrintedWithItsControlCharactersEscaped() {
    String id = java.util.UUID.randomUUID().toString();
    String hostile = "\u001b]0;owned\u0007\u001b[2Jfine\nFAKE LINE\u202e";
    node.node
        .deployment(id)
        .<dev.deployrt.deployment.Deployment>askWithStatus(
            r ->
                new dev.deployrt.deployment.DeploymentEntity.Create(
                    "escapes", hostile, "admin", "node-1", null, r),
            Duration.ofSeconds(10))
        .toCompletableFuture()
        .join();
    node.node
        .deployment(id)
        .<dev.deployrt.deployment.Deployment>askWithStatus(
            r ->
                new dev.deployrt.deployment.DeploymentEntity.FailUpload(
                    "INVALID_ARCHIVE", "entry '\u001b[31mred' refused", "upload", r),
            Duration.ofSeconds(10))
        .toCompletableFuture()
        .join();
    CliRun get = run("get", id);
    assertEscaped(get);
    assertTrue(get.out().contains("entry '\\u001b[31mred' refused"), get.out());
    node.testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(20),
            () -> {
              assertEscaped(run("list", "--project", "escapes")); // once the read model shows it
              return null;
            });
  }

  private static void assertEscaped(CliRun shown) {
    assertEquals(0, shown.exit(), shown.toString());
    String all = shown.out() + shown.err();
    assertFalse(all.contains("\u001b") || all.contains("\u0007") || all.contains("\u202e"), all);
    assertFalse(all.contains("\nFAKE LINE"), all);
    assertTrue(all.contains("\\u001b]0;owned\\u0007\\u001b[2Jfine\\u000aFAKE LINE\\u202e"), all);
  }

  @Test
  void everyCommandHasHelpAndThereIsShellCompletion() {
    List<String[]> commands = new ArrayList<>();
    collect(
        DeployCtl.commandLine(
            new Session(System.out, System.err, System.in, Map.of(), work, false)),
        new ArrayList<>(),
        commands);
    assertTrue(commands.size() >= 20, "every command and subcommand: " + commands.size());
    for (String[] path : commands) {
      String[] args = java.util.Arrays.copyOf(path, path.length + 1);
      args[path.length] = "--help";
      CliRun help = run(args);
      assertEquals(0, help.exit(), String.join(" ", args) + ": " + help);
      assertTrue(help.out().startsWith("Usage: deployctl"), String.join(" ", args) + ": " + help);
    }
    CliRun completion = run("generate-completion");
    assertEquals(0, completion.exit(), completion.toString());
    assertTrue(completion.out().contains("complete -F"), "a bash/zsh completion script");
  }

  private static void collect(CommandLine cl, List<String> path, List<String[]> out) {
    out.add(path.toArray(String[]::new));
    cl.getSubcommands()
        .forEach(
            (name, sub) -> {
              if (sub.getCommandName().equals(name)) { // aliases once
                List<String> next = new ArrayList<>(path);
                next.add(name);
                collect(sub, next, out);
              }
            });
  }
}
