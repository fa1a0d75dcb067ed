package dev.deployrt.deployment;

import dev.deployrt.deployment.DeploymentEntity.Command;
import dev.deployrt.deployment.DeploymentEntity.DistributionDeadlinePassed;
import dev.deployrt.deployment.DeploymentEntity.PassivateNow;
import dev.deployrt.deployment.DeploymentEntity.UploadLeaseExpired;
import java.time.Duration;
import java.time.Instant;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * The clocks of one deployment record, per lifecycle stage: the upload lease while it is pending
 * (renewed by every progress report), the distribution deadline while it distributes (armed once
 * per incarnation, from the deadline the record holds, so a record recovered on another node keeps
 * the original deadline), and, once it has ended (or if it was never created), passivation after
 * {@code passivate-after}.
 */
final class DeploymentTimers {
  private final TimerScheduler<Command> timers;
  private final DeploymentSettings settings;
  private final boolean sharded;

  /**
   * @param sharded whether the record runs in a shard (and so passivates once it has ended)
   */
  DeploymentTimers(TimerScheduler<Command> timers, DeploymentSettings settings, boolean sharded) {
    this.timers = timers;
    this.settings = settings;
    this.sharded = sharded;
  }

  /** The upload lease starts again. */
  void renewUploadLease() {
    timers.startSingleTimer(
        UploadLeaseExpired.INSTANCE, UploadLeaseExpired.INSTANCE, settings.uploadLease());
  }

  /**
   * No such deployment (a read or wake-up of an id nobody created): a sharded record passivates
   * after a while, so such ids do not stay in memory.
   */
  void absent() {
    if (sharded && !timers.isTimerActive(PassivateNow.INSTANCE)) {
      timers.startSingleTimer(
          PassivateNow.INSTANCE, PassivateNow.INSTANCE, settings.passivateAfter());
    }
  }

  /** Pending: a lease runs (started now unless one does); no passivation. */
  void pending() {
    timers.cancel(PassivateNow.INSTANCE);
    if (!timers.isTimerActive(UploadLeaseExpired.INSTANCE)) {
      renewUploadLease();
    }
  }

  /**
   * Distributing: no lease, and the deadline runs.
   *
   * @return whether the deadline was armed now (the first time in this incarnation)
   */
  boolean distributing(Instant deadline) {
    timers.cancel(UploadLeaseExpired.INSTANCE);
    if (timers.isTimerActive(DistributionDeadlinePassed.INSTANCE)) {
      return false;
    }
    Duration left = Duration.between(Instant.now(), deadline);
    timers.startSingleTimer(
        DistributionDeadlinePassed.INSTANCE,
        DistributionDeadlinePassed.INSTANCE,
        left.isNegative() ? Duration.ZERO : left);
    return true;
  }

  /** Ended: every clock stops; a sharded record passivates after a while. */
  void ended() {
    timers.cancelAll();
    if (sharded) {
      timers.startSingleTimer(
          PassivateNow.INSTANCE, PassivateNow.INSTANCE, settings.passivateAfter());
    }
  }
}
