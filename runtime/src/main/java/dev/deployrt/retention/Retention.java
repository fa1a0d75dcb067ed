package dev.deployrt.retention;

import com.typesafe.config.Config;
import dev.deployrt.deployment.Deployment;
import dev.deployrt.deployment.Deployments;
import dev.deployrt.peer.BlobReclaimer;
import dev.deployrt.project.ProjectSettingsStore;
import dev.deployrt.readmodel.History;
import dev.deployrt.release.ReleaseRegister;
import java.util.function.LongConsumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Payload reclaiming on one node: the deletion path an admin's {@code DELETE …/payload} and
 * retention share ({@link PayloadDeletion}), and retention itself ({@link PayloadRetention}),
 * started by {@link #deploymentEnded}. Release directories are pruned by each node's applier.
 */
public final class Retention {
  private final PayloadDeletion deletion;
  private final PayloadRetention payloads;

  private Retention(PayloadDeletion deletion, PayloadRetention payloads) {
    this.deletion = deletion;
    this.payloads = payloads;
  }

  /**
   * @param onFreed told the bytes each retention pass freed on the nodes it reached
   */
  public static Retention init(
      Config config,
      Deployments deployments,
      History history,
      ActorRef<ReleaseRegister.Command> register,
      BlobReclaimer reclaimer,
      ProjectSettingsStore settings,
      ActorSystem<?> system,
      LongConsumer onFreed) {
    RetentionSettings timing = RetentionSettings.fromConfig(config);
    PayloadDeletion deletion =
        new PayloadDeletion(
            deployments, history, register, reclaimer, system.scheduler(), timing.askTimeout());
    return new Retention(
        deletion,
        new PayloadRetention(
            deletion,
            settings,
            history,
            timing,
            onFreed,
            (delay, retry) ->
                system.scheduler().scheduleOnce(delay, retry, system.executionContext())));
  }

  public PayloadDeletion deletion() {
    return deletion;
  }

  /** A deployment whose record this node hosts ended: reclaims its project's old payloads. */
  public void deploymentEnded(Deployment ended) {
    payloads.deploymentEnded(ended);
  }
}
