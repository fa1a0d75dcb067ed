package dev.deployrt.persistence;

import com.typesafe.config.Config;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * Creates and upgrades the shared database's schema with Flyway, on every node start: the journal's
 * tables (pekko-persistence-jdbc's DDL), the cluster secret, the desired releases and the read
 * model. Scripts are per database under {@code db/migration/h2} and {@code
 * db/migration/postgresql}, and shared by both (this project's own tables, plain SQL either
 * accepts) under {@code db/migration/common}.
 *
 * <p>Guarantees: idempotent (an up-to-date database is left alone; several nodes starting at once
 * are serialised by Flyway's lock on its history table); PostgreSQL's {@code CREATE INDEX
 * CONCURRENTLY} statements run outside a transaction (their script's {@code .sql.conf}, and
 * Flyway's session lock instead of its transactional one); a database that was created before
 * migrations were used (tables but no history) is baselined at version 0 and then migrated, which
 * works because every script uses {@code IF NOT EXISTS}. That includes the read-model projection's
 * offset tables (V4, pekko-projection-jdbc's DDL), so the library never creates a table itself.
 */
public final class SchemaMigrations {
  private static final String DB = "pekko-persistence-jdbc.shared-databases.deploy.db.";

  private SchemaMigrations() {}

  /**
   * Blocking: migrates the configured database to the newest version; the number of scripts run.
   */
  public static int migrate(Config completed) {
    String url = completed.getString(DB + "url");
    String vendor = url.startsWith("jdbc:postgresql:") ? "postgresql" : "h2";
    MigrateResult result =
        Flyway.configure(SchemaMigrations.class.getClassLoader())
            .dataSource(url, completed.getString(DB + "user"), completed.getString(DB + "password"))
            .locations("classpath:db/migration/" + vendor, "classpath:db/migration/common")
            .table("deploy_schema_history")
            .baselineOnMigrate(true)
            .baselineVersion("0")
            // Flyway's default lock on PostgreSQL keeps a transaction open, and CREATE INDEX
            // CONCURRENTLY waits for every open transaction: with it, V2 would wait forever.
            .configuration(java.util.Map.of("flyway.postgresql.transactional.lock", "false"))
            .load()
            .migrate();
    return result.migrationsExecuted;
  }
}
