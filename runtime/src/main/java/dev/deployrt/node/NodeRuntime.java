package dev.deployrt.node;

import dev.deployrt.applier.Applier;
import dev.deployrt.applier.BlobSource;
import dev.deployrt.applier.ReleaseDirectory;
import dev.deployrt.blob.BlobStore;
import dev.deployrt.deployment.DeploymentEntity;
import dev.deployrt.persistence.JournalSchema;
import dev.deployrt.release.ReleaseRegister;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/**
 * Wires one node's runtime into an actor system: blob store, release directories, release register,
 * applier and the sharded deployment entities. Apart from {@code main} so tests can start several
 * nodes in one JVM.
 *
 * <p>A node with no seed nodes configured joins itself and forms a cluster of its own. Leftovers of a
 * crash (staging blobs, staging releases) are removed before anything starts.
 */
public final class NodeRuntime {
  private final ActorSystem<?> system;
  private final NodeSettings settings;
  private final BlobStore blobs;
  private final ReleaseDirectory releases;
  private final ActorRef<ReleaseRegister.Command> register;
  private final ActorRef<Applier.Command> applier;
  private final ClusterSharding sharding;
  private final Executor blocking;
  private final CompletionStage<Done> journalReady;

  private NodeRuntime(ActorSystem<?> system, NodeSettings settings) {
    this.system = system;
    this.settings = settings;
    this.blobs = BlobStore.open(settings.dataDir().resolve("blobs"));
    this.releases = ReleaseDirectory.open(settings.dataDir());
    this.blocking = system.dispatchers().lookup(DispatcherSelector.fromConfig("deploy.blocking-dispatcher"));
    this.journalReady = CompletableFuture.supplyAsync(() -> {
      try {
        JournalSchema.ensure(system.settings().config());
        return Done.getInstance();
      } catch (Exception e) {
        throw new CompletionException("cannot create the journal schema", e);
      }
    }, blocking);

    Cluster cluster = Cluster.get(system);
    if (system.settings().config().getStringList("pekko.cluster.seed-nodes").isEmpty()) {
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }

    this.register = system.systemActorOf(ReleaseRegister.create(settings.registerWriteTimeout()),
        "release-register", Props.empty());
    this.sharding = ClusterSharding.get(system);
    sharding.init(Entity.of(DeploymentEntity.ENTITY_TYPE_KEY,
        ctx -> DeploymentEntity.create(ctx.getEntityId(), settings.deployment(), register)));

    BlobSource localOnly = release -> blobs.find(release.sha256())
        .orElseThrow(() -> new NoSuchFileException("payload " + release.sha256() + " is not on this node"));
    this.applier = system.systemActorOf(
        Applier.create(settings.nodeName(), releases, localOnly, settings.archiveLimits(), blocking,
            (deploymentId, status, error) -> deployment(deploymentId)
                .tell(new DeploymentEntity.ReportNodeStatus(settings.nodeName(), status, error)),
            register),
        "applier", Props.empty());
  }

  public static NodeRuntime init(ActorSystem<?> system) {
    return new NodeRuntime(system, NodeSettings.fromConfig(system.settings().config()));
  }

  public EntityRef<DeploymentEntity.Command> deployment(String deploymentId) {
    return sharding.entityRefFor(DeploymentEntity.ENTITY_TYPE_KEY, deploymentId);
  }

  public ActorSystem<?> system() {
    return system;
  }

  public NodeSettings settings() {
    return settings;
  }

  public String nodeName() {
    return settings.nodeName();
  }

  public BlobStore blobs() {
    return blobs;
  }

  public ReleaseDirectory releases() {
    return releases;
  }

  public ActorRef<ReleaseRegister.Command> register() {
    return register;
  }

  public ActorRef<Applier.Command> applier() {
    return applier;
  }

  public Executor blocking() {
    return blocking;
  }

  /** Completes once the journal's tables exist (the database is reachable). */
  public CompletionStage<Done> journalReady() {
    return journalReady;
  }

  /**
   * The nodes a deployment starting now must reach: every member that is up, by node name (from its
   * {@code node:<name>} role). At least this node.
   */
  public List<String> targetNodes() {
    TreeSet<String> names = new TreeSet<>();
    for (Member m : Cluster.get(system).state().getMembers()) {
      if (m.status() == MemberStatus.up()) {
        m.getRoles().stream()
            .filter(r -> r.startsWith(NodeConfig.NODE_ROLE_PREFIX))
            .forEach(r -> names.add(r.substring(NodeConfig.NODE_ROLE_PREFIX.length())));
      }
    }
    names.add(settings.nodeName());
    return List.copyOf(names);
  }

  /** Active deployment id per project on this node. */
  public Map<String, String> activeReleases() {
    return releases.activeReleases();
  }
}
