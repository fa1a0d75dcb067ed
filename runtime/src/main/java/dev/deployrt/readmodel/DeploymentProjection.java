package dev.deployrt.readmodel;

import dev.deployrt.deployment.Deployment;
import dev.deployrt.deployment.DeploymentEntity;
import dev.deployrt.deployment.DeploymentEventHandler;
import java.sql.Connection;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ShardedDaemonProcess;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.projection.ProjectionBehavior;
import org.apache.pekko.projection.ProjectionId;
import org.apache.pekko.projection.eventsourced.EventEnvelope;
import org.apache.pekko.projection.eventsourced.javadsl.EventSourcedProvider;
import org.apache.pekko.projection.javadsl.ExactlyOnceProjection;
import org.apache.pekko.projection.javadsl.SourceProvider;
import org.apache.pekko.projection.jdbc.javadsl.JdbcHandler;
import org.apache.pekko.projection.jdbc.javadsl.JdbcProjection;

/**
 * Keeps the read model ({@code deploy_deployments}) up to date from the deployment events in the
 * journal, with Pekko Projection: one projection per event tag ({@link
 * DeploymentEntity#TAG_COUNT}), each run once in the cluster as a sharded daemon process (it moves
 * to another node if its node leaves or crashes).
 *
 * <p>Exactly once: each event's row update and the projection's offset are committed in one
 * transaction on a connection of the shared pool, so a crash between the two can neither skip nor
 * repeat an event; after downtime the projection resumes from its stored offset and catches up. A
 * row is derived with the entity's own event handler ({@link DeploymentEventHandler}), so the read
 * model shows exactly the status, nodes and event count that the entity has. All events of one
 * deployment carry one tag, so one projection instance is the only writer of a row, in seq order.
 */
public final class DeploymentProjection {
  public static final String NAME = "deployments-read-model";

  private DeploymentProjection() {}

  /**
   * Starts the daemon process. The offset tables are created by the schema migrations ({@code
   * V4__projection_offsets.sql}), which run first.
   */
  public static void start(ActorSystem<?> system, SharedPool pool) {
    DeploymentRows rows = new DeploymentRows(system);
    ShardedDaemonProcess.get(system)
        .init(
            ProjectionBehavior.Command.class,
            NAME,
            DeploymentEntity.TAG_COUNT,
            i -> ProjectionBehavior.create(projection(system, pool, rows, DeploymentEntity.tag(i))),
            ProjectionBehavior.stopMessage());
  }

  static ExactlyOnceProjection<Offset, EventEnvelope<DeploymentEntity.Event>> projection(
      ActorSystem<?> system, SharedPool pool, DeploymentRows rows, String tag) {
    SourceProvider<Offset, EventEnvelope<DeploymentEntity.Event>> events =
        EventSourcedProvider.eventsByTag(system, JdbcReadJournal.Identifier(), tag);
    return JdbcProjection.exactlyOnce(
        ProjectionId.of(NAME, tag), events, pool::session, () -> new Handler(rows), system);
  }

  /** Applies one event to its deployment's row, inside the projection's transaction. */
  static final class Handler
      extends JdbcHandler<EventEnvelope<DeploymentEntity.Event>, SharedPool.Session> {
    private final DeploymentRows rows;

    Handler(DeploymentRows rows) {
      this.rows = rows;
    }

    @Override
    public void process(SharedPool.Session session, EventEnvelope<DeploymentEntity.Event> envelope)
        throws Exception {
      String id = PersistenceId.extractEntityId(envelope.persistenceId());
      session.withConnection(
          c -> {
            apply(c, id, envelope.event());
            return null;
          });
    }

    private void apply(Connection c, String id, DeploymentEntity.Event event) throws Exception {
      Deployment before = rows.load(c, id).orElseGet(() -> Deployment.empty(id));
      rows.save(c, DeploymentEventHandler.apply(before, event));
    }
  }
}
