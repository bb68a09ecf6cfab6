"""Issue 9: the same file re-run under another spelling of its path changes nothing (contract section 3)."""
import json
import os

import duckdb
import pytest

from journeys.commands.cli import main

pytestmark = [pytest.mark.slow]

EVENTS = [
    {"event_id": "s1", "event_type": "page_view", "channel": "web", "event_time": "2026-01-05T10:00:00Z",
     "anonymous_id": "ck-1", "page_url": "https://shop.example.com/"},
    {"event_id": "s2", "event_type": "page_view", "channel": "web", "event_time": "2026-01-05T10:00:20Z",
     "anonymous_id": "ck-1", "page_url": "https://shop.example.com/cart"},
    {"event_id": "s3", "event_type": "screen_view", "channel": "app", "event_time": "2026-01-05T11:00:00Z",
     "anonymous_id": "dev-1", "screen_name": "Home"},
]
# Tables that log each run rather than hold its data.
RUN_LOGS = ("quality_runs", "journeys_schema_migrations")


def all_tables(path):
    with duckdb.connect(str(path), read_only=True) as con:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                           "WHERE table_schema = current_schema() ORDER BY 1").fetchall()]
        return {name: sorted(map(repr, con.execute(f'SELECT * FROM "{name}"').fetchall()))
                for name in names if name not in RUN_LOGS}


def test_the_same_file_under_three_spellings_lands_the_same_rows(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    (data / "x.jsonl").write_text("\n".join([json.dumps(EVENTS[0]), "{broken", *map(json.dumps, EVENTS[1:])]) + "\n")
    warehouse = f"duckdb:{tmp_path / 'w.duckdb'}"
    other = tmp_path / "elsewhere"
    other.mkdir()

    def run(spelling, cwd):
        monkeypatch.chdir(cwd)
        assert main(["run", "--source", f"file:{spelling}", "--warehouse", warehouse,
                     "--output-dir", str(tmp_path / "runs")]) == 0
        return all_tables(tmp_path / "w.duckdb")

    first = run("x.jsonl", data)
    canonical = f"file:{os.path.realpath(data / 'x.jsonl')}"
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert con.execute("SELECT source, \"offset\", reason FROM dead_letters").fetchall() == [
            (canonical, 2, "invalid_json")]
        assert con.execute("SELECT event_id, source, \"offset\" FROM events ORDER BY 1").fetchall() == [
            ("s1", canonical, 1), ("s2", canonical, 3), ("s3", canonical, 4)]
    assert run("./x.jsonl", data) == first
    assert run(str(data / "x.jsonl"), other) == first
    assert run("../data/./x.jsonl", other) == first
    assert len(first["dead_letters"]) == 1 and len(first["events"]) == 3


def test_a_symlink_and_a_glob_read_the_file_once_under_its_real_path(tmp_path, monkeypatch):
    from journeys.transforms.file_read import file_source_key

    (tmp_path / "real.jsonl").write_text(json.dumps(EVENTS[0]) + "\n")
    os.symlink(tmp_path / "real.jsonl", tmp_path / "link.jsonl")
    monkeypatch.chdir(tmp_path)
    assert file_source_key("link.jsonl") == f"file:{os.path.realpath(tmp_path / 'real.jsonl')}"
    assert file_source_key("gs://bucket/day=1/x.jsonl") == "gs://bucket/day=1/x.jsonl"
    warehouse = tmp_path / "w.duckdb"
    assert main(["run", "--source", "file:*.jsonl", "--warehouse", f"duckdb:{warehouse}",
                 "--output-dir", str(tmp_path / "runs")]) == 0
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT event_id, source FROM events").fetchall() == [
            ("s1", f"file:{os.path.realpath(tmp_path / 'real.jsonl')}")]
