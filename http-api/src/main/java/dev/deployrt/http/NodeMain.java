package dev.deployrt.http;

import com.typesafe.config.Config;
import dev.deployrt.http.auth.AccountSettings;
import dev.deployrt.http.auth.UserStore;
import dev.deployrt.node.NodeConfig;
import dev.deployrt.node.NodeRuntime;
import dev.deployrt.node.NodeSettings;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * Starts one node in the foreground: actor system and cluster membership, runtime, operations API.
 * SIGTERM (and SIGINT) run Pekko's coordinated shutdown (leave the cluster, hand over shards,
 * unbind, stop) and then exit 0. If the node stops for any other reason (the cluster downed it), it
 * exits 1.
 */
public final class NodeMain {
  private static final Logger log = LoggerFactory.getLogger(NodeMain.class);

  private NodeMain() {}

  /**
   * With fewer than three processors the JDK's common pool has a parallelism of 1, and then every
   * {@code CompletableFuture} step run "async" without an executor gets a new thread of its own.
   * Libraries do that on every request (the sharding ask's answer reached the deploy handler on a
   * fresh thread, 1–3 ms after the entity replied, six new threads per deploy); a parallelism of 2
   * makes them reuse the common pool's threads instead (0.5 ms). Must run before anything touches
   * {@code CompletableFuture} or {@code ForkJoinPool}; an explicit setting is left alone.
   */
  private static void useCommonPoolForAsyncCallbacks() {
    String property = "java.util.concurrent.ForkJoinPool.common.parallelism";
    if (System.getProperty(property) == null && Runtime.getRuntime().availableProcessors() < 3) {
      System.setProperty(property, "2");
      if (java.util.concurrent.ForkJoinPool.getCommonPoolParallelism() < 2) {
        log.warn(
            "the common pool was set up before {} could be set (a Java agent?): async callbacks of "
                + "libraries each start a new thread",
            property);
      }
    }
  }

  public static void main(String[] args) throws Exception {
    useCommonPoolForAsyncCallbacks();
    Config config = NodeConfig.load();
    AccountSettings accounts;
    NodeSettings settings;
    try { // a wrong account or hook stops the start here, before the node joins anything
      accounts = AccountSettings.fromConfig(config);
      settings = NodeSettings.fromConfig(config);
    } catch (IllegalArgumentException e) {
      log.error("node failed to start: {}", e.getMessage());
      System.exit(2);
      return;
    }
    ActorSystem<Void> system =
        ActorSystem.create(Behaviors.empty(), NodeConfig.SYSTEM_NAME, config);
    try {
      NodeRuntime node = NodeRuntime.init(system, settings);
      UserStore users = UserStore.start(node, accounts);
      OperationsApi api = new OperationsApi(node, users);
      String host = api.settings().host();
      int port = api.settings().port();
      api.bind(host, port).toCompletableFuture().get(30, TimeUnit.SECONDS);
      log.info(
          "node {} serving the operations API at {}://{}:{}/ (data: {})",
          node.nodeName(),
          node.tls().scheme(),
          host,
          port,
          node.settings().dataDir());
    } catch (Exception e) {
      log.error("node failed to start", e);
      system.terminate();
      System.exit(1);
    }
    AtomicBoolean signalled = new AtomicBoolean();
    Runnable shutdown =
        () -> {
          signalled.set(true);
          log.info("shutting down: leaving the cluster");
          CoordinatedShutdown.get(system)
              .runAll(CoordinatedShutdown.jvmExitReason())
              .whenComplete((done, e) -> System.exit(0));
        };
    Signal.handle(new Signal("TERM"), s -> shutdown.run());
    Signal.handle(new Signal("INT"), s -> shutdown.run());
    system.getWhenTerminated().toCompletableFuture().join();
    if (!signalled.get()) {
      // Not asked to stop: the cluster removed this node (e.g. the split-brain resolver downed it
      // on the minority side of a partition). Exit non-zero so a supervisor starts it again; it
      // then rejoins.
      log.error(
          "the actor system stopped without a signal (this node was removed from the cluster): exiting 1");
      System.exit(1);
    }
  }
}
