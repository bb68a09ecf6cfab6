-- Migration 1: the row-level tables (contract section 3). Times are UTC.
-- Portable SQL: the same text runs on DuckDB and PostgreSQL.
CREATE TABLE IF NOT EXISTS events (
  event_id VARCHAR PRIMARY KEY, event_type VARCHAR NOT NULL, channel VARCHAR NOT NULL,
  event_time TIMESTAMPTZ NOT NULL, anonymous_id VARCHAR NOT NULL, user_id VARCHAR,
  record JSON NOT NULL, source VARCHAR, "partition" INTEGER, "offset" BIGINT);

CREATE TABLE IF NOT EXISTS dead_letters (
  source VARCHAR NOT NULL, "partition" INTEGER NOT NULL, "offset" BIGINT NOT NULL,
  received_at TIMESTAMPTZ, reason VARCHAR NOT NULL, detail VARCHAR, payload VARCHAR,
  PRIMARY KEY (source, "partition", "offset"));

CREATE TABLE IF NOT EXISTS journeys (
  journey_id VARCHAR PRIMARY KEY, customer_id VARCHAR NOT NULL,
  started_at TIMESTAMPTZ NOT NULL, ended_at TIMESTAMPTZ NOT NULL, duration_s DOUBLE PRECISION NOT NULL,
  channels VARCHAR NOT NULL, event_count INTEGER NOT NULL, page_view_count INTEGER NOT NULL,
  entry_page VARCHAR, exit_page VARCHAR, acquisition_channel VARCHAR NOT NULL,
  converted BOOLEAN NOT NULL, escalated BOOLEAN NOT NULL, resolved BOOLEAN NOT NULL, bounced BOOLEAN NOT NULL,
  friction_count INTEGER NOT NULL, friction_score DOUBLE PRECISION NOT NULL, effort_score INTEGER NOT NULL,
  engaged_time_s DOUBLE PRECISION NOT NULL, first_event_id VARCHAR NOT NULL);

CREATE TABLE IF NOT EXISTS page_views (
  journey_id VARCHAR NOT NULL, customer_id VARCHAR NOT NULL, channel VARCHAR NOT NULL,
  anonymous_id VARCHAR NOT NULL, page VARCHAR NOT NULL, viewed_at TIMESTAMPTZ NOT NULL,
  seq INTEGER NOT NULL, time_on_page_s DOUBLE PRECISION, engaged_time_s DOUBLE PRECISION NOT NULL,
  is_entry BOOLEAN NOT NULL, is_exit BOOLEAN NOT NULL, event_id VARCHAR NOT NULL,
  PRIMARY KEY (journey_id, seq));

CREATE TABLE IF NOT EXISTS friction_events (
  journey_id VARCHAR NOT NULL, customer_id VARCHAR NOT NULL, friction_type VARCHAR NOT NULL,
  channel VARCHAR NOT NULL, page VARCHAR, occurred_at TIMESTAMPTZ NOT NULL, detail VARCHAR,
  event_id VARCHAR NOT NULL,
  PRIMARY KEY (journey_id, friction_type, event_id));
