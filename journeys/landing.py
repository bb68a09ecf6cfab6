"""Lands a run's decoded events and dead letters in DuckDB, idempotently.

Rows are upserted on their keys (event_id; source, partition, offset), so the
same input twice leaves the same rows (contract section 3). The full warehouse
with journeys and aggregates builds on this.
"""
from __future__ import annotations

from pathlib import Path

import duckdb

from journeys.events import Event, event_to_record
from journeys.masking import mask_text, mask_url

DEAD_LETTERS_DDL = """
CREATE TABLE IF NOT EXISTS dead_letters (
  source VARCHAR NOT NULL, "partition" INTEGER NOT NULL, "offset" BIGINT NOT NULL,
  received_at TIMESTAMPTZ, reason VARCHAR NOT NULL, detail VARCHAR, payload VARCHAR,
  PRIMARY KEY (source, "partition", "offset"))
"""
EVENTS_DDL = """
CREATE TABLE IF NOT EXISTS events (
  event_id VARCHAR PRIMARY KEY, event_type VARCHAR NOT NULL, channel VARCHAR NOT NULL,
  event_time TIMESTAMPTZ NOT NULL, anonymous_id VARCHAR NOT NULL, user_id VARCHAR,
  record JSON NOT NULL, source VARCHAR, "partition" INTEGER, "offset" BIGINT)
"""


def stored_event(event: Event) -> dict:
    """The event as the warehouse keeps it: personal data masked, no raw chat text."""
    record = event_to_record(event)
    record.update(message_text=None, page_url=mask_url(event.page_url), referrer=mask_url(event.referrer),
                  search_query=mask_text(event.search_query),
                  source=event.source, partition=event.partition, offset=event.offset)
    return record


def land(db_path: str | Path, events_files: list[Path], dead_letter_files: list[Path]) -> None:
    con = duckdb.connect(str(db_path))
    try:
        con.execute("BEGIN")
        con.execute(DEAD_LETTERS_DDL)
        con.execute(EVENTS_DDL)
        if events_files:
            con.execute("""
              INSERT OR REPLACE INTO events
              SELECT json->>'event_id', json->>'event_type', json->>'channel',
                     epoch_ms((json->>'event_time')::BIGINT)::TIMESTAMPTZ, json->>'anonymous_id',
                     json->>'user_id', json, json->>'source', (json->>'partition')::INTEGER,
                     (json->>'offset')::BIGINT
              FROM read_ndjson_objects(?)
            """, [[str(f) for f in events_files]])
        if dead_letter_files:
            con.execute("""
              INSERT OR REPLACE INTO dead_letters
              SELECT source, "partition", "offset", received_at, reason, detail, payload
              FROM read_json(?, format='newline_delimited', columns={
                source:'VARCHAR', "partition":'INTEGER', "offset":'BIGINT', received_at:'TIMESTAMPTZ',
                reason:'VARCHAR', detail:'VARCHAR', payload:'VARCHAR'})
            """, [[str(f) for f in dead_letter_files]])
        con.execute("COMMIT")
    finally:
        con.close()
