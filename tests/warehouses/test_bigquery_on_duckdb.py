"""BigQuery's SQL, run on DuckDB after a mechanical translation (support/bigquery_on_duckdb.py).

There is no BigQuery here, and the emulator (goccy/bigquery-emulator) could
not be built in reasonable time, so these tests check the generated SQL's
semantics, not BigQuery itself:

- the MERGE script, over two consecutive runs' files (a device that logs in
  in the second part re-stitches its first-part events, an event re-sent
  across the parts), leaves the tables ``DuckDBWarehouse.land`` leaves;
- History, ``journeys report`` and ``journeys quality`` on a
  ``bigquery:`` URL issue SQL that, translated, answers what the DuckDB
  warehouse answers (the DB-API connection is a DuckDB one).
"""
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from rich.console import Console
from support.bigquery_on_duckdb import DuckDBAsBigQuery, run_script, to_duckdb
from support.warehouse_snapshots import cell

from journeys.commands.cli import main
from journeys.commands.dashboard_data import collect_from
from journeys.commands.quality_report import latest_results
from journeys.commands.report import render
from journeys.core.config import Config
from journeys.generators.synthetic import generate_events
from journeys.pipelines.run import SETTLE_DIR
from journeys.warehouses import warehouse_for
from journeys.warehouses.base import NothingStoredYet, column_value, read_rows, run_files
from journeys.warehouses.bigquery_warehouse import (
    STAGING_SUFFIX,
    BigQueryWarehouse,
    create_statements,
    driver_files,
    merge_statements,
    staging_schemas,
)
from journeys.warehouses.duckdb_warehouse import DuckDBWarehouse
from journeys.warehouses.history import History, newest_stored_events

URL = "bigquery:acme-analytics.journeys"
TABLES = ("events", "dead_letters", "journeys", "page_views", "friction_events", "customer_devices",
          "conversations", "task_attempts", "page_stats_daily", "friction_daily", "journey_stats_daily",
          "path_edges_daily", "chat_stats_daily", "task_effort_daily", "quality_runs")
SPLIT = 138  # device 091935a8… browses anonymously before this event and logs in at it (seed 13, 400 events)
RESENT = 5  # this part-1 event is re-sent in part 2, with another page_title: the first landed wins




def snapshot(con) -> dict[str, list]:
    # quality_runs.checked_at and details carry the run's wall clock and paths: compare key and outcome.
    select = {"quality_runs": "SELECT run_id, suite, success, evaluated, failed FROM quality_runs"}
    return {t: sorted((tuple(cell(c) for c in row) for row in con.execute(select.get(t, f"SELECT * FROM {t}"))
                       .fetchall()), key=repr) for t in TABLES}


def stage_run(con, run_dir: Path) -> None:
    """What WriteTablesToBigQuery (WRITE_TRUNCATE) and land's driver-rows append leave in the staging tables.

    A DuckDB run leaves its daily rows to the end of the run (pipelines/daily_settle.py, in ``days/``):
    with them its files are what a BigQuery run's pipeline writes, the touched days recomputed whole.
    """
    for table, schema in staging_schemas().items():
        columns = [f["name"] for f in schema["fields"]]
        found = read_rows(run_files(run_dir, table) + run_files(run_dir / SETTLE_DIR, table))
        if table == "quality_runs":  # the days' aggregates row completes the run's, under the same key
            found = {(row["run_id"], row["suite"]): row for row in found}.values()
        rows = [tuple(row.get(c) if table == "customers" else column_value(c, row.get(c)) for c in columns)
                for row in found]
        con.execute(f"DELETE FROM {table}{STAGING_SUFFIX}")
        if rows:
            marks = ", ".join("?" * len(columns))
            con.executemany(f"INSERT INTO {table}{STAGING_SUFFIX} VALUES ({marks})", rows)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Two consecutive runs into a DuckDB warehouse, with its tables after each, and the run directories."""
    folder = tmp_path_factory.mktemp("bq")
    events = generate_events(400, seed=13)
    resent = dict(events[RESENT], page_title="re-sent")
    parts = [events[:SPLIT], events[SPLIT:] + [resent]]
    assert any(e["anonymous_id"] == events[SPLIT]["anonymous_id"] and not e["user_id"] for e in parts[0])
    url = f"duckdb:{folder / 'landed.duckdb'}"
    run_dirs, landed = [], []
    for index, part in enumerate(parts):
        path = folder / f"part-{index}.jsonl"
        lines = [json.dumps(e) + "\n" for e in part]
        lines.insert(len(lines) // 2, '{"event_id": "broken-%d", "channel": \n' % index)  # a dead letter each
        path.write_text("".join(lines))
        out = folder / f"runs-{index}"
        assert main(["run", "--source", f"file:{path}", "--warehouse", url, "--output-dir", str(out)]) == 0
        [run_dir] = out.iterdir()
        run_dirs.append(run_dir)
        with duckdb.connect(url[len("duckdb:"):], read_only=True) as con:
            landed.append(snapshot(con))
    return {"url": url, "run_dirs": run_dirs, "landed": landed, "events": events}


def test_the_merge_script_lands_two_runs_as_duckdb_does(two_runs, tmp_path):
    con = duckdb.connect(str(tmp_path / "bigquery.duckdb"))
    run_script(con, create_statements(URL))  # the BigQuery DDL, translated
    for run_dir, want in zip(two_runs["run_dirs"], two_runs["landed"]):
        stage_run(con, run_dir)
        run_script(con, merge_statements(URL))
        got = snapshot(con)
        for table in TABLES:
            assert got[table] == want[table], table
        for table in staging_schemas():  # the script empties its staging tables
            assert con.execute(f"SELECT count(*) FROM {table}{STAGING_SUFFIX}").fetchone() == (0,), table

    second = two_runs["run_dirs"][1]
    rebuilt = {c["customer_id"]: c["devices"] for c in read_rows(run_files(second, "customers"))}
    device = two_runs["events"][SPLIT]["anonymous_id"]
    assert any(device in devices for devices in rebuilt.values())  # re-stitched in run 2
    assert list(read_rows(run_files(second, "pending_days")))  # the days it touched...
    assert list(read_rows(run_files(second / SETTLE_DIR, "touched_days")))  # ...recomputed whole at its end
    record = con.execute("SELECT record FROM events WHERE event_id = ?", [two_runs["events"][RESENT]["event_id"]])
    assert json.loads(record.fetchone()[0])["page_title"] != "re-sent"  # first landed wins
    suites = {row[0] for row in con.execute("SELECT suite FROM quality_runs").fetchall()}
    assert {"aggregates", "volume", "freshness"} <= suites  # the driver's run-level rows landed too

    # A stored event staged again with another record (a run without history re-emits it): the first one stays.
    again = tmp_path / "run-again"
    again.mkdir()
    first = next(row for row in read_rows(run_files(two_runs["run_dirs"][0], "events"))
                 if row["event_id"] == two_runs["events"][RESENT]["event_id"])
    first["record"]["page_title"] = "re-sent"
    (again / "events-00000-of-00001.jsonl").write_text(json.dumps(first) + "\n")
    shutil.copy(two_runs["url"][len("duckdb:"):], tmp_path / "landed.duckdb")
    DuckDBWarehouse(f"duckdb:{tmp_path / 'landed.duckdb'}").land(again)
    stage_run(con, again)
    run_script(con, merge_statements(URL))
    with duckdb.connect(str(tmp_path / "landed.duckdb"), read_only=True) as landed:
        assert snapshot(con) == snapshot(landed)
    record = con.execute("SELECT record FROM events WHERE event_id = ?", [first["event_id"]]).fetchone()[0]
    assert json.loads(record)["page_title"] != "re-sent"


def test_driver_files_are_the_rows_written_after_the_pipeline(two_runs):
    files = driver_files(two_runs["run_dirs"][0])
    assert {t: [p.name for p in paths] for t, paths in files.items()} == {"quality_runs": ["quality_runs-checks.jsonl"]}


@pytest.fixture
def bigquery_reads(two_runs, monkeypatch):
    """``bigquery:`` URLs read the DuckDB warehouse through the translating DB-API connection."""
    issued: list[str] = []

    def connection(self):
        con = DuckDBAsBigQuery(two_runs["url"][len("duckdb:"):])
        con.issued = issued
        return con

    monkeypatch.setattr(BigQueryWarehouse, "read_only_connection", connection)
    return issued


def test_history_reads_bigquery_with_its_placeholders(two_runs, bigquery_reads):
    with duckdb.connect(two_runs["url"][len("duckdb:"):], read_only=True) as con:
        devices = [r[0] for r in con.execute("SELECT anonymous_id FROM customer_devices ORDER BY 1 LIMIT 5").fetchall()]
        customer = con.execute("SELECT customer_id FROM journeys ORDER BY 1 LIMIT 1").fetchone()[0]
        day = con.execute("SELECT min(day) FROM journey_stats_daily").fetchone()[0].isoformat()
    stored, bigquery = History(two_runs["url"]), History(URL)
    try:
        for ask in (lambda h: sorted(map(repr, h.device_events(devices))), lambda h: h.customers_of(devices),
                    lambda h: sorted(h.devices_of(customer)), lambda h: h.journey_days(customer),
                    lambda h: sorted(map(repr, h.customers_on_days([day], set())))):
            assert ask(bigquery) == ask(stored)
    finally:
        stored.close(), bigquery.close()
    assert newest_stored_events(URL, 3) == newest_stored_events(two_runs["url"], 3)
    assert any("%s" in sql for sql in bigquery_reads) and not any("?" in sql for sql in bigquery_reads)


def test_report_and_quality_read_bigquery_as_duckdb(two_runs, bigquery_reads):
    def text(url):
        console = Console(record=True, width=160)
        render(url, console)
        return console.export_text()

    assert text(URL) == text(two_runs["url"])
    assert latest_results(URL) == latest_results(two_runs["url"])
    issued = "\n".join(bigquery_reads)
    assert "FILTER" not in issued and "WITHIN GROUP" not in issued  # neither exists in BigQuery
    assert "`acme-analytics.journeys`.INFORMATION_SCHEMA.TABLES" in issued


def test_the_dashboard_reads_bigquery_as_duckdb(two_runs, bigquery_reads):
    steps = Config().dashboard.funnel_steps
    assert collect_from(URL, steps) == collect_from(two_runs["url"], steps)
    issued = "\n".join(bigquery_reads)
    assert "timezone(" not in issued and "DATE(j.started_at)" in issued  # BigQuery has no timezone()


def test_a_missing_table_is_nothing_stored_yet(tmp_path, monkeypatch):
    duckdb.connect(str(tmp_path / "empty.duckdb")).execute("CREATE TABLE events (event_id VARCHAR)").close()
    monkeypatch.setattr(BigQueryWarehouse, "read_only_connection",
                        lambda self: DuckDBAsBigQuery(str(tmp_path / "empty.duckdb")))
    with pytest.raises(NothingStoredYet, match="no quality_runs table"):
        warehouse_for(URL).reading_connection(["events", "quality_runs"])


def test_translation_is_spelling_only():
    assert to_duckdb("BEGIN TRANSACTION") == "BEGIN"
    assert to_duckdb("SELECT `partition` FROM `p-1.d.events` WHERE a = %s") == 'SELECT "partition" FROM events WHERE a = ?'
