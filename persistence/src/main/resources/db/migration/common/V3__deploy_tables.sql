-- This project's own tables beside the journal.

-- The secret node-to-node calls authenticate with, generated once per cluster (ClusterSecretStore).
CREATE TABLE IF NOT EXISTS deploy_cluster_secret (id INT PRIMARY KEY, secret VARCHAR(128) NOT NULL);

-- Each project's desired release, so the release register survives a restart of the whole cluster.
CREATE TABLE IF NOT EXISTS deploy_desired_release (
  project VARCHAR(64) PRIMARY KEY, deployment_id VARCHAR(36) NOT NULL, sha256 VARCHAR(64) NOT NULL,
  size BIGINT NOT NULL, created_at_micros BIGINT NOT NULL, origin VARCHAR(255),
  targets VARCHAR(8000), source_deployment_id VARCHAR(36));

-- The deployments read model (ReadModelSchema): one row per deployment, an index per list filter
-- ending in the list order.
CREATE TABLE IF NOT EXISTS deploy_deployments (
  deployment_id VARCHAR(36) PRIMARY KEY,
  project VARCHAR(64) NOT NULL,
  status VARCHAR(16) NOT NULL,
  created_at_ms BIGINT NOT NULL,
  sha256 VARCHAR(64),
  payload_present BOOLEAN NOT NULL,
  state VARCHAR(1000000) NOT NULL);
CREATE INDEX IF NOT EXISTS deploy_deployments_created ON deploy_deployments (created_at_ms DESC, deployment_id);
CREATE INDEX IF NOT EXISTS deploy_deployments_project ON deploy_deployments (project, created_at_ms DESC, deployment_id);
CREATE INDEX IF NOT EXISTS deploy_deployments_status ON deploy_deployments (status, created_at_ms DESC, deployment_id);
CREATE INDEX IF NOT EXISTS deploy_deployments_project_status
  ON deploy_deployments (project, status, created_at_ms DESC, deployment_id);
CREATE INDEX IF NOT EXISTS deploy_deployments_sha256 ON deploy_deployments (sha256);
