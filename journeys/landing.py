"""Lands a run's outputs in DuckDB, idempotently, in one transaction.

Events and dead letters are upserted on their keys (event_id; source,
partition, offset). Journeys replace, for their customer, every stored
journey that overlaps them in time (and its page views and friction rows):
a journey that grew, or merged two earlier ones after a late event, takes
their place, and the same input twice leaves the same rows (contract
section 3).
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

import duckdb

from journeys.events import Event, event_to_record
from journeys.masking import mask_text, mask_url

WAREHOUSE_DDL = resources.files("journeys.schemas").joinpath("warehouse.sql").read_text()
_TIMES = {"journeys": ("started_at", "ended_at"), "page_views": ("viewed_at",), "friction_events": ("occurred_at",)}


def stored_event(event: Event) -> dict:
    """The event as the warehouse keeps it: personal data masked, no raw chat text."""
    record = event_to_record(event)
    record.update(message_text=None, page_url=mask_url(event.page_url), referrer=mask_url(event.referrer),
                  search_query=mask_text(event.search_query),
                  source=event.source, partition=event.partition, offset=event.offset)
    return record


def land(db_path: str | Path, run_dir: Path) -> None:
    files = {name: [str(f) for f in sorted(run_dir.glob(f"{name}-*.jsonl"))]
             for name in ("events", "dead_letters", "journeys", "page_views", "friction_events")}
    con = duckdb.connect(str(db_path))
    try:
        con.execute("BEGIN")
        con.execute(WAREHOUSE_DDL)
        if files["events"]:
            con.execute("""
              INSERT OR REPLACE INTO events
              SELECT json->>'event_id', json->>'event_type', json->>'channel',
                     epoch_ms((json->>'event_time')::BIGINT)::TIMESTAMPTZ, json->>'anonymous_id',
                     json->>'user_id', json, json->>'source', (json->>'partition')::INTEGER,
                     (json->>'offset')::BIGINT
              FROM read_ndjson_objects(?)
            """, [files["events"]])
        if files["dead_letters"]:
            con.execute("""
              INSERT OR REPLACE INTO dead_letters
              SELECT source, "partition", "offset", received_at, reason, detail, payload
              FROM read_json(?, format='newline_delimited', columns={
                source:'VARCHAR', "partition":'INTEGER', "offset":'BIGINT', received_at:'TIMESTAMPTZ',
                reason:'VARCHAR', detail:'VARCHAR', payload:'VARCHAR'})
            """, [files["dead_letters"]])
        if files["journeys"]:
            _replace_journeys(con, files)
        con.execute("COMMIT")
    finally:
        con.close()


def _stage(con, table: str, paths: list[str]) -> None:
    columns = [row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()]
    select = ", ".join(
        f"epoch_ms((json->>'{c}')::BIGINT)::TIMESTAMPTZ AS \"{c}\"" if c in _TIMES.get(table, ())
        else f"(json->>'{c}') AS \"{c}\"" for c in columns)
    con.execute(f"CREATE TEMP TABLE staged_{table} AS SELECT * FROM {table} LIMIT 0")
    if paths:
        # json->>'c' is text (NULL for JSON null); the insert casts it to the table's types.
        con.execute(f"INSERT INTO staged_{table} SELECT {select} FROM read_ndjson_objects(?)", [paths])


def _replace_journeys(con, files) -> None:
    for table in ("journeys", "page_views", "friction_events"):
        _stage(con, table, files[table])
    con.execute("""
      CREATE TEMP TABLE replaced AS
      SELECT DISTINCT old.journey_id FROM journeys old JOIN staged_journeys new
        ON old.customer_id = new.customer_id
       AND (old.journey_id = new.journey_id
            OR (old.started_at <= new.ended_at AND old.ended_at >= new.started_at))
    """)
    for table in ("friction_events", "page_views", "journeys"):
        con.execute(f"DELETE FROM {table} WHERE journey_id IN (SELECT journey_id FROM replaced)")
        con.execute(f"INSERT INTO {table} SELECT * FROM staged_{table}")
    for table in ("journeys", "page_views", "friction_events", "replaced"):
        con.execute(f"DROP TABLE IF EXISTS staged_{table}" if table != "replaced" else "DROP TABLE replaced")
