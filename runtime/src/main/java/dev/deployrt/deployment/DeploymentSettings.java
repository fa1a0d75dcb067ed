package dev.deployrt.deployment;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * @param distributionTimeout nodes that have not reported this long after the payload was stored
 *     count as failed ({@code NODE_TIMEOUT})
 * @param uploadLease a pending deployment whose origin sends no heartbeat for this long is failed
 *     ({@code UPLOAD_ABORTED}): its upload died with the node or connection that carried it
 * @param passivateAfter a terminal deployment leaves memory this long after it last changed
 * @param wakeInterval how often each node starts the records of the deployments the read model
 *     shows unfinished, wherever their shards now live ({@link UnfinishedDeployments})
 */
public record DeploymentSettings(
    Duration distributionTimeout,
    Duration uploadLease,
    Duration passivateAfter,
    Duration wakeInterval) {
  public DeploymentSettings(Duration distributionTimeout, Duration uploadLease) {
    this(distributionTimeout, uploadLease, Duration.ofMinutes(2), Duration.ofSeconds(10));
  }

  public static DeploymentSettings fromConfig(Config deploy) {
    return new DeploymentSettings(
        deploy.getDuration("distribution.timeout"),
        deploy.getDuration("upload.lease"),
        deploy.getDuration("deployment.passivate-after"),
        deploy.getDuration("deployment.wake-interval"));
  }
}
