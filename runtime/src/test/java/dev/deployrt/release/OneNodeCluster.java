package dev.deployrt.release;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/** A test kit whose system is a cluster node (Jackson for the register's entries), and its join. */
final class OneNodeCluster {
  private OneNodeCluster() {}

  /** A test kit for a cluster node, with {@code extraConfig} (HOCON) over the common settings. */
  static ActorTestKit testKit(String extraConfig) {
    return ActorTestKit.create(
        ConfigFactory.parseString(extraConfig)
            .withFallback(
                ConfigFactory.parseString(
                    """
      pekko.actor.provider = cluster
      pekko.remote.artery.canonical.hostname = "127.0.0.1"
      pekko.remote.artery.canonical.port = 0
      pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
      pekko.actor.serialization-bindings {
        "dev.deployrt.serialization.JsonSerializable" = jackson-json
      }
      """)));
  }

  /** Makes the test kit's node a cluster of its own, and waits until it is up. */
  static void joinItself(ActorTestKit testKit) {
    Cluster cluster = Cluster.get(testKit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    testKit
        .createTestProbe()
        .awaitAssert(
            Duration.ofSeconds(20),
            () -> {
              assertEquals(MemberStatus.up(), cluster.selfMember().status());
              return null;
            });
  }
}
