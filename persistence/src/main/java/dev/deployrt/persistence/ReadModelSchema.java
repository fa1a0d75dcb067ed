package dev.deployrt.persistence;

import com.typesafe.config.Config;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The read model's table, {@code deploy_deployments}: one row per deployment, kept by the
 * deployment projection, read by list queries. Created if missing on every start (idempotent DDL that
 * H2 and PostgreSQL both accept).
 *
 * <p>Columns that list queries filter or sort on are real columns with indexes matching each filter
 * ({@code project}, {@code status}, both, none) followed by the sort order ({@code created_at_ms}
 * descending, then {@code deployment_id}), so a page is read from an index range, never sorted in
 * memory. {@code state} holds the rest of the record as JSON (the deployment without its event log).
 */
public final class ReadModelSchema {
  public static final String TABLE = "deploy_deployments";

  private static final List<String> DDL = List.of(
      "CREATE TABLE IF NOT EXISTS " + TABLE + " ("
          + "deployment_id VARCHAR(36) PRIMARY KEY, "
          + "project VARCHAR(64) NOT NULL, "
          + "status VARCHAR(16) NOT NULL, "
          + "created_at_ms BIGINT NOT NULL, "
          + "sha256 VARCHAR(64), "
          + "payload_present BOOLEAN NOT NULL, "
          + "state VARCHAR(1000000) NOT NULL)",
      "CREATE INDEX IF NOT EXISTS " + TABLE + "_created ON " + TABLE + " (created_at_ms DESC, deployment_id)",
      "CREATE INDEX IF NOT EXISTS " + TABLE + "_project ON " + TABLE
          + " (project, created_at_ms DESC, deployment_id)",
      "CREATE INDEX IF NOT EXISTS " + TABLE + "_status ON " + TABLE + " (status, created_at_ms DESC, deployment_id)",
      "CREATE INDEX IF NOT EXISTS " + TABLE + "_project_status ON " + TABLE
          + " (project, status, created_at_ms DESC, deployment_id)",
      "CREATE INDEX IF NOT EXISTS " + TABLE + "_sha256 ON " + TABLE + " (sha256)");

  private ReadModelSchema() {}

  /** Blocking: creates the table and its indexes if they are missing. */
  public static void ensure(Config completed) throws SQLException {
    try (Connection c = DatabaseConfig.connect(completed)) {
      for (String ddl : DDL) {
        try (Statement s = c.createStatement()) {
          s.execute(ddl);
        }
      }
    }
  }
}
