-- Migration 2: the daily aggregate tables (contract section 3), from transforms/aggregates.py.
-- day is the UTC date of the JOURNEY's start in every table: a page view, path
-- edge or friction row counts on its journey's start day, even after midnight.
-- Counts are BIGINT (what count(*) gives); averages and percentiles DOUBLE
-- PRECISION, NULL when there is nothing to average (no known time on page).
-- Portable like schemas/migrations: DuckDB and PostgreSQL run the same text,
-- and the BigQuery schema parser reads "name TYPE [NOT NULL]" (so no DEFAULTs).

CREATE TABLE IF NOT EXISTS page_stats_daily (
  day DATE NOT NULL, channel VARCHAR NOT NULL, page VARCHAR NOT NULL,
  views BIGINT NOT NULL, journeys BIGINT NOT NULL,
  avg_time_on_page_s DOUBLE PRECISION, median_time_on_page_s DOUBLE PRECISION,
  p90_time_on_page_s DOUBLE PRECISION,
  exits BIGINT NOT NULL, bounces BIGINT NOT NULL, friction_events BIGINT NOT NULL,
  PRIMARY KEY (day, channel, page));

-- page is '' (never NULL) for friction rows without a page (chat frictions,
-- whose friction_events.page is NULL): a primary-key column cannot be NULL in
-- DuckDB or PostgreSQL, and a NULL would also defeat INSERT OR REPLACE. ''
-- already means "no page known" in page_views.page, and chat friction types
-- never share a friction_type with web or app ones, so no rows merge wrongly.
-- Join to friction_events on coalesce(friction_events.page, '') = page.
CREATE TABLE IF NOT EXISTS friction_daily (
  day DATE NOT NULL, friction_type VARCHAR NOT NULL, page VARCHAR NOT NULL,
  occurrences BIGINT NOT NULL, journeys BIGINT NOT NULL,
  PRIMARY KEY (day, friction_type, page));

CREATE TABLE IF NOT EXISTS journey_stats_daily (
  day DATE NOT NULL, acquisition_channel VARCHAR NOT NULL,
  journeys BIGINT NOT NULL, converted BIGINT NOT NULL, escalated BIGINT NOT NULL, bounced BIGINT NOT NULL,
  avg_duration_s DOUBLE PRECISION NOT NULL, avg_friction_score DOUBLE PRECISION NOT NULL,
  avg_effort_score DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (day, acquisition_channel));

CREATE TABLE IF NOT EXISTS path_edges_daily (
  day DATE NOT NULL, from_page VARCHAR NOT NULL, to_page VARCHAR NOT NULL,
  transitions BIGINT NOT NULL,
  PRIMARY KEY (day, from_page, to_page));
