package dev.deployrt.applier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deployrt.archive.ArchiveLimits;
import dev.deployrt.deployment.NodeStatus;
import dev.deployrt.hooks.HookSettings;
import dev.deployrt.release.DesiredRelease;
import dev.deployrt.release.ReleaseRegister;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The applier prunes in the same serial job per project as it applies: a prune and a switch of the
 * same project never interleave, and a prune stops removing once a newer release waits.
 */
class ApplierPruneTest {
  private final ActorTestKit testKit = ActorTestKit.create();
  @TempDir Path data;

  @AfterEach
  void stop() {
    testKit.shutdownTestKit();
  }

  private static DesiredRelease release(String id, String source, long createdSecond) {
    return release("web", id, source, createdSecond);
  }

  private static DesiredRelease release(
      String project, String id, String source, long createdSecond) {
    return new DesiredRelease(
        project,
        id,
        "0".repeat(64),
        1,
        Instant.ofEpochSecond(createdSecond),
        "node-1",
        List.of("node-1"),
        source);
  }

  @Test
  void aRollbackArrivingWhileAPruneRunsFindsItsSourceAndNeverFetches() throws Exception {
    ReleaseDirectory dirs = ReleaseDirectory.open(data);
    for (String id : List.of("a", "b", "c", "d")) {
      dirs.createRelease("web", id, dir -> Files.writeString(dir.resolve("v"), id));
      dirs.activate("web", id);
    }
    dirs.createRelease("other", "o", dir -> Files.writeString(dir.resolve("v"), "o"));
    dirs.activate("other", "o");
    CountDownLatch pruneStarted = new CountDownLatch(1);
    CountDownLatch letPruneGo = new CountDownLatch(1);
    AtomicInteger fetches = new AtomicInteger();
    TestProbe<ReleaseRegister.Command> register = testKit.createTestProbe();
    TestProbe<String> activated = testKit.createTestProbe();
    NodeReporter reporter =
        (project, id, status, error) -> {
          if (status == NodeStatus.ACTIVE) {
            activated.getRef().tell(id);
          }
        };
    var blocking = Executors.newFixedThreadPool(2);
    try {
      testKit.spawn(
          Applier.create(
              "node-1",
              dirs,
              (release, cancelled, fetched, extraction) -> {
                fetches.incrementAndGet();
                throw new IllegalStateException("no fetch expected");
              },
              new ArchiveLimits(100, 1 << 20, 4096, 200),
              blocking,
              reporter,
              project -> {
                pruneStarted.countDown();
                letPruneGo.await();
                return 2;
              },
              Duration.ofHours(1),
              register.getRef(),
              HookSettings.NONE,
              null));
      @SuppressWarnings("unchecked")
      ReleaseRegister.Subscribe subscribe =
          (ReleaseRegister.Subscribe) register.expectMessageClass(ReleaseRegister.Subscribe.class);
      // At start: d is active, so the applier only prunes (and waits in keep_releases).
      subscribe.subscriber().tell(Map.of("web", release("d", null, 4)));
      activated.expectMessage("d");
      assertTrue(pruneStarted.await(10, TimeUnit.SECONDS));
      // A rollback to a, which a prune keeping 2 (d and c) would remove, arrives meanwhile; with it
      // a project already active, whose report says the applier has taken the message in.
      subscribe
          .subscriber()
          .tell(Map.of("web", release("r", "a", 5), "other", release("other", "o", null, 1)));
      activated.expectMessage("o");
      letPruneGo.countDown();

      activated.expectMessage(Duration.ofSeconds(10), "r");
      assertEquals("a", Files.readString(data.resolve("projects/web/current/v")));
      assertEquals(0, fetches.get(), "the rollback switched to a's tree on disk");
    } finally {
      blocking.shutdownNow();
    }
  }

  @Test
  void releasesACrashLeftAreRemovedByThePeriodicPruneWithoutADeploy() throws Exception {
    ReleaseDirectory dirs = ReleaseDirectory.open(data);
    for (String id : List.of("a", "b")) {
      dirs.createRelease("web", id, dir -> Files.writeString(dir.resolve("v"), id));
      dirs.activate("web", id);
    }
    // Extracted, never switched to: what a crash between extraction and the switch leaves.
    dirs.createRelease("web", "crash-left", dir -> Files.writeString(dir.resolve("v"), "x"));
    // The prune at start fails (the database is not reachable yet), so only a later one can help.
    AtomicInteger prunes = new AtomicInteger();
    TestProbe<ReleaseRegister.Command> register = testKit.createTestProbe();
    TestProbe<String> activated = testKit.createTestProbe();
    var blocking = Executors.newFixedThreadPool(2);
    try {
      testKit.spawn(
          Applier.create(
              "node-1",
              dirs,
              (release, cancelled, fetched, extraction) -> {
                throw new IllegalStateException("no fetch expected");
              },
              new ArchiveLimits(100, 1 << 20, 4096, 200),
              blocking,
              (project, id, status, error) -> {
                if (status == NodeStatus.ACTIVE) {
                  activated.getRef().tell(id);
                }
              },
              project -> {
                if (prunes.incrementAndGet() == 1) {
                  throw new java.sql.SQLException("the database is not reachable");
                }
                return 2;
              },
              Duration.ofMillis(200),
              register.getRef(),
              HookSettings.NONE,
              null));
      ReleaseRegister.Subscribe subscribe =
          register.expectMessageClass(ReleaseRegister.Subscribe.class);
      subscribe.subscriber().tell(Map.of("web", release("b", null, 2)));
      activated.expectMessage("b");

      Path left = data.resolve("projects/web/releases/crash-left");
      testKit
          .createTestProbe()
          .awaitAssert(
              Duration.ofSeconds(10),
              () -> {
                assertTrue(Files.notExists(left), "removed by a periodic prune");
                assertTrue(prunes.get() >= 2);
                return null;
              });
      assertEquals("b", Files.readString(data.resolve("projects/web/current/v")));
      assertTrue(Files.isDirectory(data.resolve("projects/web/releases/a")), "a stays (keep 2)");
    } finally {
      blocking.shutdownNow();
    }
  }
}
