package dev.deployrt.node;

import com.typesafe.config.Config;
import dev.deployrt.applier.Applier;
import dev.deployrt.applier.NodeReporter;
import dev.deployrt.applier.ReleaseDirectory;
import dev.deployrt.blob.BlobStore;
import dev.deployrt.deployment.Deployment;
import dev.deployrt.deployment.DeploymentEntity;
import dev.deployrt.deployment.Deployments;
import dev.deployrt.deployment.NodeStatus;
import dev.deployrt.deployment.UnfinishedDeployments;
import dev.deployrt.hooks.HookRunner;
import dev.deployrt.metrics.NodeMetrics;
import dev.deployrt.peer.BlobReclaimer;
import dev.deployrt.peer.PayloadReplicator;
import dev.deployrt.peer.PeerBlobFetcher;
import dev.deployrt.peer.PeerClient;
import dev.deployrt.peer.PeerDirectory;
import dev.deployrt.peer.PeerState;
import dev.deployrt.peer.Transfers;
import dev.deployrt.project.ProjectDefaults;
import dev.deployrt.project.ProjectSettingsStore;
import dev.deployrt.readmodel.History;
import dev.deployrt.readmodel.SharedPool;
import dev.deployrt.release.DesiredReleases;
import dev.deployrt.release.ReleaseRegister;
import dev.deployrt.retention.PayloadDeletion;
import dev.deployrt.retention.Retention;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/**
 * Wires one node's runtime into an actor system: blob store, release directories, release register,
 * peer directory and transfers, applier and the sharded deployment entities. Apart from {@code
 * main} so tests can start several nodes in one JVM.
 *
 * <p>A node with no seed nodes configured joins itself and forms a cluster of its own. Leftovers of
 * a crash (staging blobs, staging releases) are removed before anything starts; the node then tells
 * the cluster which payloads it holds and which releases are active, and its applier converges to
 * the register's desired releases.
 */
public final class NodeRuntime {
  private final ActorSystem<?> system;
  private final NodeSettings settings;
  private final PeerDirectory directory;
  private final BlobStore blobs;
  private final ReleaseDirectory releases;
  private final ActorRef<ReleaseRegister.Command> register;
  private final Deployments deployments;
  private final Executor blocking;
  private final Executor uploads;
  private final Executor database;
  private final History history;
  private final Transfers transfers;
  private final CompletionStage<Done> startupSweepDone;
  private final NodeMetrics metrics = new NodeMetrics();
  private final Database db;
  private final TlsSettings tls;
  private final ProjectSettingsStore projectSettings;

  /**
   * Set once the node is wired; deployments end only after that (their records need the register
   * and the appliers), so no ended deployment is missed.
   */
  private volatile Retention retention;

  private NodeRuntime(ActorSystem<?> system, NodeSettings settings) {
    Config config = system.settings().config();
    this.system = system;
    this.settings = settings;
    DataDirectory.makePrivate(settings.dataDir(), config.getBoolean("deploy.data-dir-private"));
    this.tls = TlsSettings.fromConfig(config);
    this.directory =
        PeerDirectory.start(system, settings.nodeName(), settings.registerWriteTimeout());
    this.blobs =
        BlobStore.open(
            settings.dataDir().resolve("blobs"),
            sha -> directory.updateSelf(s -> s.withBlob(sha, true)));
    this.releases = ReleaseDirectory.open(settings.dataDir());
    watchWithMetrics();
    this.blocking = dispatcher("deploy.blocking-dispatcher");
    this.uploads = dispatcher("deploy.upload-dispatcher");
    this.database = dispatcher("deploy.database-dispatcher");
    this.db = Database.init(system, settings.dataDir(), blocking);
    joinSelfWithoutSeeds(config);

    DesiredReleases desired =
        DesiredReleases.init(system, settings.registerWriteTimeout(), db.ready(), blocking);
    this.register = desired.register();
    this.history = History.init(system, db.pool(), db.ready(), blocking, database);
    this.projectSettings =
        new ProjectSettingsStore(db.pool(), ProjectDefaults.fromConfig(config), database);

    awaitSchema(config.getDuration("deploy.db.schema-wait"));
    this.deployments =
        Deployments.init(system, settings.deployment(), register, this::deploymentFinished);
    announceHoldings();
    directory.updateSelf(s -> s.withHooks(settings.hooks().configured()));

    NodeReporter reporter =
        new EntityReporter(system, settings.nodeName(), deployments, releases, directory, metrics);
    this.transfers =
        Transfers.init(
            system,
            settings.nodeName(),
            blobs,
            directory,
            db.clusterSecret(),
            tls.client(),
            this::upNodes,
            settings.upload(),
            settings.distribution(),
            reporter,
            blocking);
    this.retention =
        Retention.init(
            config,
            deployments,
            history,
            register,
            transfers.reclaimer(),
            projectSettings,
            system,
            metrics::payloadsReclaimed);
    this.startupSweepDone = startupSweep(desired);
    startApplier(reporter);
    // Last: a woken record may end at once (its deadline passed while the cluster was down), and an
    // ending deployment needs retention wired.
    UnfinishedDeployments.start(
        system,
        deployments,
        settings.deployment().wakeInterval(),
        history.ready(),
        () -> history.queries().unfinished(UnfinishedDeployments.MAX_PER_PASS),
        database);
  }

  private void watchWithMetrics() {
    metrics.watchBlobStore(blobs);
    metrics.watchDataVolume(settings.dataDir());
    metrics.watchCluster(() -> Cluster.get(system));
  }

  private Executor dispatcher(String name) {
    return system.dispatchers().lookup(DispatcherSelector.fromConfig(name));
  }

  /** A node with no seed nodes forms a cluster of its own. */
  private void joinSelfWithoutSeeds(Config config) {
    Cluster cluster = Cluster.get(system);
    if (config.getStringList("pekko.cluster.seed-nodes").isEmpty()) {
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }
  }

  private CompletionStage<Done> startupSweep(DesiredReleases desired) {
    StartupSweep sweep =
        new StartupSweep(
            system,
            blobs,
            history.queries(),
            transfers.reclaimer(),
            desired.store(),
            history.catchUp(),
            this::deployment,
            blocking);
    CompletionStage<Done> done = sweep.startAfter(history.ready());
    done.thenRun(() -> sweep.repeatEvery(settings.orphanSweepInterval()));
    return done;
  }

  private void startApplier(NodeReporter reporter) {
    system.systemActorOf(
        Applier.create(
            settings.nodeName(),
            releases,
            transfers.fetcher(),
            settings.archiveLimits(),
            blocking,
            reporter,
            project -> projectSettings.read(project).keepReleases(),
            settings.orphanSweepInterval(),
            register,
            settings.hooks(),
            HookRunner.open(settings.dataDir())),
        "applier",
        Props.empty());
  }

  /** A deployment whose record this node hosts ended. */
  private void deploymentFinished(Deployment ended) {
    metrics.deploymentFinished(ended.status());
    Retention wired = retention;
    if (wired != null) {
      try {
        wired.deploymentEnded(ended);
      } catch (RuntimeException e) {
        // Runs inside the deployment's record: a failure here must never stop the record.
        system.log().error("payload retention after deployment {} failed", ended.deploymentId(), e);
      }
    }
  }

  /** Tells the cluster which payloads this node holds and which release each project runs here. */
  private void announceHoldings() {
    Set<String> held = blobs.all();
    Map<String, String> active = releases.activeReleases();
    directory.updateSelf(
        s -> {
          PeerState state = s.withBlobs(held);
          for (Map.Entry<String, String> e : active.entrySet()) {
            state =
                state.withProject(
                    e.getKey(),
                    new PeerState.ProjectState(
                        e.getValue(), e.getValue(), NodeStatus.ACTIVE.apiName()));
          }
          return state;
        });
  }

  /**
   * A deployment record recovers from the journal as soon as sharding starts it, so on a fresh
   * database the tables must exist first. Waits at most {@code limit}; a database that does not
   * answer by then leaves the node not ready, and a record that cannot recover is restarted by its
   * next message.
   */
  private void awaitSchema(Duration limit) {
    try {
      db.ready().toCompletableFuture().get(limit.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      system
          .log()
          .warn(
              "the database did not answer within {}: starting anyway, not ready until it does",
              limit);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("cannot create or upgrade the database schema", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public static NodeRuntime init(ActorSystem<?> system) {
    return init(system, NodeSettings.fromConfig(system.settings().config()));
  }

  /** Starts the node with {@code settings}, read beforehand from {@code system}'s configuration. */
  public static NodeRuntime init(ActorSystem<?> system, NodeSettings settings) {
    return new NodeRuntime(system, settings);
  }

  public EntityRef<DeploymentEntity.Command> deployment(String deploymentId) {
    return deployments.entity(deploymentId);
  }

  public ActorSystem<?> system() {
    return system;
  }

  /** Connections to the shared database (the journal's pool). Blocking: use {@link #database()}. */
  public SharedPool sharedPool() {
    return db.pool();
  }

  public NodeMetrics metrics() {
    return metrics;
  }

  public NodeSettings settings() {
    return settings;
  }

  /** HTTPS for the operations API and for calls to peers' APIs, if configured. */
  public TlsSettings tls() {
    return tls;
  }

  public String nodeName() {
    return settings.nodeName();
  }

  public BlobStore blobs() {
    return blobs;
  }

  /** This node's releases on disk. */
  public ReleaseDirectory releases() {
    return releases;
  }

  public ActorRef<ReleaseRegister.Command> register() {
    return register;
  }

  /** Blocking file work: extraction, fetches, commits. */
  public Executor blocking() {
    return blocking;
  }

  /** Client uploads and rollback copies, one thread each for as long as they run. */
  public Executor uploads() {
    return uploads;
  }

  /** Short database work on the request path (credentials, lists, health). */
  public Executor database() {
    return database;
  }

  /** The deployment history: the read model, its queries and its catch-up with the journal. */
  public History history() {
    return history;
  }

  /** Each project's retention settings, shared by every node. */
  public ProjectSettingsStore projectSettings() {
    return projectSettings;
  }

  /** Gives up deployments' payloads (an admin's delete, and retention). */
  public PayloadDeletion payloadDeletion() {
    return retention.deletion();
  }

  /** The cluster's deployment records (sharded entities). */
  public Deployments deployments() {
    return deployments;
  }

  /** Payload transfers between nodes: calls, replicas, fetches, reclaims. */
  public Transfers transfers() {
    return transfers;
  }

  /** HTTP calls to other nodes' internal endpoints. */
  public PeerClient peers() {
    return transfers.client();
  }

  public BlobReclaimer reclaimer() {
    return transfers.reclaimer();
  }

  /** Gets payloads onto this node from the nodes that hold them. */
  public PeerBlobFetcher fetcher() {
    return transfers.fetcher();
  }

  /**
   * Completes once the start-up sweep of blobs whose payloads were deleted while this node was down
   * ran; fails if the node stopped before the read model had caught up (nothing was swept).
   */
  public CompletionStage<Done> startupSweepDone() {
    return startupSweepDone;
  }

  /** Completes once the journal's tables exist (the database is reachable). */
  public CompletionStage<Done> journalReady() {
    return db.ready();
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

  public PeerDirectory directory() {
    return directory;
  }

  public PayloadReplicator replicator() {
    return transfers.replicator();
  }

  /** The secret node-to-node calls authenticate with (completes once the database is reachable). */
  public CompletionStage<String> clusterSecret() {
    return db.clusterSecret();
  }

  /** Tells the cluster where this node's operations API answers, once it is bound. */
  public void announceEndpoint(String baseUrl) {
    directory.updateSelf(s -> s.withEndpoint(baseUrl));
  }

  /** Names of the members that are up, this node included. */
  public Set<String> upNodes() {
    return Set.copyOf(targetNodes());
  }
}
