package dev.deployrt.http.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.deployrt.deployment.Deployment;
import dev.deployrt.deployment.DeploymentEntity;
import dev.deployrt.deployment.LogEntry;
import dev.deployrt.http.TestNode;
import dev.deployrt.testkit.Tarball;
import dev.deployrt.testkit.TestDatabase;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;

/**
 * The web console in a real browser (headless Chromium, {@link ConsoleBrowser}) against a 2-node
 * cluster in this JVM: deploying through the page to {@code succeeded} on every node, a bad
 * archive's error, a rollback, what a viewer sees and may do, the event log resuming after its
 * stream is dropped, and every page at 1280 and 390 px (screenshots under {@code
 * target/console-screenshots/}). Any console error or CSP violation the page logs fails the test,
 * unless the test provoked that very failure.
 *
 * <p>The second node ends every event stream after 4 events ({@code
 * deploy.http.test.event-stream-max-events}), as a proxy dropping connections would.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleBrowserTest {
  private static final String VIEWER = "olga";
  private static final String VIEWER_PASSWORD = "olga-password-1";
  private static final Pattern FAILED_422 = Pattern.compile("status of 422");
  private static final Pattern FAILED_403 = Pattern.compile("status of 403");

  private final Map<String, Object> database = TestDatabase.shared("console");
  private TestNode first;
  private TestNode second;
  private ConsoleBrowser browser;
  private Path files;

  @BeforeAll
  void startTwoNodes(@TempDir Path dir) {
    ConsoleBrowser.requireChromium();
    files = dir.resolve("files");
    first = start(dir, "node-1", null);
    second = start(dir, "node-2", first.clusterHostPort());
    first.awaitMembersUp(2);
    second.awaitMembersUp(2);
    first.createUser(VIEWER, "viewer", VIEWER_PASSWORD);
  }

  private TestNode start(Path dir, String name, String seed) {
    Map<String, Object> settings = new HashMap<>(database);
    if (seed != null) {
      settings.put("deploy.cluster.seed-nodes", seed);
      settings.put("deploy.http.test.event-stream-max-events", 4);
    }
    return TestNode.start(dir.resolve(name), name, settings);
  }

  @AfterAll
  void stopNodes() {
    if (second != null) {
      second.close();
    }
    if (first != null) {
      first.close();
    }
  }

  @BeforeEach
  void openBrowser() {
    browser = new ConsoleBrowser();
  }

  @AfterEach
  void closeBrowser() {
    if (browser != null) {
      browser.close();
    }
  }

  // ---- helpers ----------------------------------------------------------------------------------

  /** Signs in through the form with the keyboard only: type, Tab, type, Enter. */
  private void signIn(TestNode node, String user, String password) {
    browser.open(node.url("/"));
    WebElement name = browser.awaitVisible("signin-form").findElement(By.name("user"));
    name.click();
    name.sendKeys(user);
    browser.driver.switchTo().activeElement().sendKeys(Keys.TAB);
    browser.driver.switchTo().activeElement().sendKeys(password, Keys.ENTER);
    browser.awaitText("whoami", user + " · " + roleOf(user));
  }

  private static String roleOf(String user) {
    return user.equals(VIEWER) ? "viewer" : "admin";
  }

  private Path file(String name, byte[] bytes) {
    try {
      Files.createDirectories(files);
      return Files.write(files.resolve(name), bytes);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static String project() {
    return "web-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Deploys through the deploy page; returns the deployment id the page moved on to. */
  private String deployThroughThePage(String project, Path payload) {
    browser.find("nav-deploy").click();
    WebElement form = browser.awaitVisible("deploy-form");
    form.findElement(By.name("project")).sendKeys(project);
    form.findElement(By.name("description")).sendKeys("from the console");
    form.findElement(By.name("payload")).sendKeys(payload.toString());
    browser.find("deploy-submit").click();
    return awaitDeploymentPage();
  }

  private String awaitDeploymentPage() {
    return browser.await(
        "the deployment's live view",
        d -> {
          String url = d.getCurrentUrl();
          int at = url.indexOf("#/deployments/");
          return at < 0 ? null : url.substring(at + "#/deployments/".length());
        });
  }

  /** Waits for the live view to show {@code status}, then checks its node grid and event log. */
  private void awaitTerminal(String status, int nodes) {
    browser.awaitText("deployment-status", status);
    browser.await(
        "the event log's done entry",
        d ->
            !d.findElements(By.cssSelector("[data-testid='event-log'] li[data-type='done']"))
                .isEmpty());
    browser.await(
        "every node's row", d -> d.findElements(ConsoleBrowser.testId("node-row")).size() == nodes);
    browser.awaitText("stream-state", "ended");
  }

  /** The event log's seq numbers, in page order; checks it ends with the done entry. */
  private List<Integer> loggedSeqs() {
    List<WebElement> items =
        browser.driver.findElements(By.cssSelector("[data-testid='event-log'] > li"));
    assertFalse(items.isEmpty(), "the event log is empty");
    assertEquals(
        "done", items.get(items.size() - 1).getAttribute("data-type"), "the log ends with done");
    List<Integer> seqs = new ArrayList<>();
    for (WebElement li : items.subList(0, items.size() - 1)) {
      seqs.add(Integer.parseInt(li.getAttribute("data-seq")));
    }
    return seqs;
  }

  private static void assertGapless(List<Integer> seqs, int eventCount) {
    List<Integer> expected = new ArrayList<>();
    for (int i = 1; i <= eventCount; i++) {
      expected.add(i);
    }
    assertEquals(expected, seqs, "every event once, in order, none missing");
  }

  private HttpResponse<String> get(String cookie, String path) {
    return first.send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create(first.url(path)))
            .header("Cookie", cookie)
            .GET()
            .build());
  }

  // ---- tests ------------------------------------------------------------------------------------

  @Test
  void deployThroughThePageReachesSucceededOnEveryNode() {
    browser.open(first.url("/"));
    browser.awaitVisible("signin-form");
    browser.screenshot("signin", 1280);
    browser.screenshot("signin", 390);
    browser.driver.manage().window().setSize(new org.openqa.selenium.Dimension(1280, 900));
    signIn(first, "admin", TestNode.PASSWORD);

    String project = project();
    byte[] payload =
        Tarball.builder()
            .file("index.html", "<h1>hello</h1>")
            .randomFile("assets/blob.bin", 3 << 20, 7)
            .toBytes();
    String id = deployThroughThePage(project, file("release.tar.gz", payload));
    awaitTerminal("succeeded", 2);
    for (WebElement row : browser.findAll("node-row")) {
      assertEquals(
          "active",
          row.findElement(ConsoleBrowser.testId("node-status")).getText().strip(),
          row.getAttribute("data-node"));
    }
    WebElement progress = browser.find("upload-progress");
    assertEquals(
        String.valueOf(payload.length),
        progress.getAttribute("max"),
        "the bar's whole is the payload");
    assertEquals(progress.getAttribute("max"), progress.getAttribute("value"), "complete");
    JsonNode recorded = first.get("/deployments/" + id);
    assertEquals("succeeded", recorded.get("status").asText());
    assertEquals("admin", recorded.get("user").asText());
    assertEquals("from the console", recorded.get("description").asText());
    assertEquals(payload.length, recorded.get("payload_size").asLong());
    assertEquals(recorded.get("sha256").asText(), browser.find("deployment-sha256").getText());
    assertGapless(loggedSeqs(), recorded.get("event_count").asInt());
    browser.assertNoConsoleErrors();

    browser.screenshot("deployment", 1280);
    browser.screenshot("deployment", 390);
    browser.assertNoConsoleErrors();
  }

  @Test
  void aBadArchiveShowsItsErrorCodeAndMessage() {
    signIn(first, "admin", TestNode.PASSWORD);
    String project = project();
    browser.find("nav-deploy").click();
    WebElement form = browser.awaitVisible("deploy-form");
    form.findElement(By.name("project")).sendKeys(project);
    form.findElement(By.name("payload"))
        .sendKeys(
            file("broken.tar.gz", "this is not a gzip'd tar".getBytes(StandardCharsets.UTF_8))
                .toString());
    browser.find("deploy-submit").click();
    WebElement error = browser.awaitVisible("deploy-error");
    browser.await("the error's code", d -> error.getText().contains("INVALID_ARCHIVE"));
    JsonNode list = first.get("/deployments?project=" + project);
    assertEquals(1, list.get("total").asInt(), "the attempt is on record");
    JsonNode failed = list.get("deployments").get(0);
    assertEquals("failed", failed.get("status").asText());
    String message = failed.get("error").get("message").asText();
    assertTrue(error.getText().contains(message), error.getText() + " shows " + message);
    browser.assertNoConsoleErrors(FAILED_422);

    // The failed deployment's own page names the code and message too.
    browser.open(first.url("/#/deployments/" + failed.get("deployment_id").asText()));
    browser.awaitText("deployment-status", "failed");
    assertEquals("INVALID_ARCHIVE", browser.find("deployment-error-code").getText().strip());
    assertTrue(browser.find("deployment-error-message").getText().contains(message));
    browser.screenshot("deployment-failed", 1280);
    browser.screenshot("deploy-error", 390);
    browser.assertNoConsoleErrors();
  }

  @Test
  void rollBackFromThePage() {
    String project = project();
    HttpResponse<String> one =
        first.deployRaw("project=" + project, Tarball.builder().file("v", "1").toBytes());
    assertEquals(201, one.statusCode(), one.body());
    String firstId = TestNode.json(one).get("deployment_id").asText();
    HttpResponse<String> two =
        first.deployRaw("project=" + project, Tarball.builder().file("v", "2").toBytes());
    assertEquals(201, two.statusCode(), two.body());

    signIn(second, "admin", TestNode.PASSWORD);
    browser.open(second.url("/#/deployments/" + firstId));
    browser.awaitText("deployment-status", "succeeded");

    // Cancelling changes nothing.
    browser.awaitVisible("rollback").click();
    browser.awaitVisible("confirm-dialog");
    browser.find("confirm-no").click();
    assertEquals(2, first.get("/deployments?project=" + project).get("total").asInt());

    browser.find("rollback").click();
    browser.awaitVisible("confirm-dialog");
    browser.find("confirm-yes").click();
    String rollbackId =
        browser.await(
            "the rollback's live view",
            d -> {
              String id = awaitDeploymentPage();
              return id.equals(firstId) ? null : id;
            });
    awaitTerminal("succeeded", 2);
    JsonNode rollback = first.get("/deployments/" + rollbackId);
    assertEquals(firstId, rollback.get("rollback_of").asText());
    assertEquals("succeeded", rollback.get("status").asText());
    JsonNode projects = first.get("/projects");
    for (JsonNode p : projects.get("projects")) {
      if (p.get("project").asText().equals(project)) {
        assertEquals(rollbackId, p.get("deployment_id").asText(), "the rollback is current");
      }
    }
    assertTrue(browser.findAll("rollback").isEmpty(), "no rollback to the current release");
    assertTrue(browser.findAll("delete-payload").isEmpty(), "the current payload is kept");

    // The second deployment is no longer current: an admin reclaims its payload from its page.
    String secondId = TestNode.json(two).get("deployment_id").asText();
    browser.open(second.url("/#/deployments/" + secondId));
    browser.awaitVisible("delete-payload").click();
    browser.awaitVisible("confirm-dialog");
    browser.find("confirm-yes").click();
    browser.await(
        "the freed bytes", d -> browser.find("deployment-message").getText().startsWith("Freed"));
    assertFalse(first.get("/deployments/" + secondId).get("payload_present").asBoolean());
    browser.await("no download of a reclaimed payload", d -> browser.findAll("download").isEmpty());
    browser.assertNoConsoleErrors();
  }

  @Test
  void aViewerSeesNoChangingControlsAndAForgedRequestIsRefused() {
    String project = project();
    HttpResponse<String> r =
        first.deployRaw("project=" + project, Tarball.builder().file("v", "1").toBytes());
    String id = TestNode.json(r).get("deployment_id").asText();

    signIn(first, VIEWER, VIEWER_PASSWORD);
    assertTrue(browser.findAll("nav-deploy").isEmpty(), "no deploy link for a viewer");
    browser.open(first.url("/#/deployments/" + id));
    browser.awaitText("deployment-status", "succeeded");
    assertTrue(browser.findAll("rollback").isEmpty(), "no rollback for a viewer");
    assertTrue(browser.findAll("download").isEmpty(), "no download for a viewer");

    browser.open(first.url("/#/deploy"));
    browser.await("the deploy page's refusal", d -> d.getPageSource().contains("may not deploy"));
    assertTrue(browser.findAll("deploy-form").isEmpty());

    browser.open(first.url("/#/projects/" + project));
    WebElement settings = browser.awaitVisible("settings-form");
    assertTrue(browser.findAll("settings-save").isEmpty(), "no save for a viewer");
    for (WebElement input : settings.findElements(By.cssSelector("input, select"))) {
      assertFalse(input.isEnabled(), input.getAttribute("name") + " is read-only");
    }
    browser.open(first.url("/#/cluster"));
    browser.awaitVisible("nodes-table");
    assertTrue(browser.findAll("node-leave").isEmpty() && browser.findAll("node-down").isEmpty());
    browser.assertNoConsoleErrors();

    // The server refuses what the page does not offer, with and without the console's header.
    String forge =
        "const done = arguments[arguments.length - 1];"
            + "fetch('/deployments?project="
            + project
            + "', {method: 'POST', headers: Object.assign({'Content-Type': 'application/json'},"
            + " arguments[0] ? {'X-Requested-With': 'deploy-console'} : {}),"
            + " body: JSON.stringify({project: '"
            + project
            + "', rollback_of: '"
            + id
            + "'})}).then(r => r.json().then(b => done(r.status + ' ' + b.code + ' ' + b.error)));";
    String withHeader = (String) browser.asyncScript(forge, true);
    assertTrue(
        withHeader.startsWith("403 FORBIDDEN") && withHeader.contains("may not deploy"),
        withHeader);
    String withoutHeader = (String) browser.asyncScript(forge, false);
    assertTrue(
        withoutHeader.startsWith("403 FORBIDDEN") && withoutHeader.contains("X-Requested-With"),
        withoutHeader);
    assertEquals(1, first.get("/deployments?project=" + project).get("total").asInt());
    browser.assertNoConsoleErrors(FAILED_403);
  }

  @Test
  void anAdminsChangeWithoutTheConsoleHeaderIsRefused() {
    String project = project();
    HttpResponse<String> r =
        first.deployRaw("project=" + project, Tarball.builder().file("v", "1").toBytes());
    String id = TestNode.json(r).get("deployment_id").asText();
    signIn(first, "admin", TestNode.PASSWORD);
    // What a page of another site could make the browser send: the cookie, but not the header.
    Object answer =
        browser.asyncScript(
            "const done = arguments[arguments.length - 1];"
                + "fetch('/deployments', {method: 'POST', headers: {'Content-Type': 'text/plain'},"
                + " body: JSON.stringify({project: '"
                + project
                + "', rollback_of: '"
                + id
                + "'})}).then(r => r.json().then(b => done(r.status + ' ' + b.error)));");
    assertTrue(
        String.valueOf(answer).startsWith("403 ")
            && String.valueOf(answer).contains("X-Requested-With"),
        String.valueOf(answer));
    assertEquals(1, first.get("/deployments?project=" + project).get("total").asInt());
    browser.assertNoConsoleErrors(FAILED_403);
  }

  @Test
  void theEventLogResumesAfterTheStreamIsDropped() {
    // A deployment whose events the test writes while the page watches it live.
    String id = UUID.randomUUID().toString();
    var entity = first.node.deployment(id);
    entity
        .<Deployment>askWithStatus(
            reply -> new DeploymentEntity.Create(project(), "live", "admin", "node-1", null, reply),
            Duration.ofSeconds(10))
        .toCompletableFuture()
        .join();
    signIn(second, "admin", TestNode.PASSWORD);
    browser.open(second.url("/#/deployments/" + id));
    browser.awaitText("deployment-status", "pending");
    int shown = loggedItems().size();
    // Layout shifts from here on, while events stream in (none caused by input).
    browser.script(
        "window.shifts = 0; new PerformanceObserver(list => { for (const e of list.getEntries())"
            + " { if (!e.hadRecentInput) window.shifts += e.value; } })"
            + ".observe({type: 'layout-shift'});");

    // The second node ends each stream after 4 events: 12 more mean 3 or more reconnects, each
    // resuming after the last event the page showed.
    for (int batch = 0; batch < 4; batch++) {
      for (int i = 0; i < 3; i++) {
        entity.tell(
            new DeploymentEntity.AppendLog(
                LogEntry.LOG, "upload", "node-1", "line " + batch + "." + i, Map.of()));
      }
      int expected = shown + 3 * (batch + 1);
      browser.await("event " + expected + " in the log", d -> loggedItems().size() >= expected);
    }
    double shifted = ((Number) browser.script("return window.shifts")).doubleValue();
    assertTrue(shifted < 0.001, "the page moved while events streamed: layout shift " + shifted);
    Deployment failed =
        entity
            .<Deployment>askWithStatus(
                reply ->
                    new DeploymentEntity.FailUpload("UPLOAD_ABORTED", "gave up", "upload", reply),
                Duration.ofSeconds(10))
            .toCompletableFuture()
            .join();
    awaitTerminal("failed", 0);
    assertGapless(loggedSeqs(), (int) failed.eventCount());
    assertEquals("UPLOAD_ABORTED", browser.find("deployment-error-code").getText().strip());
    browser.assertNoConsoleErrors();
  }

  private List<WebElement> loggedItems() {
    return browser.driver.findElements(By.cssSelector("[data-testid='event-log'] > li[data-seq]"));
  }

  @Test
  void everyPageAtBothWidths() {
    String project = project();
    first.deployRaw("project=" + project, Tarball.builder().file("v", "1").toBytes());
    signIn(first, "admin", TestNode.PASSWORD);
    Map<String, String> pages = new java.util.LinkedHashMap<>();
    pages.put("deployments", "deployments-table");
    pages.put("projects", "projects-table");
    pages.put("projects/" + project, "settings-form");
    pages.put("cluster", "nodes-table");
    pages.put("deploy", "deploy-form");
    for (Map.Entry<String, String> page : pages.entrySet()) {
      browser.open(first.url("/#/" + page.getKey()));
      browser.awaitVisible(page.getValue());
      for (int width : new int[] {1280, 390}) {
        browser.screenshot(page.getKey().replace('/', '-'), width);
        long overflow =
            (Long)
                browser.script(
                    "return document.documentElement.scrollWidth - document.documentElement.clientWidth");
        assertEquals(0, overflow, page.getKey() + " scrolls sideways at " + width + " px");
      }
      browser.driver.manage().window().setSize(new org.openqa.selenium.Dimension(1280, 900));
    }
    org.openqa.selenium.Cookie cookie = browser.driver.manage().getCookieNamed("deploy_session");
    assertTrue(cookie.isHttpOnly(), "the page's script cannot read the session");
    assertEquals("Strict", cookie.getSameSite());
    String header = "deploy_session=" + cookie.getValue();
    assertEquals(200, get(header, "/deployments?limit=1").statusCode());
    browser.find("signout").click();
    browser.awaitVisible("signin-form");
    assertEquals(null, browser.driver.manage().getCookieNamed("deploy_session"), "cleared");
    assertEquals(401, get(header, "/deployments?limit=1").statusCode(), "ended on the server");
    browser.assertNoConsoleErrors();
  }

  @Test
  void anAdminSavesSettingsAndIsAskedBeforeANodeLeaves() {
    String project = project();
    first.deployRaw("project=" + project, Tarball.builder().file("v", "1").toBytes());
    signIn(second, "admin", TestNode.PASSWORD);
    browser.open(second.url("/#/projects/" + project));
    WebElement keep = browser.awaitVisible("settings-form").findElement(By.name("keep_releases"));
    keep.clear();
    keep.sendKeys("1");
    browser.find("settings-save").click();
    browser.await(
        "the refusal of keep_releases 1",
        d -> browser.find("settings-message").getText().contains("INVALID_REQUEST"));
    keep.clear();
    keep.sendKeys("3");
    browser.find("settings-save").click();
    browser.awaitText("settings-message", "Saved");
    JsonNode settings = first.get("/projects/" + project + "/settings");
    assertEquals(3, settings.get("keep_releases").asInt());
    assertEquals("admin", settings.get("updated_by").asText());
    browser.assertNoConsoleErrors(Pattern.compile("status of 400"));

    // Leaving asks first; Escape (the keyboard) cancels, and the node stays.
    browser.open(second.url("/#/cluster"));
    browser.await(
        "node-2's row",
        d ->
            !d.findElements(By.cssSelector("tr[data-node='node-2'] [data-testid='node-leave']"))
                .isEmpty());
    browser
        .driver
        .findElement(By.cssSelector("tr[data-node='node-2'] [data-testid='node-leave']"))
        .click();
    WebElement dialog = browser.awaitVisible("confirm-dialog");
    assertTrue(browser.find("confirm-text").getText().contains("node-2"), "it names the node");
    assertEquals(
        "confirm-no",
        browser.driver.switchTo().activeElement().getAttribute("data-testid"),
        "the safe choice has the focus");
    browser.driver.switchTo().activeElement().sendKeys(Keys.ESCAPE);
    browser.await("the dialog to close", d -> !dialog.isDisplayed());
    for (JsonNode n : first.get("/cluster/nodes").get("nodes")) {
      assertEquals("up", n.get("status").asText(), n.toString());
    }
    browser.assertNoConsoleErrors();
  }

  @Test
  void aFileDroppedOnThePageIsDeployed() {
    signIn(first, "admin", TestNode.PASSWORD);
    String project = project();
    byte[] payload = Tarball.builder().file("index.html", "dropped").toBytes();
    browser.find("nav-deploy").click();
    browser.awaitVisible("deploy-form").findElement(By.name("project")).sendKeys(project);
    // What a drag from the file manager delivers: a drop event carrying the file.
    browser.script(
        "const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));"
            + "const transfer = new DataTransfer();"
            + "transfer.items.add(new File([bytes], 'dropped.tar.gz', {type: 'application/gzip'}));"
            + "const zone = document.querySelector(\"[data-testid='dropzone']\");"
            + "for (const type of ['dragover', 'drop']) {"
            + "  zone.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true,"
            + " cancelable: true})); }",
        java.util.Base64.getEncoder().encodeToString(payload));
    browser.await(
        "the dropped file's name", d -> browser.find("deploy-file").getText().contains("dropped"));
    browser.find("deploy-submit").click();
    String id = awaitDeploymentPage();
    awaitTerminal("succeeded", 2);
    assertEquals(payload.length, first.get("/deployments/" + id).get("payload_size").asLong());
    browser.assertNoConsoleErrors();
  }
}
