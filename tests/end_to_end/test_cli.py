"""The command line, run in-process against the real broker."""
import json

import duckdb
import pytest
from rich.console import Console
from support.kafka_helpers import topics_toml
from support.paths import REFERENCE

from journeys.commands.cli import main
from journeys.commands.demo import BAD_MESSAGES, DemoRequest, run_demo

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def write_config(tmp_path, topics):
    path = tmp_path / "journeys.toml"
    path.write_text(topics_toml(topics))
    return str(path)


def test_produce_from_jsonl_then_run(kafka_topics, tmp_path, capsys):
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join([
        json.dumps({"event_id": "c1", "event_type": "page_view", "channel": "web",
                    "event_time": "2026-01-05T10:00:00Z", "anonymous_id": "a1", "page_url": "https://x.test/"}),
        json.dumps({"event_id": "c2", "event_type": "screen_view", "channel": "app",
                    "event_time": 1767607200000, "anonymous_id": "d1", "screen_name": "Home"}),
        "{not json",
        json.dumps({"event_id": "c3", "event_type": "csat", "channel": "chat", "event_time": 1767607200000,
                    "anonymous_id": "v1", "conversation_id": "k1", "csat_score": 4}),
    ]) + "\n")
    config = write_config(tmp_path, kafka_topics)
    bootstrap = kafka_topics["bootstrap"]

    assert main(["produce", "--bootstrap", bootstrap, "--from", str(events), "--config", config]) == 1
    out = capsys.readouterr().out
    assert "sent 3 events" in out and "record 3: invalid_json" in out

    warehouse = tmp_path / "w.duckdb"
    assert main(["run", "--source", f"kafka:{bootstrap}", "--warehouse", f"duckdb:{warehouse}",
                 "--config", config, "--output-dir", str(tmp_path / "runs")]) == 0
    assert "input 3 = processed 3 + duplicates 0 + dead letters 0 (ok)" in capsys.readouterr().out
    ids = duckdb.connect(str(warehouse)).execute("SELECT event_id FROM events ORDER BY 1").fetchall()
    assert ids == [("c1",), ("c2",), ("c3",)]


def test_bad_arguments_get_clear_errors(tmp_path, capsys):
    assert main(["run", "--source", "s3:bucket"]) == 2
    assert "expected kafka:HOST:PORT or file:PATH_OR_GLOB" in capsys.readouterr().err
    assert main(["run", "--source", f"file:{tmp_path}/none-*.jsonl"]) == 2
    assert "no file matches" in capsys.readouterr().err


def test_kafka_start_status_stop(tmp_path, capsys):
    data_dir = str(tmp_path / "kafka")
    assert main(["kafka", "status", "--data-dir", data_dir]) == 3
    try:
        assert main(["kafka", "start", "--data-dir", data_dir]) == 0
        assert main(["kafka", "status", "--data-dir", data_dir]) == 0
        assert "running on 127.0.0.1:" in capsys.readouterr().out
    finally:
        assert main(["kafka", "stop", "--data-dir", data_dir]) == 0
    assert main(["kafka", "status", "--data-dir", data_dir]) == 3


def test_demo_runs_the_whole_path(tmp_path):
    lines = []
    console = Console(record=True, width=120)
    summary = run_demo(DemoRequest(workdir=tmp_path, events=2_000, seed=3), say=lines.append, console=console)
    assert summary.balanced
    assert summary.input == 2_000 + len(BAD_MESSAGES)
    assert summary.dead_letters == len(BAD_MESSAGES)
    assert summary.processed + summary.duplicates == 2_000
    con = duckdb.connect(str(tmp_path / "journeys.duckdb"))
    assert con.execute("SELECT count(*) FROM events").fetchone()[0] == summary.processed
    assert con.execute("SELECT count(DISTINCT channel) FROM events").fetchone()[0] == 3
    assert any(line.startswith("input ") for line in lines)
    journeys = con.execute("SELECT count(*) FROM journeys").fetchone()[0]
    assert journeys == summary.journeys > 0
    assert con.execute("SELECT count(*) FROM page_views").fetchone()[0] == summary.page_views > 0
    assert con.execute("SELECT count(*) FROM friction_events").fetchone()[0] == summary.friction_points > 0
    text = console.export_text()
    assert f"{journeys} journeys of " in text
    assert "Top friction points" in text and "Slowest pages" in text and "Dead letters" in text


def test_import_snowplow_then_run(tmp_path, capsys):

    csv = REFERENCE / "snowplow" / "source" / "snowplow_web_events.csv"
    jsonl = tmp_path / "events.jsonl"
    assert main(["import", "snowplow", "--from", str(csv), "--to", str(jsonl)]) == 0
    assert "rows 160 = events 160 + skipped 0" in capsys.readouterr().out
    assert main(["run", "--source", f"file:{jsonl}", "--output-dir", str(tmp_path / "runs")]) == 0
    assert "input 160 = processed 157 + duplicates 3 + dead letters 0 (ok)" in capsys.readouterr().out
