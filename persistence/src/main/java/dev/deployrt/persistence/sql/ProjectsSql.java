package dev.deployrt.persistence.sql;

/**
 * SQL of the projects' settings (runtime's {@code ProjectSettingsStore}): table {@code
 * deploy_project_settings}, created by {@code db/migration/common/V7__project_settings.sql}
 * (rollout columns: V8).
 */
public final class ProjectsSql {
  public static final String SELECT_SETTINGS =
      "SELECT keep_releases, keep_payloads, rollout_strategy, canary_nodes, health_window_s, "
          + "auto_revert, updated_by, updated_at_ms "
          + "FROM deploy_project_settings WHERE project = ?";

  public static final String UPDATE_SETTINGS =
      "UPDATE deploy_project_settings SET keep_releases = ?, keep_payloads = ?, "
          + "rollout_strategy = ?, canary_nodes = ?, health_window_s = ?, auto_revert = ?, "
          + "updated_by = ?, updated_at_ms = ? WHERE project = ?";

  /** Fails if the project has a row already. */
  public static final String INSERT_SETTINGS =
      "INSERT INTO deploy_project_settings (keep_releases, keep_payloads, rollout_strategy, "
          + "canary_nodes, health_window_s, auto_revert, updated_by, updated_at_ms, project) "
          + "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";

  private ProjectsSql() {}
}
