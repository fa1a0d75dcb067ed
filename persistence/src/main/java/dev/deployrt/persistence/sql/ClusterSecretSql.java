package dev.deployrt.persistence.sql;

/**
 * SQL of the cluster secret ({@code ClusterSecretStore}): table {@code deploy_cluster_secret} (one
 * row, id 1), created by {@code db/migration/common/V3__deploy_tables.sql}.
 */
public final class ClusterSecretSql {
  public static final String SELECT_SECRET =
      "SELECT secret FROM deploy_cluster_secret WHERE id = 1";

  /** Fails if another node stored its secret first. */
  public static final String INSERT_SECRET =
      "INSERT INTO deploy_cluster_secret (id, secret) VALUES (1, ?)";

  private ClusterSecretSql() {}
}
