package dev.deployrt.persistence;

import com.typesafe.config.Config;
import dev.deployrt.persistence.sql.ClusterSecretSql;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;

/**
 * The secret nodes use to authenticate to each other (blob fetch, replica push), kept in the shared
 * database so that every node of a cluster has the same one without configuration. Users never hold
 * it: it is not printed, logged, or served by any endpoint. {@code deploy.cluster.secret} ({@code
 * DEPLOY_CLUSTER_SECRET}), when set, wins over the stored one.
 *
 * <p>Concurrent first starts are safe: each node tries to insert a random secret under the same
 * key, exactly one insert wins, and every node then reads the winner.
 */
public final class ClusterSecretStore {
  private ClusterSecretStore() {}

  /** Blocking: the configured secret, else the stored one (created on first use). */
  public static String loadOrCreate(Config config) throws SQLException {
    String configured = config.getString("deploy.cluster.secret");
    if (!configured.isBlank()) {
      return configured;
    }
    try (Connection c = DatabaseConfig.connect(config)) {
      String existing = read(c);
      if (existing != null) {
        return existing;
      }
      byte[] random = new byte[32];
      new SecureRandom().nextBytes(random);
      try (PreparedStatement insert = c.prepareStatement(ClusterSecretSql.INSERT_SECRET)) {
        insert.setString(1, HexFormat.of().formatHex(random));
        insert.executeUpdate();
      } catch (SQLException raced) {
        // Another node inserted first; its secret is the cluster's.
      }
      String stored = read(c);
      if (stored == null) {
        throw new SQLException("the cluster secret could not be stored");
      }
      return stored;
    }
  }

  private static String read(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(ClusterSecretSql.SELECT_SECRET)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }
}
