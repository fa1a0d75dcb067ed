package dev.deployrt.readmodel;

import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * The deployment history as this node serves it: the read model (every deployment's events
 * projected into {@code deploy_deployments}), its queries, and whether it has caught up with the
 * journal.
 *
 * <p>The projection starts once the schema exists; until then (and if it cannot start) {@link
 * #ready} is not complete and listing answers 503. A deploy's own answers are visible to the
 * queries of this node at once ({@link DeploymentQueries#answered}), before the projection has
 * them.
 */
public final class History {
  private final DeploymentQueries queries;
  private final CompletionStage<Done> ready;
  private final ReadModelCatchUp catchUp;
  private final Executor database;

  private History(
      DeploymentQueries queries,
      CompletionStage<Done> ready,
      ReadModelCatchUp catchUp,
      Executor database) {
    this.queries = queries;
    this.ready = ready;
    this.catchUp = catchUp;
    this.database = database;
  }

  /**
   * Starts the read model's projection once {@code schemaReady} completes.
   *
   * @param blocking where the projection is started
   * @param database where queries of the read model run
   */
  public static History init(
      ActorSystem<?> system,
      SharedPool pool,
      CompletionStage<Done> schemaReady,
      Executor blocking,
      Executor database) {
    CompletionStage<Done> ready =
        schemaReady.thenApplyAsync(
            done -> {
              try {
                DeploymentProjection.start(system, pool);
                return done;
              } catch (Exception e) {
                system
                    .log()
                    .error(
                        "cannot start the deployments read model: listing deployments will fail",
                        e);
                throw new CompletionException("cannot start the deployments read model", e);
              }
            },
            blocking);
    return new History(
        new DeploymentQueries(pool, new DeploymentRows(system)),
        ready,
        new ReadModelCatchUp(pool, database),
        database);
  }

  public DeploymentQueries queries() {
    return queries;
  }

  /** Completes once the projection runs (listing works from then on). */
  public CompletionStage<Done> ready() {
    return ready;
  }

  /**
   * Whether the projection has caught up with the journal (checked before a payload is reclaimed).
   */
  public ReadModelCatchUp catchUp() {
    return catchUp;
  }

  /** A query of the read model. */
  @FunctionalInterface
  public interface Query<T> {
    T run() throws Exception;
  }

  /** Runs {@code query} on {@link #database()}; its failure fails the stage. */
  public <T> CompletionStage<T> onDatabase(Query<T> query) {
    return java.util.concurrent.CompletableFuture.supplyAsync(
        () -> {
          try {
            return query.run();
          } catch (Exception e) {
            throw new CompletionException(e);
          }
        },
        database);
  }

  /** The executor the read model's queries run on (they block on JDBC). */
  public Executor database() {
    return database;
  }
}
