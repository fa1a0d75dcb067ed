package dev.deployrt.deployment;

import dev.deployrt.deployment.DeploymentEntity.Command;
import dev.deployrt.deployment.DeploymentEntity.NewerRelease;
import dev.deployrt.release.DesiredRelease;
import dev.deployrt.release.ReleaseRegister;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;

/**
 * A distributing deployment's link to the {@link ReleaseRegister}: publishes the deployment's
 * release and watches the register until the deployment ends.
 *
 * <p>Guarantees: the entity is told {@link NewerRelease} with the newer deployment's id whenever a
 * newer deployment of the same project holds the register, whether the register refused this
 * release or took a newer one later, so every order of concurrent deploys of one project (on any
 * nodes) ends with the older one superseded. Publishing again (after each recovery) is idempotent.
 */
final class RegisterLink {

  private final ActorRef<ReleaseRegister.Command> register;
  private final ActorContext<Command> ctx;
  private ActorRef<Map<String, DesiredRelease>> watch;

  RegisterLink(ActorRef<ReleaseRegister.Command> register, ActorContext<Command> ctx) {
    this.register = register;
    this.ctx = ctx;
  }

  /** The release the deployment asks its target nodes to run: fixed once its payload is stored. */
  static DesiredRelease releaseOf(Deployment state) {
    return new DesiredRelease(
        state.project(),
        state.deploymentId(),
        state.sha256(),
        state.payloadSize(),
        state.createdAt(),
        state.originNode(),
        state.targetNodes(),
        state.rollbackOf(),
        state.rollout(),
        state.gate(),
        null);
  }

  /** Publishes the deployment's release with its rollout's gate as it now stands. */
  void publish(Deployment state) {
    ActorRef<ReleaseRegister.PublishResult> answer =
        ctx.messageAdapter(
            ReleaseRegister.PublishResult.class,
            result ->
                new NewerRelease(
                    result instanceof ReleaseRegister.Superseded superseded
                        ? superseded.newer().deploymentId()
                        : null));
    register.tell(new ReleaseRegister.Publish(releaseOf(state), answer));
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  void watch(Deployment state) {
    if (watch == null) {
      DesiredRelease mine = releaseOf(state);
      ActorRef<Map> adapter =
          ctx.messageAdapter(
              Map.class,
              desired -> new NewerRelease(newerThan(mine, (Map<String, DesiredRelease>) desired)));
      watch = (ActorRef) adapter;
      register.tell(new ReleaseRegister.Subscribe(watch));
    }
  }

  void unwatch() {
    if (watch != null) {
      register.tell(new ReleaseRegister.Unsubscribe(watch));
      watch = null;
    }
  }

  /** The id of the project's registered deployment if it is newer than {@code mine}, else null. */
  private static String newerThan(DesiredRelease mine, Map<String, DesiredRelease> desired) {
    DesiredRelease registered = desired.get(mine.project());
    boolean newer =
        registered != null
            && !registered.deploymentId().equals(mine.deploymentId())
            && registered.isNewerThan(mine);
    return newer ? registered.deploymentId() : null;
  }
}
