package dev.deployrt.persistence;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Turns {@code deploy.db} into the settings of the shared JDBC database: embedded H2 under the data
 * directory when no URL is given, otherwise the named database (PostgreSQL in production).
 */
public final class DatabaseConfig {
  private static final String DB = "pekko-persistence-jdbc.shared-databases.deploy.";

  private DatabaseConfig() {}

  /**
   * Blocking: a new connection to the shared database, for the few tables this project keeps beside
   * the journal (schema, cluster secret, desired releases). Auto-commit on. The caller closes it.
   */
  public static java.sql.Connection connect(Config completed) throws java.sql.SQLException {
    java.sql.Connection c =
        java.sql.DriverManager.getConnection(
            completed.getString(DB + "db.url"),
            completed.getString(DB + "db.user"),
            completed.getString(DB + "db.password"));
    c.setAutoCommit(true);
    return c;
  }

  /** A config layer to put in front of {@code base}. */
  public static Config overlay(Config base, Path dataDir) {
    String url = base.getString("deploy.db.url");
    Map<String, Object> out = new HashMap<>();
    int pool = base.getInt("deploy.db.max-connections");
    out.put(DB + "db.numThreads", pool);
    out.put(DB + "db.maxConnections", pool);
    // The read-model projection commits on its own dispatcher, one thread per pooled connection.
    out.put(
        "pekko.projection.jdbc.blocking-jdbc-dispatcher.thread-pool-executor.fixed-pool-size",
        pool);
    if (url.isBlank()) {
      Path file = dataDir.toAbsolutePath().normalize().resolve("db").resolve("deploy");
      out.put(DB + "db.url", "jdbc:h2:file:" + file + ";DB_CLOSE_ON_EXIT=FALSE");
      out.put(DB + "db.driver", "org.h2.Driver");
      out.put(DB + "profile", "slick.jdbc.H2Profile$");
      out.put("pekko.projection.jdbc.dialect", "h2-dialect");
      out.put(DB + "db.user", "sa");
      out.put(DB + "db.password", "");
    } else if (url.startsWith("jdbc:postgresql:")) {
      out.put(DB + "db.url", url);
      out.put(DB + "db.driver", "org.postgresql.Driver");
      out.put(DB + "profile", "slick.jdbc.PostgresProfile$");
      out.put("pekko.projection.jdbc.dialect", "postgres-dialect");
      out.put(DB + "db.user", base.getString("deploy.db.user"));
      out.put(DB + "db.password", base.getString("deploy.db.password"));
    } else if (url.startsWith("jdbc:h2:")) {
      out.put(DB + "db.url", url);
      out.put(DB + "db.driver", "org.h2.Driver");
      out.put(DB + "profile", "slick.jdbc.H2Profile$");
      out.put("pekko.projection.jdbc.dialect", "h2-dialect");
      out.put(DB + "db.user", base.getString("deploy.db.user"));
      out.put(DB + "db.password", base.getString("deploy.db.password"));
    } else {
      throw new IllegalArgumentException(
          "deploy.db.url must be a jdbc:postgresql: or jdbc:h2: URL (or empty for the embedded default), not "
              + url);
    }
    return ConfigFactory.parseMap(out, "deploy.db");
  }
}
