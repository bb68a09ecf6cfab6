"""The normal landing (the warehouse reads the run files itself) stores what the row-by-row landing stores.

``Warehouse.land`` stages a run's files with DuckDB's ``read_json`` or
PostgreSQL's ``COPY`` + ``json_to_record`` (journeys/warehouses/landing_files.py)
and falls back to the row-by-row batch (landing_batch) only when the
warehouse refuses something. Both paths must give the same stored values,
JSON text included. Each run directory below is landed twice into fresh
warehouses, once by ``land`` and once by the row-by-row path alone, and every
table is compared value for value (times as instants, JSON as text):

- a run in the pipeline's shapes, with the values most likely to differ
  between a Python conversion and a SQL one (epoch ms before 1970, ISO times
  with ``Z``, offsets and fractions, non-ASCII and escaped text, floats like
  1e16, NULL pages and times, nested JSON): ``land`` must not fall back;
- a run with shapes only the row-by-row path converts (epoch ms as a float,
  an ISO time with a space, a day in ISO week form): ``land`` falls back and
  refuses nothing.
"""
import json

import duckdb
import psycopg
import pytest
from test_landing_refusals import T0, event, journey, page_view
from test_warehouses import schema_url

from journeys.warehouses import landing_sql, warehouse_for
from journeys.warehouses.base import Warehouse
from journeys.warehouses.rows import to_json

pytestmark = [pytest.mark.slow]
TABLES = ("events", "dead_letters", "journeys", "page_views", "friction_events", "conversations", "task_attempts",
          "page_stats_daily", "friction_daily", "journey_stats_daily", "path_edges_daily", "chat_stats_daily",
          "task_effort_daily", "quality_runs", "customer_devices")
TEXT = 'é 😀 "quoted" back\\slash\nnew line\ttab \x01 ünïcode'


def pipeline_run(run_dir):
    """Rows as the pipeline writes them (rows.to_json): one line each, orjson's JSON."""
    record = {"event_id": "e1", "page_title": TEXT, "revenue": 1e16, "x": -3, "small": 1.5e-7, "none": None,
              "properties": {"ключ": TEXT, "nested": "[1, 2]"}, "list": [1, 2.5, None, True]}
    files = {
        "events": [event("e1", -1, record=record, user_id="u1"), event("e2", 0, event_time=-86_400_001),
                   event("e3", 5, event_time="2026-01-05T00:00:00Z")],
        "dead_letters": [{"source": "file:/x.jsonl", "partition": 0, "offset": 9, "received_at": T0,
                          "reason": "invalid_json", "detail": TEXT, "payload": "{oops"}],
        "journeys": [journey("j1", entry_page=None, started_at="2026-01-05T01:00:00.123456+01:00"),
                     journey("j2", customer_id="a2", friction_score=0.1 + 0.2, duration_s=1e16)],
        "page_views": [page_view(1, page=f"/é/{TEXT}"), page_view(2, time_on_page_s=None, engaged_time_s=0)],
        "friction_events": [{"journey_id": "j1", "customer_id": "a1", "friction_type": "unresolved_chat",
                             "channel": "chat", "page": None, "occurred_at": "2026-01-05T00:00:00.5-05:30",
                             "detail": "c1", "event_id": "e1"}],
        "conversations": [{"journey_id": "j1", "customer_id": "a1", "conversation_id": "c1", "started_at": T0,
                           "bot_messages": 2, "handoff_at": None, "agent_joined_at": T0 + 1, "first_response_s": 1.25,
                           "wait_s": None, "resolution": "unresolved", "csat": None}],
        "task_attempts": [{"journey_id": "j1", "customer_id": "a1", "task": "purchase", "started_at": T0,
                           "completed": True, "duration_s": None, "had_friction": False, "effort_score": 2}],
        "page_stats_daily": [{"day": "2026-01-05", "channel": "chat", "page": None, "views": 1, "journeys": 1,
                              "avg_time_on_page_s": None, "median_time_on_page_s": 2.5, "p90_time_on_page_s": 1e-9,
                              "exits": 0, "bounces": 0, "friction_events": 1}],
        "friction_daily": [{"day": "2026-01-05", "friction_type": "unresolved_chat", "page": None,
                            "occurrences": 1, "journeys": 1}],
        "path_edges_daily": [{"day": "2026-01-05", "from_page": None, "to_page": "/b", "transitions": 3}],
        "quality_runs": [{"run_id": "r1", "suite": "events", "checked_at": "2026-01-05T00:00:00.972000+00:00",
                          "success": True, "evaluated": 3, "failed": 0,
                          "details": {"b": [1, {"é": TEXT}], "a": 0.5}}],
        "touched_days": [{"day": "2026-01-05"}],
        "customers": [{"customer_id": "a1", "devices": ["a1", "d-é"]}, {"customer_id": "a2", "devices": []}],
    }
    return write(run_dir, files)


def write(run_dir, files):
    run_dir.mkdir()
    for table, rows in files.items():
        (run_dir / f"{table}-00000-of-00001.jsonl").write_text("".join(to_json(row) + "\n" for row in rows))
    return run_dir


def row_by_row(warehouse: Warehouse, run_dir):
    """The fallback alone: the run's rows converted in Python, staged by the driver."""
    con = warehouse.connect()
    try:
        return warehouse._attempt(con, warehouse._read_batch(con, run_dir), commit=True)
    finally:
        con.close()


@pytest.fixture(params=["duckdb", "postgresql"])
def two_warehouses(request, tmp_path):
    """Two migrated, empty warehouses of one kind, and how to read a table's rows exactly."""
    if request.param == "duckdb":
        urls = [f"duckdb:{tmp_path / name}.duckdb" for name in ("a", "b")]

        def rows(url, table):
            with duckdb.connect(url[len("duckdb:"):], read_only=True) as con:
                return sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
    else:
        base_url, schema = request.getfixturevalue("pg_schema")
        urls = [schema_url(base_url, schema)]
        with psycopg.connect(base_url, autocommit=True) as con:
            con.execute(f"CREATE SCHEMA {schema}_b")

        def drop():
            with psycopg.connect(base_url, autocommit=True) as con:
                con.execute(f"DROP SCHEMA {schema}_b CASCADE")
        request.addfinalizer(drop)
        urls.append(schema_url(base_url, f"{schema}_b"))

        def rows(url, table):  # JSON as its text, not as psycopg's parsed objects
            with psycopg.connect(url) as con:
                types = con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                    "WHERE table_name = %s AND table_schema = current_schema() "
                                    "ORDER BY ordinal_position", [table]).fetchall()
                select = ", ".join(f'"{c}"::text' if kind == "json" else f'"{c}"' for c, kind in types)
                return sorted(con.execute(f"SELECT {select} FROM {table}").fetchall(), key=repr)
    for url in urls:
        warehouse_for(url).migrate()
    return urls, rows


def test_the_pipelines_shapes_land_without_python_per_row_as_row_by_row(two_warehouses, tmp_path):
    (fast, slow), rows = two_warehouses
    run_dir = pipeline_run(tmp_path / "run")
    warehouse = warehouse_for(fast)
    staged = warehouse.land(run_dir)
    assert "read" not in warehouse.step_seconds and warehouse.refused == ()  # no fallback
    assert staged == row_by_row(warehouse_for(slow), run_dir)
    for table in TABLES:
        assert rows(fast, table) == rows(slow, table), table
    assert len(rows(fast, "events")) == 3 and len(rows(fast, "customer_devices")) == 2
    (record,) = [r for r in rows(fast, "events") if r[0] == "e1"]
    assert json.loads(record[6])["page_title"] == TEXT


def test_shapes_only_python_converts_fall_back_to_row_by_row_and_land_alike(two_warehouses, tmp_path):
    (fast, slow), rows = two_warehouses
    files = {"events": [event("e1", 1, event_time=T0 + 0.5), event("e2", 2, event_time="2026-01-05 00:00:01+00:00")],
             "touched_days": [{"day": "2026-W02-1"}]}
    run_dir = write(tmp_path / "run", files)
    warehouse = warehouse_for(fast)
    staged = warehouse.land(run_dir)
    assert "read" in warehouse.step_seconds and warehouse.refused == ()  # fell back, refused nothing
    assert staged == row_by_row(warehouse_for(slow), run_dir) and staged["events"] == 2
    for table in TABLES:
        assert rows(fast, table) == rows(slow, table), table


def test_keys_that_cannot_be_null_match_with_equals_and_nullable_ones_as_not_distinct():
    names = landing_sql.Names(table=str, staged=lambda name: f"staged_{name}", quote=lambda c: f'"{c}"')
    (delete, _) = landing_sql.upsert(names, "page_stats_daily", {"day", "channel", "views"})
    assert 'staged."day" = stored."day" AND staged."channel" = stored."channel"' in delete
    assert 'staged."page" IS NOT DISTINCT FROM stored."page"' in delete
    (insert,) = landing_sql.upsert(names, "events", {"event_id"})
    assert 'staged."event_id" = stored."event_id"' in insert
    assert landing_sql.upsert(names, "events") != [insert]  # without the columns (BigQuery): as before
