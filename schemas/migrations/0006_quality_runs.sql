-- Migration 6: one row per quality suite or check per run (contract section 3).
-- suite: events, aggregates, volume, freshness. evaluated/failed count
-- expectations (checks), as Great Expectations' statistics do; details is the
-- per-expectation breakdown (policy, unexpected counts, masked samples).
-- Portable like the other migrations: DuckDB and PostgreSQL run the same text.
CREATE TABLE IF NOT EXISTS quality_runs (
  run_id VARCHAR NOT NULL, suite VARCHAR NOT NULL, checked_at TIMESTAMPTZ NOT NULL,
  success BOOLEAN NOT NULL, evaluated INTEGER NOT NULL, failed INTEGER NOT NULL, details JSON,
  PRIMARY KEY (run_id, suite));
