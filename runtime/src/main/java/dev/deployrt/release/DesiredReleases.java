package dev.deployrt.release;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;

/**
 * The release each project should run, cluster-wide: the {@link ReleaseRegister} (Distributed Data)
 * backed by the database ({@link ReleaseStore}), so the register survives a full-cluster restart.
 * Every release the register learns is saved (if newer than the stored one); once the schema exists
 * the stored releases seed the register, and the releases this node's records publish are put only
 * after them, or after the schema wait ({@code deploy.db.schema-wait}) if the store cannot be read
 * by then.
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
    // The register publishes nothing before its seed, so a seed always comes: the stored releases
    // once the schema is there (read again a few times if that fails); none if they cannot be
    // read, or if the schema is not there after the schema wait, so a store that is not ready
    // never holds this node's publishes for good (a late read still seeds then).
    Duration seedWait = system.settings().config().getDuration("deploy.db.schema-wait");
    AtomicBoolean seeded = new AtomicBoolean();
    CompletableFuture.delayedExecutor(seedWait.toMillis(), TimeUnit.MILLISECONDS, blocking)
        .execute(
            () -> {
              if (seeded.compareAndSet(false, true)) {
                system
                    .log()
                    .error(
                        "the stored desired releases could not be read within {}: this node"
                            + " converges to what the cluster holds and to new releases",
                        seedWait);
                register.tell(new ReleaseRegister.Seed(List.of()));
              }
            });
    schemaReady.whenCompleteAsync(
        (ready, noSchema) -> {
          List<DesiredRelease> stored = noSchema == null ? load(system, store) : null;
          if (noSchema != null) {
            system.log().error("no schema: the stored desired releases are not read", noSchema);
          }
          if (stored != null) {
            seeded.set(true);
            register.tell(new ReleaseRegister.Seed(stored));
          } else if (seeded.compareAndSet(false, true)) {
            register.tell(new ReleaseRegister.Seed(List.of()));
          }
        },
        blocking);
    return new DesiredReleases(register, store);
  }

  /** The stored releases, read up to three times a second or two apart; null if unreadable. */
  private static List<DesiredRelease> load(ActorSystem<?> system, ReleaseStore store) {
    for (int attempt = 1; ; attempt++) {
      try {
        return store.loadAll();
      } catch (Exception e) {
        if (attempt == 3) {
          system.log().error("could not read the stored desired releases", e);
          return null;
        }
        system
            .log()
            .warn("could not read the stored desired releases (will retry): {}", e.toString());
      }
      try {
        Thread.sleep(1000L * attempt);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return null;
      }
    }
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
