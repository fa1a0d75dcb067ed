package dev.deployrt.persistence;

import com.typesafe.config.Config;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Creates the journal and snapshot tables if they are missing, from the DDL shipped inside the
 * pekko-persistence-jdbc jar ({@code schema/h2}, {@code schema/postgres}). Safe on every start: index
 * statements, which the shipped scripts write without {@code IF NOT EXISTS}, get it added, and each
 * statement runs on its own in auto-commit (PostgreSQL's {@code CREATE INDEX CONCURRENTLY} cannot run
 * inside a transaction).
 */
public final class JournalSchema {
  private static final String DB = "pekko-persistence-jdbc.shared-databases.deploy.";

  private JournalSchema() {}

  /** Blocking: connects with the configured URL and applies the DDL. */
  public static void ensure(Config config) throws SQLException, IOException {
    String url = config.getString(DB + "db.url");
    String script = url.startsWith("jdbc:postgresql:")
        ? "schema/postgres/postgres-create-schema.sql" : "schema/h2/h2-create-schema.sql";
    try (Connection c = DatabaseConfig.connect(config)) {
      for (String statement : statements(script)) {
        try (Statement s = c.createStatement()) {
          s.execute(statement);
        }
      }
    }
  }

  static List<String> statements(String resource) throws IOException {
    String ddl;
    try (InputStream in = JournalSchema.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IOException("DDL " + resource + " not found on the classpath");
      }
      ddl = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    List<String> out = new ArrayList<>();
    for (String raw : ddl.split(";")) {
      String s = raw.strip();
      if (s.isEmpty()) {
        continue;
      }
      s = s.replaceFirst("(?i)^CREATE (UNIQUE )?INDEX (CONCURRENTLY )?(?!IF NOT EXISTS)", "CREATE $1INDEX $2IF NOT EXISTS ");
      out.add(s);
    }
    return out;
  }
}
