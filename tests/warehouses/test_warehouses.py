"""The same run lands the same rows in DuckDB and in a real PostgreSQL server."""
import json
from datetime import timezone
from urllib.parse import quote

import duckdb
import psycopg
import pytest
from support.paths import SCENARIOS

from journeys.commands.cli import main
from journeys.warehouses import warehouse_for
from journeys.warehouses.base import migrations

pytestmark = [pytest.mark.slow]
SCENARIO = SCENARIOS / "cross_channel.jsonl"
TABLES = ("events", "dead_letters", "journeys", "page_views", "friction_events")


def schema_url(url, schema):
    return f"{url}?options={quote(f'-csearch_path={schema}')}"


def run(source, warehouse, tmp_path):
    assert main(["run", "--source", f"file:{source}", "--warehouse", warehouse,
                 "--output-dir", str(tmp_path / "runs")]) == 0


def _cell(cell):
    if hasattr(cell, "astimezone"):
        return cell.astimezone(timezone.utc).isoformat()
    if isinstance(cell, str) and cell.startswith("{"):
        try:
            cell = json.loads(cell)  # DuckDB returns JSON as text, psycopg as objects
        except ValueError:
            return cell
    if isinstance(cell, dict):
        return json.dumps(cell, sort_keys=True)
    return cell


def normalised(rows):
    """Rows as comparable values: JSON key order and timestamp zones differ by driver."""
    return sorted((tuple(_cell(c) for c in row) for row in rows), key=repr)


def duckdb_rows(path, table):
    with duckdb.connect(str(path), read_only=True) as con:
        return normalised(con.execute(f"SELECT * FROM {table}").fetchall())


def postgres_rows(url, table):
    with psycopg.connect(url) as con:
        return normalised(con.execute(f"SELECT * FROM {table}").fetchall())


def test_postgres_and_duckdb_hold_the_same_rows_and_reruns_change_nothing(pg_schema, tmp_path):
    base_url, schema = pg_schema
    url = schema_url(base_url, schema)
    run(SCENARIO, url, tmp_path)
    run(SCENARIO, url, tmp_path)  # idempotent
    duck = tmp_path / "w.duckdb"
    run(SCENARIO, f"duckdb:{duck}", tmp_path)
    for table in TABLES:
        pg = postgres_rows(url, table)
        assert pg, table
        assert pg == duckdb_rows(duck, table), table


def test_migrations_are_recorded_and_applied_once(pg_schema):
    base_url, schema = pg_schema
    warehouse = warehouse_for(schema_url(base_url, schema))
    assert warehouse.migrate() == [version for version, _, _ in migrations()]
    assert warehouse.migrate() == []
    with psycopg.connect(schema_url(base_url, schema)) as con:
        versions = [r[0] for r in con.execute("SELECT version FROM journeys_schema_migrations ORDER BY 1")]
    assert versions == [version for version, _, _ in migrations()]


# A landing that fails leaves nothing behind, and a row the warehouse refuses no longer fails it:
# tests/warehouses/test_landing_refusals.py.


def test_the_report_reads_the_same_from_both_warehouses(pg_schema, tmp_path):
    from rich.console import Console

    from journeys.commands.report import report

    base_url, schema = pg_schema
    url = schema_url(base_url, schema)
    run(SCENARIO, url, tmp_path)
    duck = f"duckdb:{tmp_path / 'w.duckdb'}"
    run(SCENARIO, duck, tmp_path)
    texts = []
    for target in (url, duck):
        console = Console(record=True, width=120)
        report(target, console=console)
        texts.append(console.export_text())
    assert texts[0] == texts[1]
    assert "5 journeys of 3 customers: 20.0% converted" in texts[0]
    assert "invalid_json" in texts[0]  # dead letters by reason
    html = tmp_path / "report.html"
    report(duck, html=str(html), console=Console(record=True, width=120, file=open("/dev/null", "w")))
    # --html is the offline dashboard now (tests/end_to_end/test_dashboard.py opens it in a browser).
    assert "<html" in html.read_text() and 'id="dashboard-data"' in html.read_text()
