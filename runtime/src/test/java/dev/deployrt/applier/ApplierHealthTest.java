package dev.deployrt.applier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import com.typesafe.config.ConfigFactory;
import dev.deployrt.archive.ArchiveLimits;
import dev.deployrt.hooks.HookRunner;
import dev.deployrt.hooks.HookSettings;
import dev.deployrt.release.DesiredRelease;
import dev.deployrt.release.ReleaseRegister;
import dev.deployrt.rollout.Gate;
import dev.deployrt.rollout.RolloutPlan;
import dev.deployrt.rollout.Stop;
import dev.deployrt.rollout.Strategy;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A release whose rollout watches health is reported {@code active} only once a full watch passed
 * on this node: never after its watch failed (it stays current until the rollout reverts it; a
 * record that took such an {@code active} first would ignore the failure and never revert), and not
 * at start for a release found current whose watch never passed here (the node may have stopped
 * during it).
 */
class ApplierHealthTest {
  private final ActorTestKit testKit = ActorTestKit.create();
  @TempDir Path data;
  private ReleaseDirectory dirs;
  private final TestProbe<String> reports = testKit.createTestProbe();
  private final TestProbe<ReleaseRegister.Command> register = testKit.createTestProbe();
  private final ExecutorService blocking = Executors.newFixedThreadPool(2);

  @AfterEach
  void stop() {
    testKit.shutdownTestKit();
    blocking.shutdownNow();
  }

  /** v2 was current; v3 is extracted, and current too if {@code v3Current}. */
  private void releases(boolean v3Current) throws Exception {
    dirs = ReleaseDirectory.open(data);
    dirs.createRelease("web", "v2", dir -> Files.writeString(dir.resolve("v"), "v2"));
    dirs.activate("web", "v2");
    dirs.createRelease("web", "v3", dir -> Files.writeString(dir.resolve("v"), "v3"));
    if (v3Current) {
      dirs.activate("web", "v3");
    }
    dirs.createRelease("other", "o", dir -> Files.writeString(dir.resolve("v"), "o"));
    dirs.activate("other", "o");
  }

  /** Starts the applier, polling {@code healthUrl} every 20 ms; returns its register subscriber. */
  private ActorRef<Map<String, DesiredRelease>> applier(String healthUrl) {
    return applierWithHooks(
        "hooks.web.health { url = \"" + healthUrl + "\", interval = 20ms, failures = 2 }");
  }

  private ActorRef<Map<String, DesiredRelease>> applierWithHooks(String hooksConfig) {
    HookSettings hooks = HookSettings.fromConfig(ConfigFactory.parseString(hooksConfig));
    testKit.spawn(
        Applier.create(
            "node-1",
            dirs,
            (release, cancelled, fetched, extraction) -> {
              throw new IllegalStateException("no fetch expected");
            },
            new ArchiveLimits(100, 1 << 20, 4096, 200),
            blocking,
            (project, id, status, error) -> reports.getRef().tell(id + " " + status.apiName()),
            project -> 5,
            Duration.ofHours(1),
            register.getRef(),
            hooks,
            HookRunner.open(data)));
    return register.expectMessageClass(ReleaseRegister.Subscribe.class).subscriber();
  }

  /** v3, all at once, watched for {@code windowS} and reverted on a failure. */
  private static DesiredRelease v3(int windowS) {
    return web("v3", 3, new RolloutPlan(Strategy.ALL_AT_ONCE, 1, windowS, true), null, null);
  }

  /** A project already active here: its report marks that the applier handled a message. */
  private static final DesiredRelease OTHER =
      new DesiredRelease(
          "other", "o", "0".repeat(64), 1, Instant.ofEpochSecond(1), "node-1", List.of(), null);

  /** The register with {@code web} first: the applier handles its projects in the map's order. */
  private static Map<String, DesiredRelease> webThenOther(DesiredRelease web) {
    Map<String, DesiredRelease> desired = new LinkedHashMap<>();
    desired.put("web", web);
    desired.put("other", OTHER);
    return desired;
  }

  @Test
  void aReleaseThatFailedItsHealthWatchIsNeverReportedActive() throws Exception {
    releases(false);
    // Nothing listens on port 1: every poll fails.
    ActorRef<Map<String, DesiredRelease>> subscriber = applier("http://127.0.0.1:1/healthz");
    subscriber.tell(Map.of("web", v3(60)));
    reports.expectMessage("v3 activating");
    reports.expectMessage("v3 watching");
    reports.expectMessage(Duration.ofSeconds(10), "v3 failed");
    assertEquals("v3", dirs.activeRelease("web").orElseThrow(), "current until reverted");
    // The register heard again: nothing about v3 comes before the other project's report.
    subscriber.tell(webThenOther(v3(60)));
    assertEquals("o active", reports.receiveMessage());
  }

  /**
   * A node that stopped during its health watch finds the release current when it starts: it
   * watches again rather than report active, and fails if the service is unhealthy.
   */
  @Test
  void aReleaseCurrentAtStartIsWatchedAgainAndMayStillFail() throws Exception {
    releases(true);
    dirs.marks().markSettled("web", "v2"); // the release before settled; v3 never did
    ActorRef<Map<String, DesiredRelease>> subscriber = applier("http://127.0.0.1:1/healthz");
    subscriber.tell(Map.of("web", v3(60)));
    reports.expectMessage("v3 watching");
    reports.expectMessage(Duration.ofSeconds(10), "v3 failed");
    subscriber.tell(webThenOther(v3(60)));
    assertEquals("o active", reports.receiveMessage());
    assertEquals("v3", dirs.activeRelease("web").orElseThrow());
    assertFalse(dirs.marks().settled("web", "v3"));
  }

  /**
   * A node that stopped after the watch passed (or a while after its deployment ended) reports the
   * release active at start without watching it again: its health now is no longer the rollout's
   * business, and a deployment that ended long ago gets no late {@code watching} or {@code failed}.
   */
  @Test
  void aReleaseWhoseWatchPassedHereIsReportedActiveAtStartWithoutAnotherWatch() throws Exception {
    releases(true);
    dirs.marks().markSettled("web", "v3");
    // Every poll would fail: a watch would end "v3 failed".
    ActorRef<Map<String, DesiredRelease>> subscriber = applier("http://127.0.0.1:1/healthz");
    subscriber.tell(Map.of("web", v3(60)));
    assertEquals("v3 active", reports.receiveMessage());
  }

  /** An activate hook that appends a line to {@code ran}, so a test sees whether and how often. */
  private String activateHook(Path ran) {
    return "hooks.web.activate { command = [\"sh\", \"-c\", \"echo ran >> "
        + ran.toAbsolutePath()
        + "\"] }";
  }

  private static final RolloutPlan UNWATCHED = new RolloutPlan(Strategy.ALL_AT_ONCE, 1, 0, true);

  /** v3 all at once, without a health window. */
  private static DesiredRelease v3Unwatched() {
    return v3(0);
  }

  /**
   * A node that stopped after its switch but before the activate hook finished runs the hook again
   * when it starts, and only then reports the release active.
   */
  @Test
  void anActivateHookARestartInterruptedRunsAgainBeforeTheReleaseIsActive() throws Exception {
    releases(false);
    dirs.activate("web", "v3"); // switched by this version (it keeps marks), hook never finished
    Path ran = data.resolve("ran");
    ActorRef<Map<String, DesiredRelease>> subscriber = applierWithHooks(activateHook(ran));
    subscriber.tell(Map.of("web", v3Unwatched()));
    reports.expectMessage(Duration.ofSeconds(10), "v3 active");
    assertEquals(List.of("ran"), Files.readAllLines(ran));
    assertTrue(dirs.marks().activated("web", "v3") && dirs.marks().settled("web", "v3"));
  }

  /**
   * The same for the release before the desired one, which this node runs while the rollout does
   * not let it start the desired one yet (a canary elsewhere): its interrupted hook runs again too.
   */
  @Test
  void anInterruptedSwitchToTheReleaseBeforeIsTakenUpToo() throws Exception {
    releases(false); // v2 current, switched by this version; its hook never finished
    Path ran = data.resolve("ran");
    ActorRef<Map<String, DesiredRelease>> subscriber = applierWithHooks(activateHook(ran));
    DesiredRelease canaryElsewhere =
        web(
            "v4",
            4,
            new RolloutPlan(Strategy.CANARY, 1, 0, true),
            new Gate(1, List.of("node-2"), null, null),
            v2());
    subscriber.tell(Map.of("web", canaryElsewhere));
    reports.expectMessage(Duration.ofSeconds(10), "v2 active");
    assertEquals(List.of("ran"), Files.readAllLines(ran));
    assertTrue(dirs.marks().settled("web", "v2"));
  }

  /** A revert marks the release it went back to as settled: a start does not take it up again. */
  @Test
  void aRevertSettlesTheReleaseItWentBackTo() throws Exception {
    releases(true); // v3 current, v2 before it
    Path ran = data.resolve("ran");
    ActorRef<Map<String, DesiredRelease>> subscriber = applierWithHooks(activateHook(ran));
    subscriber.tell(Map.of("web", v3Reverted()));
    reports.expectMessage(Duration.ofSeconds(10), "v3 reverted");
    assertEquals("v2", dirs.activeRelease("web").orElseThrow());
    assertEquals(List.of("ran"), Files.readAllLines(ran), "the activate hook ran for the revert");
    assertTrue(dirs.marks().settled("web", "v2") && dirs.marks().activated("web", "v2"));
  }

  /**
   * A revert whose activate hook fails still settles the release it went back to: the failure is on
   * the record, and neither the same run nor a later start runs that hook again.
   */
  @Test
  void aRevertWhoseHookFailsIsNotTakenUpAgain() throws Exception {
    releases(true);
    Path ran = data.resolve("ran");
    ActorRef<Map<String, DesiredRelease>> subscriber =
        applierWithHooks(
            "hooks.web.activate { command = [\"sh\", \"-c\", \"echo ran >> '"
                + ran.toAbsolutePath()
                + "'; exit 1\"] }");
    subscriber.tell(Map.of("web", v3Reverted()));
    reports.expectMessage(Duration.ofSeconds(10), "v3 reverted");
    reports.expectNoMessage(Duration.ofMillis(500));
    assertEquals(List.of("ran"), Files.readAllLines(ran), "the hook ran once");
    assertEquals("v2", dirs.activeRelease("web").orElseThrow());
    assertTrue(dirs.marks().settled("web", "v2"));
    assertFalse(dirs.marks().activated("web", "v2"), "its hook did not finish");
  }

  /** v2, all at once, without a health window. */
  private static DesiredRelease v2() {
    return web("v2", 2, UNWATCHED, null, null);
  }

  /** v3, reverted, with v2 before it. */
  private static DesiredRelease v3Reverted() {
    return web("v3", 3, UNWATCHED, Gate.OPEN.stopped(Stop.REVERTED), v2());
  }

  private static DesiredRelease web(
      String id, long createdSecond, RolloutPlan plan, Gate gate, DesiredRelease previous) {
    return new DesiredRelease(
        "web",
        id,
        "0".repeat(64),
        1,
        Instant.ofEpochSecond(createdSecond),
        "node-1",
        List.of("node-1"),
        null,
        plan,
        gate,
        previous);
  }

  /**
   * A node that stopped in the middle of a revert (switched back, hook not finished, nothing
   * reported) runs the revert again when it starts, and reports it: never "aborted", which the
   * record would ignore for a node that had switched, and wait for it until its deadline.
   */
  @Test
  void aRevertAStopInterruptedRunsAgainWhenTheNodeStarts() throws Exception {
    releases(true);
    dirs.activate("web", "v2"); // the revert's switch; its hook never finished
    Path ran = data.resolve("ran");
    ActorRef<Map<String, DesiredRelease>> subscriber = applierWithHooks(activateHook(ran));
    subscriber.tell(Map.of("web", v3Reverted()));
    reports.expectMessage(Duration.ofSeconds(10), "v3 reverted");
    assertEquals(List.of("ran"), Files.readAllLines(ran));
    assertEquals("v2", dirs.activeRelease("web").orElseThrow());
    assertTrue(dirs.marks().settled("web", "v2"));
  }

  /** A revert that finished before the node stopped is only reported again, once. */
  @Test
  void aFinishedRevertIsOnlyReportedAgain() throws Exception {
    releases(true);
    dirs.activate("web", "v2");
    dirs.marks().markSettled("web", "v2");
    Path ran = data.resolve("ran");
    ActorRef<Map<String, DesiredRelease>> subscriber = applierWithHooks(activateHook(ran));
    subscriber.tell(webThenOther(v3Reverted()));
    assertEquals("v3 reverted", reports.receiveMessage());
    assertEquals("o active", reports.receiveMessage());
    subscriber.tell(webThenOther(v3Reverted()));
    reports.expectNoMessage(Duration.ofMillis(300));
    assertFalse(Files.exists(ran), "the hook did not run");
  }

  /** Once the hook finished here (or everything did), a start does not run it again. */
  @Test
  void anActivateHookThatFinishedIsNotRunAgainAtStart() throws Exception {
    releases(false);
    dirs.activate("web", "v3");
    dirs.marks().markActivated("web", "v3");
    assertActiveAtStartWithoutRunningTheHook();
  }

  /**
   * A release switched to by a version that kept no marks: whether its hook finished is unknown,
   * and it is not run again (an upgrade does not re-run every project's activate hook).
   */
  @Test
  void aReleaseSwitchedWithoutMarksDoesNotRunItsActivateHookAgain() throws Exception {
    releases(true);
    Files.delete(data.resolve("projects/web/.settled"));
    assertActiveAtStartWithoutRunningTheHook();
  }

  /** Starts the applier with an activate hook: v3 is reported active at once, the hook not run. */
  private void assertActiveAtStartWithoutRunningTheHook() throws Exception {
    Path ran = data.resolve("ran");
    ActorRef<Map<String, DesiredRelease>> subscriber = applierWithHooks(activateHook(ran));
    subscriber.tell(webThenOther(v3Unwatched()));
    assertEquals("v3 active", reports.receiveMessage());
    assertEquals("o active", reports.receiveMessage());
    assertFalse(Files.exists(ran), "the hook did not run");
  }

  @Test
  void aReleaseCurrentAtStartIsReportedActiveOnceItsWatchPassedAgain() throws Exception {
    releases(true);
    HttpServer service = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    AtomicInteger polls = new AtomicInteger();
    service.createContext(
        "/healthz",
        exchange -> {
          polls.incrementAndGet();
          exchange.sendResponseHeaders(200, -1);
          exchange.close();
        });
    service.start();
    try {
      ActorRef<Map<String, DesiredRelease>> subscriber =
          applier("http://127.0.0.1:" + service.getAddress().getPort() + "/healthz");
      subscriber.tell(Map.of("web", v3(1)));
      reports.expectMessage("v3 watching");
      reports.expectMessage(Duration.ofSeconds(10), "v3 active");
      assertTrue(polls.get() >= 2, "watched for its window: " + polls.get() + " polls");
      assertTrue(dirs.marks().settled("web", "v3"), "marked settled before it was reported active");
    } finally {
      service.stop(0);
    }
  }
}
