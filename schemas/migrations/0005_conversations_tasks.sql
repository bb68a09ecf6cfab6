-- Migration 5: conversation summaries and task attempts, row by row, so that a
-- later run can recompute chat_stats_daily and task_effort_daily for a whole day.
CREATE TABLE IF NOT EXISTS conversations (
  journey_id VARCHAR NOT NULL, customer_id VARCHAR NOT NULL, conversation_id VARCHAR NOT NULL,
  started_at TIMESTAMPTZ NOT NULL, bot_messages INTEGER NOT NULL, handoff_at TIMESTAMPTZ,
  agent_joined_at TIMESTAMPTZ, first_response_s DOUBLE PRECISION, wait_s DOUBLE PRECISION,
  resolution VARCHAR, csat DOUBLE PRECISION,
  PRIMARY KEY (journey_id, conversation_id));

CREATE TABLE IF NOT EXISTS task_attempts (
  journey_id VARCHAR NOT NULL, customer_id VARCHAR NOT NULL, task VARCHAR NOT NULL,
  started_at TIMESTAMPTZ NOT NULL, completed BOOLEAN NOT NULL, duration_s DOUBLE PRECISION,
  had_friction BOOLEAN NOT NULL, effort_score INTEGER NOT NULL,
  PRIMARY KEY (journey_id, task));
