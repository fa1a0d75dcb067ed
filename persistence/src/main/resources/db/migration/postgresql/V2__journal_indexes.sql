-- The durable-state indexes that pekko-persistence-jdbc 1.1.1 creates CONCURRENTLY. That cannot run
-- inside a transaction: V2__journal_indexes.sql.conf tells Flyway to run this script without one.
CREATE INDEX CONCURRENTLY IF NOT EXISTS state_tag_idx ON durable_state (tag);
CREATE INDEX CONCURRENTLY IF NOT EXISTS state_global_offset_idx ON durable_state (global_offset);
