package dev.deployrt.persistence.sql;

/**
 * SQL this project runs itself on pekko-persistence-jdbc's journal, table {@code event_journal},
 * created by {@code db/migration/h2/V1__journal.sql} and {@code
 * db/migration/postgresql/V1__journal.sql} (the quoted lowercase name is that table on both). The
 * journal's own reads and writes are pekko-persistence-jdbc's.
 */
public final class JournalSql {
  /** Reads no row: fails only when the database or the journal table cannot be reached. */
  public static final String PROBE_JOURNAL = "SELECT 1 FROM \"event_journal\" WHERE 1 = 0";

  private JournalSql() {}
}
