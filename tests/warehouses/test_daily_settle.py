"""Daily rows recomputed from the stored journeys at a run's end (pipelines/daily_settle.py).

Two runs land 1,500 synthetic events each (seed 17, each device moved to one of three days)
into DuckDB and PostgreSQL. The pending days' customers read in batches are
the same whatever the batch size; settling every day again leaves the same
rows and no pending day; a daily check that fails lands nothing and leaves
the days pending.
"""
import json
import zlib
from urllib.parse import quote

import duckdb
import psycopg
import pytest
from support.warehouse_snapshots import cell

from journeys import quality
from journeys.commands.cli import main
from journeys.core.config import Config
from journeys.core.schema_files import suite_path
from journeys.generators.synthetic import generate_events
from journeys.pipelines.daily_settle import settle_pending_days
from journeys.rules.daily import day_of
from journeys.warehouses.history import History

pytestmark = [pytest.mark.slow]
DAY_MS = 86_400_000
DAILY = ("page_stats_daily", "friction_daily", "journey_stats_daily", "path_edges_daily", "chat_stats_daily",
         "task_effort_daily")


@pytest.fixture(params=["duckdb", "postgresql"])
def landed(request, tmp_path):
    """A warehouse URL after two runs, and how to query it."""
    if request.param == "duckdb":
        url = f"duckdb:{tmp_path / 'w.duckdb'}"

        def fetch(sql, values=()):
            with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
                return con.execute(sql, list(values)).fetchall()
    else:
        base, schema = request.getfixturevalue("pg_schema")
        url = f"{base}?options={quote(f'-csearch_path={schema}')}"

        def fetch(sql, values=()):
            with psycopg.connect(url, autocommit=True) as con:
                cursor = con.execute(sql.replace("?", "%s"), list(values))
                return cursor.fetchall() if cursor.description else []
    events = [dict(e, event_time=e["event_time"] + DAY_MS * (zlib.crc32(e["anonymous_id"].encode()) % 3))
              for e in generate_events(3_000, seed=17)]  # each device on one of three days
    for index, part in enumerate((events[:1_500], events[1_500:])):
        path = tmp_path / f"part-{index}.jsonl"
        path.write_text("".join(json.dumps(e) + "\n" for e in part))
        assert main(["run", "--source", f"file:{path}", "--warehouse", url, "--output-dir", str(tmp_path / "runs")]) == 0
    return url, fetch


def daily_rows(fetch):
    return {t: sorted((tuple(cell(c) for c in row) for row in fetch(f"SELECT * FROM {t}")), key=repr) for t in DAILY}


def stored_days(fetch):
    return sorted({day_of(round(started.timestamp() * 1000)) for (started,) in fetch("SELECT started_at FROM journeys")})


def test_the_days_customers_are_the_same_whatever_the_batch(landed):
    url, fetch = landed
    days = stored_days(fetch)
    assert len(days) > 1
    history = History(url)
    try:
        reads = [sorted(map(repr, history.whole_days(days, size))) for size in (1, 7, 10_000)]
        one_day = list(history.whole_days(days[:1], 10_000))
    finally:
        history.close()
    assert reads[0] == reads[1] == reads[2]
    assert len(reads[0]) == fetch("SELECT count(DISTINCT customer_id) FROM journeys")[0][0]
    assert sum(len(c.journeys) for c in one_day) == sum(day_of(round(s.timestamp() * 1000)) == days[0]
                                                        for (s,) in fetch("SELECT started_at FROM journeys"))
    assert all(day_of(j.started_at) == days[0] for c in one_day for j in c.journeys)
    assert fetch("SELECT count(*) FROM pending_days") == [(0,)]  # the runs settled their days


def test_settling_every_day_again_leaves_the_same_rows(landed, tmp_path):
    url, fetch = landed
    before = daily_rows(fetch)
    assert all(before.values())
    for day in stored_days(fetch):
        fetch("INSERT INTO pending_days VALUES (?)", [day])
    settled = settle_pending_days(url, Config(), tmp_path / "settle", "settle-again", 0)
    assert settled == stored_days(fetch)
    assert daily_rows(fetch) == before
    assert fetch("SELECT count(*) FROM pending_days") == [(0,)]
    assert fetch("SELECT count(*) FROM quality_runs WHERE run_id = 'settle-again'") == [(1,)]


def test_a_failing_daily_check_lands_nothing_and_keeps_the_days_pending(landed, tmp_path):
    url, fetch = landed
    before = daily_rows(fetch)
    day = stored_days(fetch)[0]
    fetch("INSERT INTO pending_days VALUES (?)", [day])
    fetch("DELETE FROM journey_stats_daily WHERE day = ?", [day])  # what a settle would bring back
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"version": 1, "suites": {"events": {"default": "report", "expectations": {}},
                                                          "aggregates": {"default": "fail", "expectations": {}}}}))
    impossible = tmp_path / "aggregates.json"
    suite = json.loads(suite_path("aggregates").read_text())
    suite["expectations"].append({"type": "expect_table_row_count_to_equal", "kwargs": {"value": 0},
                                  "meta": {"table": "journey_stats_daily"}})
    impossible.write_text(json.dumps(suite))
    config = Config.load(quality__policy_path=str(policy), quality__aggregates_suite=str(impossible))
    with pytest.raises(quality.QualityFailure):
        settle_pending_days(url, config, tmp_path / "settle", "settle-fails", 0)
    assert fetch("SELECT day FROM pending_days")[0][0].isoformat() == day
    assert not [row for row in daily_rows(fetch)["journey_stats_daily"] if row[0] == day]
    assert fetch("SELECT count(*) FROM quality_runs WHERE run_id = 'settle-fails'") == [(0,)]
    settle_pending_days(url, Config(), tmp_path / "settle-2", "settle-passes", 0)
    assert daily_rows(fetch) == before
