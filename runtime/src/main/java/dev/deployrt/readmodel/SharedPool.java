package dev.deployrt.readmodel;

import java.sql.Connection;
import java.sql.SQLException;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.jdbc.db.SlickExtension;
import org.apache.pekko.persistence.jdbc.db.SlickExtensionImpl;
import org.apache.pekko.projection.jdbc.JdbcSession;
import slick.jdbc.JdbcDataSource;

/**
 * Connections from the one pool that the journal and snapshot store use (the shared database
 * "deploy" of pekko-persistence-jdbc), so the read model adds no second pool to the database.
 */
public final class SharedPool {
  private final JdbcDataSource source;

  private SharedPool(JdbcDataSource source) {
    this.source = source;
  }

  public static SharedPool of(ActorSystem<?> system) {
    SlickExtensionImpl slick = (SlickExtensionImpl) SlickExtension.get(system.classicSystem());
    return new SharedPool(
        slick
            .database(system.settings().config().getConfig("jdbc-read-journal"))
            .database()
            .source());
  }

  /** A pooled connection in auto-commit mode; the caller closes it (returning it to the pool). */
  public Connection connection() throws SQLException {
    Connection c = source.createConnection();
    c.setAutoCommit(true);
    return c;
  }

  /**
   * A session for the projection: one pooled connection, one transaction, closed by the projection.
   */
  public Session session() {
    try {
      Connection c = source.createConnection();
      c.setAutoCommit(false);
      return new Session(c);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot get a database connection", e);
    }
  }

  /** Pekko Projection's view of one transaction on a pooled connection. */
  public static final class Session implements JdbcSession {
    private final Connection connection;

    Session(Connection connection) {
      this.connection = connection;
    }

    @Override
    public <R> R withConnection(org.apache.pekko.japi.function.Function<Connection, R> fn)
        throws Exception {
      return fn.apply(connection);
    }

    @Override
    public void commit() throws SQLException {
      connection.commit();
    }

    @Override
    public void rollback() throws SQLException {
      connection.rollback();
    }

    @Override
    public void close() throws SQLException {
      connection.close();
    }
  }
}
