"""A row the warehouse refuses at landing is a dead letter ``landing_failed``; the rows around it land.

Each run directory is written by hand, as the pipeline writes one (JSON lines
per table), with rows that decoding would never let through but that a
corrupted run file holds: a JSON column that is not JSON, an integer beyond
its column, NUL in text (PostgreSQL), a time that is not one. Landed into a
real DuckDB file and the session's real PostgreSQL server.

The run below, by table (good + bad rows):
- events: e1, e3 good; e2 (record not JSON) and e4 (DuckDB: partition 2^40,
  PostgreSQL: NUL in anonymous_id) bad: 2 land, 2 dead letters;
- dead_letters: 1 from decoding, lands, plus the 4 refusals = 5 rows;
- journeys: j1 good, j2 (event_count 2^40) bad: 1 lands;
- page_views: j1's two, one with viewed_at "yesterday" (refused before the
  warehouse sees it): 1 lands;
- journey_stats_daily: 1 row lands.
"""
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from urllib.parse import urlsplit, urlunsplit

import duckdb
import psycopg
import pytest
from test_warehouses import duckdb_rows, postgres_rows, schema_url

from journeys.commands.cli import failure
from journeys.core.summary import RunSummary
from journeys.warehouses import warehouse_for
from journeys.warehouses.landing_batch import REASON, Refusal, with_refusals

pytestmark = [pytest.mark.slow]
T0 = 1767571200000  # 2026-01-05T00:00:00Z
MTIME = 1767600000  # the run files' modification time: the refusals' received_at
SECRET = "jane.doe@example.com"
LANDED = ("events", "journeys", "page_views", "journey_stats_daily", "customer_devices")


def event(event_id, offset, **changes):
    row = {"event_id": event_id, "event_type": "page_view", "channel": "web", "event_time": T0 + offset,
           "anonymous_id": "a1", "user_id": None, "record": {"event_id": event_id, "page_url": "https://x/"},
           "source": "file:/data/day.jsonl", "partition": 0, "offset": offset}
    return {**row, **changes}


def journey(journey_id, **changes):
    row = {"journey_id": journey_id, "customer_id": "a1", "started_at": T0, "ended_at": T0 + 60_000,
           "duration_s": 60.0, "channels": "web", "event_count": 2, "page_view_count": 2, "entry_page": "/",
           "exit_page": "/b", "acquisition_channel": "direct", "converted": False, "escalated": False,
           "resolved": False, "bounced": False, "friction_count": 0, "friction_score": 0.0, "effort_score": 1,
           "engaged_time_s": 0.0, "first_event_id": "e1"}
    return {**row, **changes}


def page_view(seq, **changes):
    row = {"journey_id": "j1", "customer_id": "a1", "channel": "web", "anonymous_id": "a1", "page": "/",
           "viewed_at": T0 + seq * 1000, "seq": seq, "time_on_page_s": 1.0, "engaged_time_s": 0.0,
           "is_entry": seq == 1, "is_exit": seq == 2, "event_id": f"e{seq}"}
    return {**row, **changes}


def write_run(run_dir, warehouse_kind):
    fourth = {"partition": 2 ** 40} if warehouse_kind == "duckdb" else {"anonymous_id": "a\x00b"}
    files = {
        "events": [event("e1", 1), event("e2", 2, record=f"not json {SECRET}"), event("e3", 3),
                   event("e4", 4, **fourth)],
        "dead_letters": [{"source": "file:/data/day.jsonl", "partition": 0, "offset": 5, "received_at": T0,
                          "reason": "invalid_json", "detail": "Expecting value", "payload": "{oops"}],
        "journeys": [journey("j1"), journey("j2", customer_id="a2", event_count=2 ** 40)],
        "page_views": [page_view(1), page_view(2, viewed_at="yesterday", page=f"/contact/{SECRET}")],
        "journey_stats_daily": [{"day": "2026-01-05", "acquisition_channel": "direct", "journeys": 1,
                                 "converted": 0, "escalated": 0, "bounced": 0, "avg_duration_s": 60.0,
                                 "avg_friction_score": 0.0, "avg_effort_score": 1.0}],
        "touched_days": [{"day": "2026-01-05"}],
        "customers": [{"customer_id": "a1", "devices": ["a1"]}],
    }
    run_dir.mkdir()
    for table, rows in files.items():
        path = run_dir / f"{table}-00000-of-00001.jsonl"
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
        os.utime(path, (MTIME, MTIME))
    return run_dir


@pytest.fixture(params=["duckdb", "postgresql"])
def target(request, tmp_path):
    """(kind, warehouse URL, rows(table)) of a migrated, empty warehouse."""
    if request.param == "duckdb":
        path = tmp_path / "w.duckdb"
        url, rows = f"duckdb:{path}", lambda table: duckdb_rows(path, table)
    else:
        base_url, schema = request.getfixturevalue("pg_schema")
        url = schema_url(base_url, schema)
        rows = lambda table: postgres_rows(url, table)  # noqa: E731
    warehouse_for(url).migrate()
    return request.param, url, rows


def dead_letters(rows) -> dict:
    return {(r[0], r[1], r[2]): r for r in rows("dead_letters")}


def test_refused_rows_are_dead_letters_with_the_warehouses_error_and_the_rest_lands(target, tmp_path):
    kind, url, rows = target
    run_dir = write_run(tmp_path / "run", kind)
    warehouse = warehouse_for(url)
    staged = warehouse.land(run_dir)

    assert sorted(r[0] for r in rows("events")) == ["e1", "e3"]
    assert [r[0] for r in rows("journeys")] == ["j1"]
    assert [(r[0], r[6]) for r in rows("page_views")] == [("j1", 1)]
    assert len(rows("journey_stats_daily")) == 1 and rows("customer_devices") == [("a1", "a1")]
    assert staged["events"] == 2 and staged["dead_letters"] == 1 + 4
    assert sorted(r.table for r in warehouse.refused) == ["events", "events", "journeys", "page_views"]

    letters = dead_letters(rows)
    assert len(letters) == 5
    decoded = letters[("file:/data/day.jsonl", 0, 5)]
    assert decoded[4] == "invalid_json"
    refused = {r: letter for r, letter in letters.items() if letter[4] == REASON}
    assert len(refused) == 4
    # An event keeps its input's origin: that input became a dead letter after all.
    e2 = refused[("file:/data/day.jsonl", 0, 2)]
    assert e2[3] == datetime.fromtimestamp(MTIME, timezone.utc).isoformat()  # received_at: the run file's time
    assert e2[5].startswith("events: ") and "json" in e2[5].lower()  # the warehouse's own words
    assert '"event_id": "e2"' in e2[6] and SECRET not in e2[6]  # payload: the row as JSON, masked
    if kind == "duckdb":  # partition 2^40 is no origin to keep: landing:events and a hash of the row
        (e4,) = [letter for key, letter in refused.items() if key[0] == "landing:events"]
        assert "out of range" in e4[5] and "INT32" in e4[5]
    else:
        e4 = refused[("file:/data/day.jsonl", 0, 4)]
        assert "0x00" in e4[5] or "NUL" in e4[5]
        assert "\x00" not in e4[6] and "\\u0000" in e4[6]  # storable: the NUL written as an escape
    (j2,) = [letter for key, letter in refused.items() if key[0] == "landing:journeys"]
    assert "out of range" in j2[5] and '"journey_id": "j2"' in j2[6]
    (view,) = [letter for key, letter in refused.items() if key[0] == "landing:page_views"]
    assert "yesterday" in view[5] and SECRET not in view[6] and SECRET not in view[5]
    for letter in refused.values():
        assert "\x00" not in letter[5] + letter[6]


def test_landing_the_same_run_again_changes_nothing(target, tmp_path):
    kind, url, rows = target
    run_dir = write_run(tmp_path / "run", kind)
    warehouse_for(url).land(run_dir)
    before = {table: rows(table) for table in (*LANDED, "dead_letters")}
    again = warehouse_for(url)
    again.land(run_dir)
    assert {table: rows(table) for table in (*LANDED, "dead_letters")} == before
    assert len(again.refused) == 4


def test_a_run_without_bad_rows_refuses_nothing(target, tmp_path):
    kind, url, rows = target
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "events-00000-of-00001.jsonl").write_text(json.dumps(event("e1", 1)) + "\n")
    warehouse = warehouse_for(url)
    assert warehouse.land(run_dir)["events"] == 1
    assert warehouse.refused == () and rows("dead_letters") == []


def test_of_two_rows_that_clash_on_a_key_the_second_is_refused(target, tmp_path):
    """A constraint, not a cast: two dead letters of one origin (a run file written twice over)."""
    kind, url, rows = target
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    letter = {"source": "file:/x.jsonl", "partition": 0, "offset": 7, "received_at": T0, "reason": "empty",
              "detail": "", "payload": ""}
    (run_dir / "dead_letters-00000-of-00001.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in (letter, {**letter, "reason": "invalid_json"})))
    warehouse = warehouse_for(url)
    warehouse.land(run_dir)
    letters = dead_letters(rows)
    assert letters[("file:/x.jsonl", 0, 7)][4] == "empty"  # the first wins, as first-read-wins elsewhere
    ((key, refused),) = [(key, row) for key, row in letters.items() if key[0] == "landing:dead_letters"]
    assert refused[4] == REASON and ("duplicate" in refused[5] or "unique" in refused[5].lower())
    assert '"reason": "invalid_json"' in refused[6]


def test_a_lock_the_landing_waits_for_in_vain_fails_it_and_leaves_nothing_behind(pg_schema, tmp_path):
    base_url, schema = pg_schema
    url = schema_url(base_url, schema)
    warehouse_for(url).migrate()
    run_dir = write_run(tmp_path / "run", "postgresql")  # bad rows too: a lock error is not theirs
    impatient = f"{url}%20-clock_timeout%3D300"  # options=-csearch_path=... -clock_timeout=300
    with psycopg.connect(url) as holder:
        holder.execute("LOCK TABLE journeys IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(psycopg.errors.LockNotAvailable) as raised:
            warehouse_for(impatient).land(run_dir)
    assert failure(raised.value)[0] == 5  # as any PostgreSQL operational failure: one line, exit 5
    assert postgres_rows(url, "events") == [] and postgres_rows(url, "dead_letters") == []


def test_a_permission_error_fails_the_landing_and_leaves_nothing_behind(pg_schema, tmp_path):
    base_url, schema = pg_schema
    url = schema_url(base_url, schema)
    warehouse_for(url).migrate()
    role = f"r_{schema}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute(f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {role}")
        admin.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA {schema} TO {role}")
        admin.execute(f"REVOKE INSERT ON journeys FROM {role}")
    try:
        parts = urlsplit(url)
        limited = urlunsplit(parts._replace(netloc=f"{role}@{parts.hostname}:{parts.port}"))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            warehouse_for(limited).land(write_run(tmp_path / "run", "postgresql"))
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")
    assert postgres_rows(url, "events") == [] and postgres_rows(url, "dead_letters") == []


def test_an_unreachable_or_locked_warehouse_still_fails_with_its_clear_error(tmp_path):
    run_dir = write_run(tmp_path / "run", "postgresql")
    with pytest.raises(psycopg.OperationalError) as raised:
        warehouse_for("postgresql://journeys@127.0.0.1:1/journeys?connect_timeout=2").land(run_dir)
    code, line = failure(raised.value)
    assert code == 5 and line.startswith("PostgreSQL cannot be reached")

    path = tmp_path / "held.duckdb"
    warehouse_for(f"duckdb:{path}").migrate()
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
                               "print('held', flush=True); time.sleep(60)", str(path)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(duckdb.IOException) as raised:
            warehouse_for(f"duckdb:{path}").land(run_dir)
    finally:
        holder.kill()
        holder.wait()
    code, line = failure(raised.value)
    assert code == 6 and "lock" in line


def test_the_run_summary_counts_a_refused_event_as_a_dead_letter():
    """input 10 = processed 9 + duplicates 0 + dead letters 1 before; an event refused: 8 + 0 + 2."""
    summary = RunSummary(input=10, processed=9, duplicates=0, dead_letters=1,
                         dead_letter_reasons={"invalid_json": 1}, journeys=3)
    refused = [Refusal("events", {}), Refusal("journeys", {}), Refusal("page_views", {}), Refusal("page_views", {})]
    after = with_refusals(summary, refused)
    assert (after.processed, after.dead_letters, after.balanced) == (8, 2, True)
    assert after.dead_letter_reasons == {"invalid_json": 1, REASON: 1}
    assert after.refused_rows == {"journeys": 1, "page_views": 2}
    assert after.lines()[0] == "input 10 = processed 8 + duplicates 0 + dead letters 2 (ok)"
    assert "  landing refused 2 page_views row(s): dead letters landing_failed (computed, not inputs)" in after.lines()
    assert with_refusals(summary, ()) is summary

