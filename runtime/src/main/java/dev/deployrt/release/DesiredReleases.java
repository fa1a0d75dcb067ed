package dev.deployrt.release;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;

/**
 * The release each project should run, cluster-wide: the {@link ReleaseRegister} (Distributed Data)
 * backed by the database ({@link ReleaseStore}), so the register survives a full-cluster restart.
 * Every release the register learns is saved (if newer than the stored one); once the schema exists
 * the stored releases seed the register, and the releases this node's records publish are put only
 * after them.
 */
public final class DesiredReleases {
  private final ActorRef<ReleaseRegister.Command> register;
  private final ReleaseStore store;

  private DesiredReleases(ActorRef<ReleaseRegister.Command> register, ReleaseStore store) {
    this.register = register;
    this.store = store;
  }

  /**
   * Starts this node's register.
   *
   * @param writeTimeout how long a register write waits for the cluster's acknowledgement
   * @param schemaReady completes once the database's tables exist
   * @param blocking where the database is read and written
   */
  public static DesiredReleases init(
      ActorSystem<?> system,
      Duration writeTimeout,
      CompletionStage<Done> schemaReady,
      Executor blocking) {
    ReleaseStore store = new ReleaseStore(system.settings().config());
    ActorRef<ReleaseRegister.Command> register =
        system.systemActorOf(
            ReleaseRegister.create(
                writeTimeout,
                release -> schemaReady.thenRunAsync(() -> save(system, store, release), blocking),
                true),
            "release-register",
            Props.empty());
    // The register publishes nothing before its seed, so a seed always comes: empty if the store
    // cannot be read.
    schemaReady.whenCompleteAsync(
        (ready, noSchema) -> {
          List<DesiredRelease> stored = List.of();
          Throwable unread = noSchema;
          if (unread == null) {
            try {
              stored = store.loadAll();
            } catch (Exception e) {
              unread = e;
            }
          }
          if (unread != null) {
            system
                .log()
                .error(
                    "could not read the stored desired releases: this node converges only to new"
                        + " ones",
                    unread);
          }
          register.tell(new ReleaseRegister.Seed(stored));
        },
        blocking);
    return new DesiredReleases(register, store);
  }

  private static void save(ActorSystem<?> system, ReleaseStore store, DesiredRelease release) {
    try {
      store.saveIfNewer(release);
    } catch (Exception e) {
      system
          .log()
          .warn(
              "could not store the desired release of project {}: {}",
              release.project(),
              e.toString());
    }
  }

  public ActorRef<ReleaseRegister.Command> register() {
    return register;
  }

  /** The stored releases (read by the start-up sweep). */
  public ReleaseStore store() {
    return store;
  }
}
