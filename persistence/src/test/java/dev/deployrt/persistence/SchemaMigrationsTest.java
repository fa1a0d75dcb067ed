package dev.deployrt.persistence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Schema migrations on an empty database, on an already migrated one, and on one created before
 * migrations were used; on H2 and on the local PostgreSQL (under {@code CI=true} an unreachable
 * PostgreSQL fails the test; elsewhere it is skipped). {@code DEPLOY_TEST_PG_URL} points the test
 * at another server (default {@code jdbc:postgresql://127.0.0.1:5432/postgres}, user postgres).
 */
class SchemaMigrationsTest {
  private static final Set<String> TABLES =
      Set.of(
          "event_journal",
          "event_tag",
          "snapshot",
          "durable_state",
          "deploy_cluster_secret",
          "deploy_desired_release",
          "deploy_deployments",
          "pekko_projection_offset_store",
          "pekko_projection_management",
          "deploy_users",
          "deploy_tokens",
          "deploy_credentials_epoch",
          "deploy_sessions");

  private static Config config(String url, String user) {
    Config base =
        ConfigFactory.parseMap(
            Map.of(
                "deploy.db.url",
                url,
                "deploy.db.user",
                user,
                "deploy.db.password",
                "",
                "deploy.db.max-connections",
                2));
    return DatabaseConfig.overlay(base, Path.of(".")).withFallback(base);
  }

  private static Set<String> tables(Config config) throws SQLException {
    Set<String> out = new TreeSet<>();
    try (Connection c = DatabaseConfig.connect(config);
        ResultSet rs = c.getMetaData().getTables(null, null, "%", new String[] {"TABLE"})) {
      while (rs.next()) {
        out.add(rs.getString("TABLE_NAME").toLowerCase(java.util.Locale.ROOT));
      }
    }
    return out;
  }

  private static void assertMigratesFromEmptyAndAgain(Config config) throws SQLException {
    assertEquals(9, SchemaMigrations.migrate(config), "V1 to V9 on an empty database");
    assertTrue(tables(config).containsAll(TABLES), tables(config).toString());
    assertEquals(0, SchemaMigrations.migrate(config), "nothing to do the second time");
    try (Connection c = DatabaseConfig.connect(config);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT epoch FROM deploy_credentials_epoch WHERE id = 1")) {
      assertTrue(rs.next(), "the credentials epoch's one row is seeded");
      assertEquals(0, rs.getLong(1));
    }
  }

  @Test
  void h2FromEmptyThenAgain() throws SQLException {
    assertMigratesFromEmptyAndAgain(
        config("jdbc:h2:mem:m-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa"));
  }

  @Test
  void h2CreatedBeforeMigrationsKeepsItsData() throws SQLException {
    Config config = config("jdbc:h2:mem:m-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa");
    try (Connection c = DatabaseConfig.connect(config);
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE deploy_cluster_secret (id INT PRIMARY KEY, secret VARCHAR(128) NOT NULL)");
      s.execute("INSERT INTO deploy_cluster_secret VALUES (1, 'kept')");
    }
    assertEquals(9, SchemaMigrations.migrate(config), "baselined at 0, then every script");
    assertEquals(
        "kept",
        ClusterSecretStore.loadOrCreate(
            config.withFallback(ConfigFactory.parseMap(Map.of("deploy.cluster.secret", "")))));
  }

  @Test
  void postgresqlFromEmptyThenAgain() throws SQLException {
    String admin =
        System.getenv()
            .getOrDefault("DEPLOY_TEST_PG_URL", "jdbc:postgresql://127.0.0.1:5432/postgres");
    String name = "deploy_migration_" + UUID.randomUUID().toString().replace("-", "");
    try (Connection c = connectOrSkip(admin);
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    }
    try {
      assertMigratesFromEmptyAndAgain(
          config(admin.substring(0, admin.lastIndexOf('/') + 1) + name, "postgres"));
    } finally {
      try (Connection c = DriverManager.getConnection(admin, "postgres", "");
          Statement s = c.createStatement()) {
        s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
      }
    }
  }

  private static Connection connectOrSkip(String url) throws SQLException {
    try {
      return DriverManager.getConnection(url, "postgres", "");
    } catch (SQLException e) {
      if ("true".equals(System.getenv("CI"))) {
        throw new SQLException(
            "PostgreSQL is required under CI=true and is not reachable at " + url, e);
      }
      assumeTrue(false, "PostgreSQL not reachable at " + url + " (" + e.getMessage() + ")");
      throw e;
    }
  }
}
