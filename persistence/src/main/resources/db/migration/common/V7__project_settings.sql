-- Each project's settings (runtime's project.ProjectSettingsStore), shared by every node. A NULL
-- setting follows deploy.projects.defaults; updated_by/updated_at_ms say who changed the row last.
CREATE TABLE IF NOT EXISTS deploy_project_settings (
  project VARCHAR(64) PRIMARY KEY,
  keep_releases INT,
  keep_payloads INT,
  updated_by VARCHAR(64) NOT NULL,
  updated_at_ms BIGINT NOT NULL);
