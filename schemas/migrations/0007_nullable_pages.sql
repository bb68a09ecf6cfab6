-- Migration 7: a page the contract makes null is NULL in every table.
-- Chat frictions have no page, and a page or screen view without a URL or a
-- screen name has none either: friction_daily, page_stats_daily and
-- path_edges_daily stored '' for them, and page_views.page was NOT NULL.
-- A primary-key column cannot be NULL (DuckDB, PostgreSQL), so the three daily
-- tables are rebuilt with a UNIQUE key instead (NULLs distinct there; the
-- landing matches keys with IS NOT DISTINCT FROM, so each key keeps one row).
-- DuckDB cannot drop a primary key in place: each table is copied, dropped and
-- renamed, in statements both databases run; the BigQuery schema reader
-- follows the renames and the dropped NOT NULL.

ALTER TABLE page_views ALTER COLUMN page DROP NOT NULL;
UPDATE page_views SET page = NULL WHERE page = '';
UPDATE journeys SET entry_page = NULL WHERE entry_page = '';
UPDATE journeys SET exit_page = NULL WHERE exit_page = '';

CREATE TABLE IF NOT EXISTS friction_daily_v7 (
  day DATE NOT NULL, friction_type VARCHAR NOT NULL, page VARCHAR,
  occurrences BIGINT NOT NULL, journeys BIGINT NOT NULL,
  UNIQUE (day, friction_type, page));
INSERT INTO friction_daily_v7 SELECT day, friction_type, NULLIF(page, ''), occurrences, journeys FROM friction_daily;
DROP TABLE friction_daily;
ALTER TABLE friction_daily_v7 RENAME TO friction_daily;

CREATE TABLE IF NOT EXISTS page_stats_daily_v7 (
  day DATE NOT NULL, channel VARCHAR NOT NULL, page VARCHAR,
  views BIGINT NOT NULL, journeys BIGINT NOT NULL,
  avg_time_on_page_s DOUBLE PRECISION, median_time_on_page_s DOUBLE PRECISION,
  p90_time_on_page_s DOUBLE PRECISION,
  exits BIGINT NOT NULL, bounces BIGINT NOT NULL, friction_events BIGINT NOT NULL,
  UNIQUE (day, channel, page));
INSERT INTO page_stats_daily_v7 SELECT day, channel, NULLIF(page, ''), views, journeys, avg_time_on_page_s,
  median_time_on_page_s, p90_time_on_page_s, exits, bounces, friction_events FROM page_stats_daily;
DROP TABLE page_stats_daily;
ALTER TABLE page_stats_daily_v7 RENAME TO page_stats_daily;

CREATE TABLE IF NOT EXISTS path_edges_daily_v7 (
  day DATE NOT NULL, from_page VARCHAR, to_page VARCHAR,
  transitions BIGINT NOT NULL,
  UNIQUE (day, from_page, to_page));
INSERT INTO path_edges_daily_v7 SELECT day, NULLIF(from_page, ''), NULLIF(to_page, ''), transitions
  FROM path_edges_daily;
DROP TABLE path_edges_daily;
ALTER TABLE path_edges_daily_v7 RENAME TO path_edges_daily;
