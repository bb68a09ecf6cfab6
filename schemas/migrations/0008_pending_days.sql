-- Migration 8: days whose daily rows wait to be recomputed from the stored journeys.
-- A bounded run lands in chunks, and recomputing a day's daily rows after every
-- chunk read back every journey of that day each time: the time and memory of
-- a run grew with the warehouse. A chunk now records the days it touched here,
-- in the transaction that lands its journeys, and the run recomputes every
-- pending day once at its end (pipelines/daily_settle.py), removing it here in
-- the transaction that replaces its daily rows. A run that died in between
-- leaves its days here, and the next run recomputes them.
-- Portable like the other migrations: DuckDB and PostgreSQL run the same text.
CREATE TABLE IF NOT EXISTS pending_days (day DATE NOT NULL, PRIMARY KEY (day));
