package dev.deployrt.persistence.sql;

import dev.deployrt.persistence.ReadModelSchema;
import java.util.Collections;

/**
 * SQL of the deployments read model (runtime's {@code readmodel} package): its table {@code
 * deploy_deployments} ({@link ReadModelSchema#TABLE}), created by {@code
 * db/migration/common/V3__deploy_tables.sql}; and the reads of how far its projection got: the
 * projection's offsets, table {@code pekko_projection_offset_store}, created by {@code
 * db/migration/common/V4__projection_offsets.sql}, and the journal's tags, table {@code event_tag},
 * created by {@code db/migration/h2/V1__journal.sql} and {@code
 * db/migration/postgresql/V1__journal.sql}.
 *
 * <p>List queries are assembled from a WHERE clause of the fragments below ({@link #WHERE_ALL},
 * then {@code AND_...}); the methods only return SQL text.
 */
public final class ReadModelSql {
  private static final String T = ReadModelSchema.TABLE;

  // ---- deploy_deployments: rows

  public static final String SELECT_STATE_BY_ID =
      "SELECT state FROM " + T + " WHERE deployment_id = ?";

  /** The same parameters in the same order as {@link #INSERT_ROW} (the deployment id last). */
  public static final String UPDATE_ROW =
      "UPDATE "
          + T
          + " SET project = ?, status = ?, created_at_ms = ?, sha256 = ?, payload_present = ?,"
          + " state = ?"
          + " WHERE deployment_id = ?";

  public static final String INSERT_ROW =
      "INSERT INTO "
          + T
          + " (project, status, created_at_ms, sha256, payload_present, state, deployment_id)"
          + " VALUES (?, ?, ?, ?, ?, ?, ?)";

  // ---- deploy_deployments: lists

  /** The start of every list's WHERE clause: matches every row. */
  public static final String WHERE_ALL = " WHERE 1 = 1";

  public static final String AND_PROJECT = " AND project = ?";

  public static final String AND_STATUS = " AND status = ?";

  public static final String AND_CREATED_SINCE = " AND created_at_ms >= ?";

  public static final String AND_CREATED_UNTIL = " AND created_at_ms <= ?";

  /** Leaves out the {@code count} deployments whose ids are its parameters. */
  public static String andDeploymentIdNotIn(int count) {
    return " AND deployment_id NOT IN (" + placeholders(count) + ")";
  }

  /** One page of states in list order; the parameters of {@code where}, then limit and offset. */
  public static String listPage(String where) {
    return "SELECT state FROM "
        + T
        + where
        + " ORDER BY created_at_ms DESC, deployment_id LIMIT ? OFFSET ?";
  }

  /** How many rows {@code where} matches. */
  public static String count(String where) {
    return "SELECT COUNT(*) FROM " + T + where;
  }

  /** The states of the {@code count} deployments whose ids are its parameters. */
  public static String selectStatesByIds(int count) {
    return "SELECT state FROM " + T + " WHERE deployment_id IN (" + placeholders(count) + ")";
  }

  /** {@code count} parameter marks, comma-separated: {@code ?, ?, ?}. */
  public static String placeholders(int count) {
    return String.join(", ", Collections.nCopies(count, "?"));
  }

  // ---- deploy_deployments: blob use

  /**
   * How many deployments other than one (sha256, deployment id) name the blob and keep it: their
   * payload is present, or they are still pending or distributing.
   */
  public static final String COUNT_OTHER_BLOB_KEEPERS =
      "SELECT COUNT(*) FROM "
          + T
          + " WHERE sha256 = ? AND deployment_id <> ?"
          + " AND (payload_present OR status IN ('pending', 'distributing'))";

  /** How many deployments name the blob, and how many of them keep it (as above). */
  public static final String COUNT_BLOB_USE =
      "SELECT COUNT(*), "
          + "SUM(CASE WHEN payload_present OR status IN ('pending', 'distributing')"
          + " THEN 1 ELSE 0 END)"
          + " FROM "
          + T
          + " WHERE sha256 = ?";

  // ---- deploy_deployments: unfinished deployments

  /** The ids of the deployments that are still pending or distributing (at most {@code ?}). */
  public static final String UNFINISHED_IDS =
      "SELECT deployment_id FROM "
          + T
          + " WHERE status IN ('pending', 'distributing')"
          + " ORDER BY created_at_ms, deployment_id LIMIT ?";

  // ---- deploy_deployments: retention

  /**
   * A project's deployments that stored a payload, newest first, past the newest {@code ?} (the
   * project, then the limit and the offset): id, whether the payload is present, status, sha256.
   */
  public static final String STORED_PAYLOADS_PAST =
      "SELECT deployment_id, payload_present, status, sha256 FROM "
          + T
          + " WHERE project = ? AND sha256 IS NOT NULL"
          + " ORDER BY created_at_ms DESC, deployment_id LIMIT ? OFFSET ?";

  // ---- how far the projection got

  /** The journal ordering of a tag's last event after a given one (NULL if there is none). */
  public static final String LAST_TAGGED_EVENT_AFTER =
      "SELECT MAX(\"event_id\") FROM \"event_tag\" WHERE \"tag\" = ? AND \"event_id\" > ?";

  /** A projection's stored sequence offset per projection key (its tag). */
  public static final String SELECT_PROJECTION_OFFSETS =
      "SELECT \"projection_key\", \"current_offset\" FROM \"pekko_projection_offset_store\" "
          + "WHERE \"projection_name\" = ? AND \"manifest\" = 'SEQ'";

  private ReadModelSql() {}
}
