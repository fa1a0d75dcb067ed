package dev.deployrt.node;

import dev.deployrt.applier.NodeReporter;
import dev.deployrt.applier.ReleaseDirectory;
import dev.deployrt.applier.ReleasePruner;
import dev.deployrt.deployment.DeploymentEntity;
import dev.deployrt.deployment.Deployments;
import dev.deployrt.deployment.ErrorInfo;
import dev.deployrt.deployment.NodeStatus;
import dev.deployrt.metrics.NodeMetrics;
import dev.deployrt.peer.PeerDirectory;
import dev.deployrt.peer.PeerState;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.pattern.Patterns;

/**
 * Sends this node's applier progress to the deployment records, this node's peer-directory entry
 * and its metrics. A terminal status, and {@code prepared} (which a two-phase rollout waits for),
 * is sent at least once (asked again until the record acknowledges it, as sharding may drop a
 * message while a record moves); the others are told once.
 */
final class EntityReporter implements NodeReporter {
  /**
   * A terminal node report is resent this many times (2 s apart, 5 s each) until the entity
   * acknowledges it.
   */
  private static final int TERMINAL_REPORT_ATTEMPTS = 90;

  private final ActorSystem<?> system;
  private final String nodeName;
  private final Deployments deployments;
  private final ReleaseDirectory releases;
  private final PeerDirectory directory;
  private final NodeMetrics metrics;

  EntityReporter(
      ActorSystem<?> system,
      String nodeName,
      Deployments deployments,
      ReleaseDirectory releases,
      PeerDirectory directory,
      NodeMetrics metrics) {
    this.system = system;
    this.nodeName = nodeName;
    this.deployments = deployments;
    this.releases = releases;
    this.directory = directory;
    this.metrics = metrics;
  }

  @Override
  public void report(String project, String deploymentId, NodeStatus status, ErrorInfo error) {
    report(project, deploymentId, status, error, null);
  }

  @Override
  public void report(
      String project, String deploymentId, NodeStatus status, ErrorInfo error, Instant switchedAt) {
    report(project, deploymentId, status, error, switchedAt, List.of());
  }

  @Override
  public void report(
      String project,
      String deploymentId,
      NodeStatus status,
      ErrorInfo error,
      Instant switchedAt,
      List<Note> notes) {
    List<DeploymentEntity.AppendLog> logged =
        notes.stream()
            .map(
                n ->
                    new DeploymentEntity.AppendLog(
                        n.type(), n.phase(), nodeName, n.message(), n.data()))
            .toList();
    metrics.nodePhaseChanged(deploymentId, status);
    if (status.isTerminal() || status == NodeStatus.PREPARED) {
      Patterns.retry(
          () ->
              deployments
                  .entity(deploymentId)
                  .<Done>ask(
                      replyTo ->
                          new DeploymentEntity.ReportNodeStatus(
                              nodeName, status, error, switchedAt, logged, replyTo),
                      Duration.ofSeconds(5)),
          TERMINAL_REPORT_ATTEMPTS,
          Duration.ofSeconds(2),
          system.classicSystem().scheduler(),
          system.executionContext());
    } else {
      deployments
          .entity(deploymentId)
          .tell(
              new DeploymentEntity.ReportNodeStatus(
                  nodeName, status, error, switchedAt, logged, null));
    }
    String activeNow = releases.activeRelease(project).orElse(null);
    directory.updateSelf(
        s ->
            s.withProject(
                project, new PeerState.ProjectState(activeNow, deploymentId, status.apiName())));
  }

  @Override
  public void pruned(String project, ReleasePruner.Pruned pruned) {
    metrics.releasesPruned(project, pruned.keptReleases(), pruned.keptBytes(), pruned.freedBytes());
    directory.updateSelf(s -> s.withReleaseBytes(project, pruned.keptBytes()));
  }

  @Override
  public void log(
      String deploymentId, String type, String phase, String message, Map<String, Long> data) {
    deployments
        .entity(deploymentId)
        .tell(new DeploymentEntity.AppendLog(type, phase, nodeName, message, data));
  }
}
