package dev.deployrt.deployment;

import dev.deployrt.release.ReleaseRegister;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * The cluster's deployment records: one sharded, event-sourced {@link DeploymentEntity} per
 * deployment, reachable from every node by its id. Sharding does not remember entities: {@link
 * UnfinishedDeployments} starts the records of unfinished deployments again after a crash, a
 * restart or a rebalance.
 */
public final class Deployments {
  private final ClusterSharding sharding;

  private Deployments(ClusterSharding sharding) {
    this.sharding = sharding;
  }

  /**
   * Starts this node's part of the sharded entities.
   *
   * @param finished called, with the deployment as it ended, on the node hosting a deployment's
   *     entity when it ends
   */
  public static Deployments init(
      ActorSystem<?> system,
      DeploymentSettings settings,
      ActorRef<ReleaseRegister.Command> register,
      Consumer<Deployment> finished) {
    ClusterSharding sharding = ClusterSharding.get(system);
    sharding.init(
        Entity.of(
                DeploymentEntity.ENTITY_TYPE_KEY,
                ctx ->
                    DeploymentEntity.create(
                        ctx.getEntityId(), settings, register, ctx.getShard(), finished))
            // Unfinished records are started again by UnfinishedDeployments, not remembered by
            // sharding; a record passivates itself once it has ended, never while it still runs.
            .withSettings(
                ClusterShardingSettings.create(system)
                    .withRememberEntities(false)
                    .withNoPassivationStrategy()));
    return new Deployments(sharding);
  }

  /** The record of deployment {@code id} (created by its first {@code Create}). */
  public EntityRef<DeploymentEntity.Command> entity(String id) {
    return sharding.entityRefFor(DeploymentEntity.ENTITY_TYPE_KEY, id);
  }
}
