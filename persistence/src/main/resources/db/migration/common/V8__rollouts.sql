-- Safe rollouts. Each project's rollout settings (NULL: deploy.projects.defaults.rollout), and each
-- desired release's rollout state: its gate revision (a rollout advancing or stopping writes the
-- same deployment again with a higher one) and, as JSON, its plan, gate and the release before it.
ALTER TABLE deploy_project_settings ADD COLUMN IF NOT EXISTS rollout_strategy VARCHAR(32);
ALTER TABLE deploy_project_settings ADD COLUMN IF NOT EXISTS canary_nodes INT;
ALTER TABLE deploy_project_settings ADD COLUMN IF NOT EXISTS health_window_s INT;
ALTER TABLE deploy_project_settings ADD COLUMN IF NOT EXISTS auto_revert BOOLEAN;
ALTER TABLE deploy_desired_release ADD COLUMN IF NOT EXISTS gate_revision INT DEFAULT 0 NOT NULL;
ALTER TABLE deploy_desired_release ADD COLUMN IF NOT EXISTS rollout_state VARCHAR(65536);
