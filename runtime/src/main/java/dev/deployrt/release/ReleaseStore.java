package dev.deployrt.release;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.typesafe.config.Config;
import dev.deployrt.persistence.DatabaseConfig;
import dev.deployrt.persistence.sql.ReleasesSql;
import dev.deployrt.rollout.Gate;
import dev.deployrt.rollout.RolloutPlan;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Each project's desired release, kept in the shared database beside the journal so the register
 * survives a restart of the whole cluster (Distributed Data keeps it in memory only). The register
 * writes every release it accepts and is seeded from here when a node starts. The table, {@code
 * deploy_desired_release}, is created by the schema migrations (persistence module, V3).
 *
 * <p>Writes keep the newest release per project ({@link DesiredRelease#isNewerThan}, compared in
 * SQL), so concurrent or out-of-order writes from several nodes end with the same row; a rollout
 * that advances or stops writes its deployment again with a higher gate revision. The rollout plan,
 * gate and previous release are one JSON column ({@link RolloutState}). Blocking.
 */
public final class ReleaseStore {
  private static final Logger log = LoggerFactory.getLogger(ReleaseStore.class);

  private static final ObjectMapper JSON =
      JsonMapper.builder()
          .addModule(new JavaTimeModule())
          .disable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .build();

  /** The {@code rollout_state} column. */
  record RolloutState(RolloutPlan rollout, Gate gate, DesiredRelease previous) {}

  private final Config config;

  public ReleaseStore(Config completedConfig) {
    this.config = completedConfig;
  }

  public List<DesiredRelease> loadAll() throws SQLException {
    List<DesiredRelease> out = new ArrayList<>();
    try (Connection c = DatabaseConfig.connect(config);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(ReleasesSql.SELECT_RELEASES)) {
      while (rs.next()) {
        String targets = rs.getString(7);
        RolloutState state;
        try {
          state = rolloutState(rs.getString(9));
        } catch (IllegalStateException unreadable) {
          // One bad row costs its project only: the cluster's copy still reaches this node.
          log.error(
              "skipping the stored desired release of project {}", rs.getString(1), unreadable);
          continue;
        }
        out.add(
            new DesiredRelease(
                rs.getString(1),
                rs.getString(2),
                rs.getString(3),
                rs.getLong(4),
                Instant.EPOCH.plus(rs.getLong(5), ChronoUnit.MICROS),
                rs.getString(6),
                targets == null || targets.isEmpty()
                    ? List.of()
                    : Arrays.asList(targets.split(",")),
                rs.getString(8),
                state.rollout(),
                state.gate(),
                state.previous()));
      }
    }
    return out;
  }

  static RolloutState rolloutState(String json) {
    if (json == null || json.isEmpty()) {
      return new RolloutState(null, null, null);
    }
    try {
      return JSON.readValue(json, RolloutState.class);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("unreadable rollout state of a stored release: " + json, e);
    }
  }

  /** Stores {@code release} unless the project already has a newer one. */
  public void saveIfNewer(DesiredRelease r) throws SQLException {
    long micros = ChronoUnit.MICROS.between(Instant.EPOCH, r.createdAt());
    try (Connection c = DatabaseConfig.connect(config)) {
      try (PreparedStatement update = c.prepareStatement(ReleasesSql.UPDATE_IF_NEWER)) {
        bind(update, r, micros);
        update.setString(10, r.project());
        update.setLong(11, micros);
        update.setLong(12, micros);
        update.setString(13, r.deploymentId());
        update.setLong(14, micros);
        update.setString(15, r.deploymentId());
        update.setInt(16, r.gate().revision());
        if (update.executeUpdate() > 0) {
          return;
        }
      }
      try (PreparedStatement insert = c.prepareStatement(ReleasesSql.INSERT_RELEASE)) {
        bind(insert, r, micros);
        insert.setString(10, r.project());
        insert.executeUpdate();
      } catch (SQLException exists) {
        // The project has a row that is as new or newer (the update above matched nothing): keep
        // it.
      }
    }
  }

  private static void bind(PreparedStatement s, DesiredRelease r, long micros) throws SQLException {
    s.setString(1, r.deploymentId());
    s.setString(2, r.sha256());
    s.setLong(3, r.size());
    s.setLong(4, micros);
    s.setString(5, r.origin());
    s.setString(6, String.join(",", r.targets()));
    s.setString(7, r.sourceDeploymentId());
    s.setInt(8, r.gate().revision());
    s.setString(9, json(new RolloutState(r.rollout(), r.gate(), r.previous())));
  }

  static String json(RolloutState state) {
    try {
      return JSON.writeValueAsString(state);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
