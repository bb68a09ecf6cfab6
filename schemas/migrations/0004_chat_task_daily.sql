-- Migration 4: chat_stats_daily and task_effort_daily (contract section 3), from
-- transforms/aggregates_chat_tasks.py. day is the UTC date of the JOURNEY's start.
-- Counts are BIGINT; rates, medians and averages DOUBLE PRECISION, NULL when
-- there is nothing to take them over (no wait, no csat, no completed attempt).
-- Portable: DuckDB and PostgreSQL run the same text; no DEFAULTs (BigQuery parser).

CREATE TABLE IF NOT EXISTS chat_stats_daily (
  day DATE NOT NULL,
  conversations BIGINT NOT NULL, bot_contained BIGINT NOT NULL, escalated BIGINT NOT NULL,
  escalation_rate DOUBLE PRECISION NOT NULL,
  median_wait_s DOUBLE PRECISION, median_first_response_s DOUBLE PRECISION,
  resolved BIGINT NOT NULL, avg_csat DOUBLE PRECISION,
  PRIMARY KEY (day));

CREATE TABLE IF NOT EXISTS task_effort_daily (
  day DATE NOT NULL, task VARCHAR NOT NULL,
  attempts BIGINT NOT NULL, completions BIGINT NOT NULL, completion_rate DOUBLE PRECISION NOT NULL,
  median_duration_s DOUBLE PRECISION, friction_rate DOUBLE PRECISION NOT NULL,
  avg_effort_score DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (day, task));
