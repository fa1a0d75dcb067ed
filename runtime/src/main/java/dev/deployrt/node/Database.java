package dev.deployrt.node;

import dev.deployrt.persistence.ClusterSecretStore;
import dev.deployrt.persistence.SchemaMigrations;
import dev.deployrt.readmodel.SharedPool;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.pattern.Patterns;

/**
 * The node's database: its schema, created or upgraded at start and retried with back-off until the
 * database answers (a node started before its database becomes ready without a restart), the
 * cluster secret stored in it, and the one connection pool every part of the node shares.
 */
public final class Database {
  private final CompletionStage<Done> ready;
  private final CompletionStage<String> clusterSecret;
  private final SharedPool pool;

  private Database(
      CompletionStage<Done> ready, CompletionStage<String> clusterSecret, SharedPool pool) {
    this.ready = ready;
    this.clusterSecret = clusterSecret;
    this.pool = pool;
  }

  /**
   * Starts migrating the schema (on {@code blocking}); the embedded database's files under {@code
   * dataDir}/db are made private once they exist.
   */
  public static Database init(ActorSystem<?> system, Path dataDir, Executor blocking) {
    var config = system.settings().config();
    CompletionStage<Done> ready =
        Patterns.retry(
            () -> CompletableFuture.supplyAsync(() -> migrate(system), blocking),
            Integer.MAX_VALUE,
            Duration.ofSeconds(1),
            Duration.ofSeconds(30),
            0.2,
            system.classicSystem().scheduler(),
            system.executionContext());
    // The embedded database (password hashes, the cluster secret) is created by the first
    // migration.
    ready.thenRunAsync(() -> DataDirectory.makeFilesPrivate(dataDir.resolve("db")), blocking);
    CompletionStage<String> secret =
        ready.thenApplyAsync(
            done -> {
              try {
                return ClusterSecretStore.loadOrCreate(config);
              } catch (Exception e) {
                throw new CompletionException("cannot read the cluster secret", e);
              }
            },
            blocking);
    return new Database(ready, secret, SharedPool.of(system));
  }

  private static Done migrate(ActorSystem<?> system) {
    try {
      SchemaMigrations.migrate(system.settings().config());
      return Done.getInstance();
    } catch (Exception e) {
      system
          .log()
          .warn("cannot create or upgrade the database schema (retrying): {}", e.toString());
      throw new CompletionException("cannot create or upgrade the database schema", e);
    }
  }

  /** Completes once the schema exists (the database is reachable). */
  public CompletionStage<Done> ready() {
    return ready;
  }

  /** The secret nodes prove themselves with to each other, once the database is reachable. */
  public CompletionStage<String> clusterSecret() {
    return clusterSecret;
  }

  /** The node's one connection pool (journal, snapshots, read model, accounts). */
  public SharedPool pool() {
    return pool;
  }
}
