package dev.deployrt.release;

import com.typesafe.config.Config;
import dev.deployrt.persistence.DatabaseConfig;
import dev.deployrt.persistence.sql.ReleasesSql;
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

/**
 * Each project's desired release, kept in the shared database beside the journal so the register
 * survives a restart of the whole cluster (Distributed Data keeps it in memory only). The register
 * writes every release it accepts and is seeded from here when a node starts. The table, {@code
 * deploy_desired_release}, is created by the schema migrations (persistence module, V3).
 *
 * <p>Writes keep the newest release per project ({@link DesiredRelease#isNewerThan}, compared in
 * SQL), so concurrent or out-of-order writes from several nodes end with the same row. Blocking.
 */
public final class ReleaseStore {
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
                rs.getString(8)));
      }
    }
    return out;
  }

  /** Stores {@code release} unless the project already has a newer one. */
  public void saveIfNewer(DesiredRelease r) throws SQLException {
    long micros = ChronoUnit.MICROS.between(Instant.EPOCH, r.createdAt());
    try (Connection c = DatabaseConfig.connect(config)) {
      try (PreparedStatement update = c.prepareStatement(ReleasesSql.UPDATE_IF_NEWER)) {
        bind(update, r, micros);
        update.setString(8, r.project());
        update.setLong(9, micros);
        update.setLong(10, micros);
        update.setString(11, r.deploymentId());
        if (update.executeUpdate() > 0) {
          return;
        }
      }
      try (PreparedStatement insert = c.prepareStatement(ReleasesSql.INSERT_RELEASE)) {
        bind(insert, r, micros);
        insert.setString(8, r.project());
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
  }
}
