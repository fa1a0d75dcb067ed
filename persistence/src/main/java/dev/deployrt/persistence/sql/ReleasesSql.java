package dev.deployrt.persistence.sql;

/**
 * SQL of each project's desired release (runtime's {@code ReleaseStore}): table {@code
 * deploy_desired_release}, created by {@code db/migration/common/V3__deploy_tables.sql} (rollout
 * columns: V8).
 */
public final class ReleasesSql {
  public static final String SELECT_RELEASES =
      "SELECT project, deployment_id, sha256, size, created_at_micros, origin, "
          + "targets, source_deployment_id, rollout_state FROM deploy_desired_release";

  /**
   * Replaces the project's row only if it is older (created earlier, or same time, lower id, or the
   * same deployment at a lower gate revision).
   */
  public static final String UPDATE_IF_NEWER =
      "UPDATE deploy_desired_release SET deployment_id = ?, "
          + "sha256 = ?, size = ?, created_at_micros = ?, origin = ?, targets = ?, "
          + "source_deployment_id = ?, gate_revision = ?, rollout_state = ? "
          + "WHERE project = ? AND (created_at_micros < ? "
          + "OR (created_at_micros = ? AND deployment_id < ?) "
          + "OR (created_at_micros = ? AND deployment_id = ? AND gate_revision < ?))";

  /** Fails if the project has a row already. */
  public static final String INSERT_RELEASE =
      "INSERT INTO deploy_desired_release (deployment_id, sha256, "
          + "size, created_at_micros, origin, targets, source_deployment_id, gate_revision, "
          + "rollout_state, project) "
          + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

  private ReleasesSql() {}
}
