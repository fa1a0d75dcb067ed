package dev.deployrt.metrics;

import dev.deployrt.blob.BlobStore;
import dev.deployrt.deployment.DeploymentStatus;
import dev.deployrt.deployment.NodeStatus;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * One node's Prometheus metrics (served at {@code GET /metrics}), in a registry of its own, so
 * several nodes in one JVM (tests) do not mix their figures. Counters count what this node did
 * since it started; a cluster-wide figure is the sum over the nodes:
 *
 * <ul>
 *   <li>{@code deploy_uploads_in_flight}: client uploads this node is receiving now;
 *   <li>{@code deploy_upload_received_bytes_total}: payload bytes received from clients;
 *   <li>{@code deploy_deployments_finished_total{status}}: deployments that ended, by terminal
 *       status, counted by the node that hosted the deployment's entity when it ended (once per
 *       deployment);
 *   <li>{@code deploy_apply_phase_seconds{phase}}: how long this node spent in each apply phase
 *       ({@code fetching}, {@code extracting}, {@code activating}), per deployment;
 *   <li>{@code deploy_blob_store_bytes} and {@code deploy_blob_store_blobs}: committed payloads on
 *       disk;
 *   <li>{@code deploy_cluster_members{status}} (every status, 0 when none) and {@code
 *       deploy_cluster_unreachable_members}, as this node sees the cluster;
 *   <li>{@code deploy_data_volume_free_bytes}: what this process may still write to the data
 *       directory's volume (one {@code statfs} per scrape);
 *   <li>{@code deploy_project_release_bytes{project}} and {@code deploy_project_releases{project}}:
 *       each project's release directories on this node, as its last prune left them;
 *   <li>{@code deploy_retention_freed_bytes_total{kind}}: bytes retention freed on this node's disk
 *       ({@code releases}) and, for payloads this node's retention reclaimed, on the nodes it
 *       reached ({@code payloads});
 *   <li>the client library's standard JVM metrics ({@code jvm_memory_*}, {@code jvm_gc_*}, ...).
 * </ul>
 *
 * Every figure is kept in memory (the blob store counts its blobs as it commits and deletes them),
 * so a scrape, which needs no credentials, costs no disk or database access.
 */
public final class NodeMetrics {
  /** Member statuses exported, in lifecycle order; each always present, so series do not vanish. */
  private static final List<String> MEMBER_STATUSES =
      List.of("joining", "weakly_up", "up", "leaving", "exiting", "down");

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Gauge uploadsInFlight;
  private final Counter uploadBytes;
  private final Counter deploymentsFinished;
  private final Histogram applyPhase;
  private final Gauge projectReleaseBytes;
  private final Gauge projectReleases;
  private final Counter retentionFreed;

  /** When this node entered its current apply phase, per deployment. */
  private final Map<String, PhaseStart> phaseStarts = new ConcurrentHashMap<>();

  private record PhaseStart(NodeStatus phase, long nanos) {}

  public NodeMetrics() {
    uploadsInFlight =
        Gauge.builder()
            .name("deploy_uploads_in_flight")
            .help("Client uploads this node is receiving now")
            .register(registry);
    uploadBytes =
        Counter.builder()
            .name("deploy_upload_received_bytes")
            .help("Payload bytes received from clients by this node")
            .unit(Unit.BYTES)
            .register(registry);
    projectReleaseBytes =
        Gauge.builder()
            .name("deploy_project_release_bytes")
            .help("Bytes of each project's release directories on this node, after its last prune")
            .labelNames("project")
            .unit(Unit.BYTES)
            .register(registry);
    projectReleases =
        Gauge.builder()
            .name("deploy_project_releases")
            .help("Each project's release directories on this node, after its last prune")
            .labelNames("project")
            .register(registry);
    retentionFreed =
        Counter.builder()
            .name("deploy_retention_freed_bytes")
            .help("Bytes retention freed: release directories here, payloads on the nodes reached")
            .labelNames("kind")
            .unit(Unit.BYTES)
            .register(registry);
    retentionFreed.labelValues("releases");
    retentionFreed.labelValues("payloads");
    deploymentsFinished =
        Counter.builder()
            .name("deploy_deployments_finished")
            .help("Deployments that ended while their entity ran on this node, by terminal status")
            .labelNames("status")
            .register(registry);
    for (DeploymentStatus s : DeploymentStatus.values()) {
      if (s.isTerminal()) {
        deploymentsFinished.initLabelValues(s.apiName());
      }
    }
    applyPhase =
        Histogram.builder()
            .name("deploy_apply_phase")
            .help("Time this node spent in each apply phase of a deployment")
            .unit(Unit.SECONDS)
            .labelNames("phase")
            .classicOnly()
            .classicUpperBounds(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
            .register(registry);
    JvmMetrics.builder().register(registry);
  }

  /** Adds the gauges computed from the blob store's files. */
  public void watchBlobStore(BlobStore blobs) {
    GaugeWithCallback.builder()
        .name("deploy_blob_store_bytes")
        .help("Bytes of committed payloads in this node's blob store")
        .callback(cb -> cb.call(blobs.usage().bytes()))
        .register(registry);
    GaugeWithCallback.builder()
        .name("deploy_blob_store_blobs")
        .help("Committed payloads in this node's blob store")
        .callback(cb -> cb.call(blobs.usage().blobs()))
        .register(registry);
  }

  /** Adds the gauge of the free space on the data directory's volume. */
  public void watchDataVolume(java.nio.file.Path dataDir) {
    GaugeWithCallback.builder()
        .name("deploy_data_volume_free_bytes")
        .help("Bytes this node may still write to its data directory's volume")
        .unit(Unit.BYTES)
        .callback(
            cb -> {
              try {
                cb.call(java.nio.file.Files.getFileStore(dataDir).getUsableSpace());
              } catch (java.io.IOException e) {
                // not reported this scrape
              }
            })
        .register(registry);
  }

  /** A prune of {@code project}'s releases left {@code releases} directories of {@code bytes}. */
  public void releasesPruned(String project, int releases, long bytes, long freedBytes) {
    projectReleaseBytes.labelValues(project).set(bytes);
    projectReleases.labelValues(project).set(releases);
    retentionFreed.labelValues("releases").inc(freedBytes);
  }

  /** Payload retention reclaimed {@code bytes} on the nodes it reached. */
  public void payloadsReclaimed(long bytes) {
    retentionFreed.labelValues("payloads").inc(bytes);
  }

  /** Adds the gauges of cluster membership as {@code cluster} sees it at scrape time. */
  public void watchCluster(Supplier<Cluster> cluster) {
    GaugeWithCallback.builder()
        .name("deploy_cluster_members")
        .help("Cluster members by status, as this node sees them")
        .labelNames("status")
        .callback(
            cb -> {
              Map<String, Integer> counts = new java.util.TreeMap<>();
              MEMBER_STATUSES.forEach(name -> counts.put(name, 0));
              for (Member m : cluster.get().state().getMembers()) {
                String name =
                    m.status()
                        .toString()
                        .replaceAll("([a-z])([A-Z])", "$1_$2")
                        .toLowerCase(Locale.ROOT);
                counts.merge(name, 1, Integer::sum);
              }
              counts.forEach((name, n) -> cb.call(n, name));
            })
        .register(registry);
    GaugeWithCallback.builder()
        .name("deploy_cluster_unreachable_members")
        .help("Members this node's failure detector marks unreachable")
        .callback(cb -> cb.call(cluster.get().state().getUnreachable().size()))
        .register(registry);
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  /** Call when a client upload starts; close the result when it ends, however it ends. */
  public UploadInFlight uploadStarted() {
    uploadsInFlight.inc();
    return new UploadInFlight();
  }

  /** One client upload in flight. */
  public final class UploadInFlight implements AutoCloseable {
    private boolean closed;

    public void received(long bytes) {
      uploadBytes.inc(bytes);
    }

    @Override
    public synchronized void close() {
      if (!closed) {
        closed = true;
        uploadsInFlight.dec();
      }
    }
  }

  public void deploymentFinished(DeploymentStatus status) {
    deploymentsFinished.labelValues(status.apiName()).inc();
  }

  /**
   * Records that this node moved to {@code status} for {@code deploymentId}: the phase it leaves
   * (if it was in one) is observed with the time spent in it. Terminal statuses end the tracking.
   */
  public void nodePhaseChanged(String deploymentId, NodeStatus status) {
    long now = System.nanoTime();
    PhaseStart[] left = new PhaseStart[1];
    if (status.isTerminal()) {
      left[0] = phaseStarts.remove(deploymentId);
    } else {
      phaseStarts.compute(
          deploymentId,
          (id, current) -> {
            if (current != null && current.phase() == status) {
              return current; // a repeated report: still in the same phase
            }
            left[0] = current;
            return new PhaseStart(status, now);
          });
    }
    PhaseStart previous = left[0];
    if (previous != null && PHASES.containsKey(previous.phase())) {
      applyPhase.labelValues(PHASES.get(previous.phase())).observe((now - previous.nanos()) / 1e9);
    }
  }

  private static final Map<NodeStatus, String> PHASES =
      new EnumMap<>(
          Map.of(
              NodeStatus.FETCHING,
              "fetching",
              NodeStatus.EXTRACTING,
              "extracting",
              NodeStatus.CHECKING,
              "checking",
              NodeStatus.ACTIVATING,
              "activating",
              NodeStatus.WATCHING,
              "watching"));
}
