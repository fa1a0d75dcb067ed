package dev.deployrt.persistence;

/**
 * The read model's table, {@code deploy_deployments}: one row per deployment, kept by the
 * deployment projection, read by list queries. Created by {@link SchemaMigrations} (V3).
 *
 * <p>Columns that list queries filter or sort on are real columns with indexes matching each filter
 * ({@code project}, {@code status}, both, none) followed by the sort order ({@code created_at_ms}
 * descending, then {@code deployment_id}), so a page is read from an index range, never sorted in
 * memory. {@code state} holds the rest of the record as JSON (the deployment without its event
 * log).
 */
public final class ReadModelSchema {
  public static final String TABLE = "deploy_deployments";

  private ReadModelSchema() {}
}
