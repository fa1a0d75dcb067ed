package dev.deployrt.readmodel;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deployrt.deployment.Deployment;
import dev.deployrt.deployment.EventLog;
import dev.deployrt.persistence.ReadModelSchema;
import dev.deployrt.persistence.sql.ReadModelSql;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.serialization.jackson.JacksonObjectMapperProvider;

/**
 * Reads and writes rows of the read model ({@link ReadModelSchema#TABLE}). A row is the deployment
 * without its event log ({@code event_count} is kept): the log is served by the entity, lists omit
 * it. The JSON is Pekko's own Jackson mapping of {@link Deployment}, the one its snapshots use.
 */
public final class DeploymentRows {
  private final ObjectMapper json;

  public DeploymentRows(ActorSystem<?> system) {
    this.json =
        JacksonObjectMapperProvider.get(system).getOrCreate("jackson-json", Optional.empty());
  }

  public Optional<Deployment> load(Connection c, String deploymentId) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(ReadModelSql.SELECT_STATE_BY_ID)) {
      s.setString(1, deploymentId);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? Optional.of(parse(rs.getString(1))) : Optional.empty();
      }
    }
  }

  /** Inserts or replaces the row of {@code d} (its event log is not stored). */
  public void save(Connection c, Deployment d) throws SQLException {
    String state = render(withoutLog(d));
    try (PreparedStatement u = c.prepareStatement(ReadModelSql.UPDATE_ROW)) {
      bind(u, d, state);
      u.setString(7, d.deploymentId());
      if (u.executeUpdate() == 1) {
        return;
      }
    }
    try (PreparedStatement i = c.prepareStatement(ReadModelSql.INSERT_ROW)) {
      bind(i, d, state);
      i.setString(7, d.deploymentId());
      i.executeUpdate();
    }
  }

  private static void bind(PreparedStatement s, Deployment d, String state) throws SQLException {
    // A deployment refused for a missing or invalid project has none; the column (a filter only,
    // the row's state keeps the null) holds "" then, which no valid project name equals.
    s.setString(1, d.project() == null ? "" : d.project());
    s.setString(2, d.status().apiName());
    s.setLong(3, d.createdAt().toEpochMilli());
    s.setString(4, d.sha256());
    s.setBoolean(5, d.payloadPresent());
    s.setString(6, state);
  }

  static Deployment withoutLog(Deployment d) {
    return new Deployment(
        d.deploymentId(),
        d.project(),
        d.description(),
        d.status(),
        d.sha256(),
        d.payloadSize(),
        d.payloadPresent(),
        d.user(),
        d.originNode(),
        d.rollbackOf(),
        d.createdAt(),
        d.completedAt(),
        d.error(),
        d.nodes(),
        d.targetNodes(),
        d.distributionDeadline(),
        d.eventCount(),
        d.lastProgressBytes(),
        EventLog.EMPTY,
        d.rollout(),
        d.gate());
  }

  Deployment parse(String state) throws SQLException {
    try {
      return json.readValue(state, Deployment.class);
    } catch (IOException e) {
      throw new SQLException("unreadable read-model row: " + e.getMessage(), e);
    }
  }

  private String render(Deployment d) throws SQLException {
    try {
      return json.writeValueAsString(d);
    } catch (IOException e) {
      throw new SQLException("cannot render read-model row: " + e.getMessage(), e);
    }
  }
}
