-- The read-model projection's offset and management tables, as pekko-projection-jdbc 1.0.0 would
-- create them (its H2 and PostgreSQL dialects, with use-lowercase-schema = true, the default).
-- Quoted lowercase names mean the same table in both databases. Created here so the whole schema
-- comes from migrations; the projection no longer creates them itself.
CREATE TABLE IF NOT EXISTS "pekko_projection_offset_store" (
  "projection_name" VARCHAR(255) NOT NULL,
  "projection_key" VARCHAR(255) NOT NULL,
  "current_offset" VARCHAR(255) NOT NULL,
  "manifest" VARCHAR(4) NOT NULL,
  "mergeable" BOOLEAN NOT NULL,
  "last_updated" BIGINT NOT NULL,
  PRIMARY KEY ("projection_name", "projection_key"));
CREATE INDEX IF NOT EXISTS "projection_name_index" ON "pekko_projection_offset_store" ("projection_name");

CREATE TABLE IF NOT EXISTS "pekko_projection_management" (
  "projection_name" VARCHAR(255) NOT NULL,
  "projection_key" VARCHAR(255) NOT NULL,
  "paused" BOOLEAN NOT NULL,
  "last_updated" BIGINT NOT NULL,
  PRIMARY KEY ("projection_name", "projection_key"));
