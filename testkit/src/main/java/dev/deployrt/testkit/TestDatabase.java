package dev.deployrt.testkit;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.Map;
import java.util.UUID;
import org.opentest4j.TestAbortedException;

/**
 * The database test nodes use: the embedded H2 default, or PostgreSQL when the system property
 * {@code deploy.test.database} (or the variable {@code DEPLOY_TEST_DATABASE}) is {@code
 * postgresql}, as in the build's {@code postgresql} test run.
 *
 * <p>On PostgreSQL every test database is a schema of its own in one database per test run: the
 * database named by {@code DEPLOY_TEST_PG_URL} ({@code .ci/run} creates a fresh one per run and
 * drops it afterwards), or, when that is unset, a fresh database on {@code 127.0.0.1:5432} created
 * for this JVM and dropped when it exits. User and password: {@code DEPLOY_TEST_PG_USER} (default
 * {@code postgres}) and {@code DEPLOY_TEST_PG_PASSWORD} (default empty).
 *
 * <p>An unreachable server fails the test under {@code CI=true} and skips it (a JUnit assumption)
 * elsewhere, saying why.
 */
public final class TestDatabase {
  private static final String LOCAL_SERVER = "jdbc:postgresql://127.0.0.1:5432/";
  private static String runDatabase;

  private TestDatabase() {}

  public static boolean postgres() {
    String chosen =
        System.getProperty("deploy.test.database", System.getenv("DEPLOY_TEST_DATABASE"));
    return "postgresql".equalsIgnoreCase(chosen);
  }

  /**
   * Node settings for a database that belongs to {@code dataDir}, as the embedded default does: a
   * node started again on the same directory finds its data. Empty (embedded H2) unless on
   * PostgreSQL.
   */
  public static Map<String, Object> forDataDir(java.nio.file.Path dataDir) {
    if (!postgres()) {
      return Map.of();
    }
    return schema("node_" + digest(dataDir.toAbsolutePath().normalize().toString()));
  }

  /** Node settings for a new, empty database that several nodes (one cluster) share. */
  public static Map<String, Object> shared(String label) {
    String unique = label + "_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    if (!postgres()) {
      return Map.of("deploy.db.url", "jdbc:h2:mem:" + unique + ";DB_CLOSE_DELAY=-1");
    }
    return schema(unique.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9_]", "_"));
  }

  private static Map<String, Object> schema(String name) {
    String database = runDatabase();
    try (Connection c = DriverManager.getConnection(database, user(), password());
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA IF NOT EXISTS " + name);
    } catch (SQLException e) {
      throw unreachable(database, e);
    }
    String url = database + (database.contains("?") ? "&" : "?") + "currentSchema=" + name;
    return Map.of("deploy.db.url", url, "deploy.db.user", user(), "deploy.db.password", password());
  }

  private static synchronized String runDatabase() {
    if (runDatabase != null) {
      return runDatabase;
    }
    String given = System.getenv("DEPLOY_TEST_PG_URL");
    if (given != null && !given.isBlank()) {
      runDatabase = given;
      return runDatabase;
    }
    String name = "deploy_test_" + ProcessHandle.current().pid() + "_" + System.currentTimeMillis();
    String admin = LOCAL_SERVER + "postgres";
    try (Connection c = DriverManager.getConnection(admin, user(), password());
        Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw unreachable(admin, e);
    }
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  try (Connection c = DriverManager.getConnection(admin, user(), password());
                      Statement s = c.createStatement()) {
                    s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
                  } catch (SQLException e) {
                    System.err.println(
                        "could not drop test database " + name + ": " + e.getMessage());
                  }
                },
                "drop-test-database"));
    runDatabase = LOCAL_SERVER + name;
    return runDatabase;
  }

  private static RuntimeException unreachable(String url, SQLException e) {
    String message =
        "PostgreSQL is not reachable at "
            + url
            + " ("
            + e.getMessage()
            + "); set DEPLOY_TEST_PG_URL to point the tests at another server";
    if ("true".equals(System.getenv("CI"))) {
      return new IllegalStateException("PostgreSQL is required under CI=true. " + message, e);
    }
    return new TestAbortedException(message, e);
  }

  private static String user() {
    return System.getenv().getOrDefault("DEPLOY_TEST_PG_USER", "postgres");
  }

  private static String password() {
    return System.getenv().getOrDefault("DEPLOY_TEST_PG_PASSWORD", "");
  }

  private static String digest(String text) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
