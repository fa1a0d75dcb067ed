package dev.deployrt.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.deployrt.deployment.DeploymentEntity;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.cluster.sharding.ShardRegion.CurrentShardRegionState;
import org.apache.pekko.cluster.sharding.typed.GetShardRegionState;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which deployment records run on a node without anyone asking (sharding does not remember them):
 * an unfinished one is started again after a restart from the read model (UnfinishedDeployments),
 * and one for an id nobody created leaves memory instead of staying for good.
 */
@Tag("database")
class DeploymentRecordsInMemoryTest {
  private static final Map<String, Object> QUICK =
      Map.of("deploy.deployment.wake-interval", "1s", "deploy.deployment.passivate-after", "3s");

  @Test
  void anUnfinishedDeploymentsRecordRunsAgainAfterARestartWithoutBeingAsked(@TempDir Path data)
      throws Exception {
    String pending = UUID.randomUUID().toString();
    try (TestNode node = TestNode.start(data, "node-1", QUICK)) {
      NodeRestartTest.create(node, pending);
    }
    try (TestNode node = TestNode.start(data, "node-1", QUICK)) {
      node.testKit
          .createTestProbe()
          .awaitAssert(
              Duration.ofSeconds(30),
              () -> {
                assertTrue(running(node).contains(pending), "running: " + running(node));
                return null;
              });
      assertEquals("pending", node.get("/deployments/" + pending).get("status").asText());
    }
  }

  @Test
  void theRecordOfAnIdNobodyCreatedLeavesMemory(@TempDir Path data) {
    try (TestNode node = TestNode.start(data, "node-1", QUICK)) {
      String unknown = UUID.randomUUID().toString();
      assertEquals(
          404, node.send(node.request("/deployments/" + unknown).GET().build()).statusCode());
      assertTrue(running(node).contains(unknown), "the read started the record");
      node.testKit
          .createTestProbe()
          .awaitAssert(
              Duration.ofSeconds(20),
              () -> {
                assertFalse(running(node).contains(unknown), "running: " + running(node));
                return null;
              });
    }
  }

  private static Set<String> running(TestNode node) {
    TestProbe<CurrentShardRegionState> probe = node.testKit.createTestProbe();
    ClusterSharding.get(node.testKit.system())
        .shardState()
        .tell(new GetShardRegionState(DeploymentEntity.ENTITY_TYPE_KEY, probe.getRef()));
    return probe.receiveMessage(Duration.ofSeconds(5)).getShards().stream()
        .flatMap(shard -> shard.getEntityIds().stream())
        .collect(Collectors.toSet());
  }
}
