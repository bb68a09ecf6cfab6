"""Runs over parts of a stream give the same warehouse as one run over the whole.

The stream is split where journeys are still open, devices log in after the
split (re-stitching their earlier events), duplicates straddle it and
conversations repeat across it; each part is its own bounded run into the
same warehouse. Returning customers whose devices stay theirs are rebuilt
from a journey on (rules/partial_rebuild.py), the others whole. The daily
aggregates then equal SQL recomputed from the row-level tables.
"""
import json
import math
from pathlib import Path
from urllib.parse import quote

import duckdb
import psycopg
import pytest
from support.daily_sql import SQL
from support.warehouse_snapshots import cell

from journeys.commands.cli import main
from journeys.generators.synthetic import generate_events

pytestmark = [pytest.mark.slow]
TABLES = ("events", "dead_letters", "journeys", "page_views", "friction_events", "customer_devices",
          "conversations", "task_attempts", "page_stats_daily", "friction_daily", "journey_stats_daily",
          "path_edges_daily", "chat_stats_daily", "task_effort_daily")


def stream_parts(folder: Path, parts: int, n: int = 3_000, seed: int = 13) -> list[Path]:
    events = generate_events(n, seed=seed)
    size = math.ceil(n / parts)
    paths = []
    for index in range(parts):
        path = folder / f"part-{index}.jsonl"
        lines = [json.dumps(e) + "\n" for e in events[index * size:(index + 1) * size]]
        lines.insert(len(lines) // 2, '{"event_id": "broken-%d", "channel": \n' % index)  # a dead letter each
        path.write_text("".join(lines))
        paths.append(path)
    return paths


def run(source: str, warehouse: str, tmp_path: Path) -> None:
    assert main(["run", "--source", f"file:{source}", "--warehouse", warehouse,
                 "--output-dir", str(tmp_path / "runs")]) == 0


def rebuilt_in_part(tmp_path: Path) -> int:
    """Customers the runs under ``tmp_path`` rebuilt from a journey on, not whole."""
    return sum(1 for path in (tmp_path / "runs").glob("run-*/partial_customers-*.jsonl")
               for line in path.read_text().splitlines() if line.strip())




def tables(fetch) -> dict[str, list]:
    return {t: sorted((tuple(cell(c) for c in row) for row in fetch(f"SELECT * FROM {t}")), key=repr)
            for t in TABLES}


def duckdb_tables(url):
    with duckdb.connect(url[len("duckdb:"):], read_only=True) as con:
        return tables(lambda sql: con.execute(sql).fetchall())


def postgres_tables(url):
    with psycopg.connect(url) as con:
        return tables(lambda sql: con.execute(sql).fetchall())


@pytest.mark.parametrize("parts", [2, 3])
def test_parts_of_a_stream_equal_the_whole_on_duckdb(tmp_path, parts):
    paths = stream_parts(tmp_path, parts)
    split, whole = f"duckdb:{tmp_path / 'split.duckdb'}", f"duckdb:{tmp_path / 'whole.duckdb'}"
    for path in paths:
        run(str(path), split, tmp_path)
    run(str(tmp_path / "part-*.jsonl"), whole, tmp_path)
    assert rebuilt_in_part(tmp_path) > 0
    got, want = duckdb_tables(split), duckdb_tables(whole)
    for table in TABLES:
        assert want[table], table
        assert got[table] == want[table], table


def test_parts_of_a_stream_equal_the_whole_on_postgres(pg_schema, tmp_path):
    base_url, schema = pg_schema
    split_schema = f"{schema}_split"
    with psycopg.connect(base_url, autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {split_schema}")
    try:
        url = lambda s: f"{base_url}?options={quote(f'-csearch_path={s}')}"  # noqa: E731
        paths = stream_parts(tmp_path, 2)
        for path in paths:
            run(str(path), url(split_schema), tmp_path)
        assert rebuilt_in_part(tmp_path) > 0
        run(str(tmp_path / "part-*.jsonl"), url(schema), tmp_path)
        got, want = postgres_tables(url(split_schema)), postgres_tables(url(schema))
        for table in TABLES:
            assert want[table], table
            assert got[table] == want[table], table
    finally:
        with psycopg.connect(base_url, autocommit=True) as con:
            con.execute(f"DROP SCHEMA {split_schema} CASCADE")


def test_daily_aggregates_equal_sql_over_the_row_level_tables_after_incremental_runs(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    for path in stream_parts(tmp_path, 3):
        run(str(path), f"duckdb:{warehouse}", tmp_path)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        for table, sql in SQL.items():
            columns = [c[0] for c in con.execute(f"SELECT * FROM {table} LIMIT 0").description]
            keys = [c for c in columns if c in ("day", "channel", "page", "friction_type", "acquisition_channel",
                                                 "from_page", "to_page")]
            recomputed = con.execute(f"SELECT {', '.join(columns)} FROM ({sql}) ORDER BY {', '.join(keys)}").fetchall()
            stored = con.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {', '.join(keys)}").fetchall()
            assert len(stored) == len(recomputed) > 0, table
            for got, want in zip(stored, recomputed):
                assert [cell(c) for c in got] == [cell(c) for c in want], table
