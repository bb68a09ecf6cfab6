"""Quality gates in real runs: quarantine lands dead letters, a failing gate commits nothing."""
import json

import duckdb
import pytest
from support.kafka_helpers import topics_toml

from journeys.commands.cli import main
from journeys.commands.produce import MIXED, publish
from journeys.core.config import Config
from journeys.generators.synthetic import generate_events

pytestmark = [pytest.mark.slow]


def event(n, **fields):
    return {"event_id": f"q{n}", "event_type": "csat", "channel": "chat", "event_time": "2026-01-05T10:00:00Z",
            "anonymous_id": f"v{n}", "conversation_id": f"c{n}", "csat_score": 4, **fields}


def test_implausible_values_are_quarantined_and_results_land(tmp_path, capsys):
    source = tmp_path / "events.jsonl"
    source.write_text("".join(json.dumps(e) + "\n" for e in [event(1), event(2, csat_score=9), event(3)]))
    warehouse = tmp_path / "w.duckdb"
    assert main(["run", "--source", f"file:{source}", "--warehouse", f"duckdb:{warehouse}",
                 "--output-dir", str(tmp_path / "runs")]) == 0
    assert "input 3 = processed 2 + duplicates 0 + dead letters 1 (ok)" in capsys.readouterr().out
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT reason FROM dead_letters").fetchall() == [
            ("quality:expect_column_values_to_be_between:csat_score",)]
        suites = dict(con.execute("SELECT suite, success FROM quality_runs").fetchall())
    assert suites["events"] is False and suites["aggregates"] is True and set(suites) >= {"volume", "freshness"}
    html = tmp_path / "quality"
    assert main(["quality", "--warehouse", f"duckdb:{warehouse}", "--html", str(html)]) == 4  # events failed
    page = (html / "index.html").read_text()
    assert "expect_column_values_to_be_between:csat_score" in page
    docs = html / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    assert docs.exists() and "events" in docs.read_text()  # GX's own Data Docs of the stored events
    validations = list((html / "gx" / "uncommitted" / "data_docs" / "local_site" / "validations").rglob("*.html"))
    assert validations


@pytest.mark.kafka
def test_a_failing_gate_writes_nothing_and_commits_no_offset(kafka_topics, tmp_path, capsys):
    bootstrap = kafka_topics["bootstrap"]
    config = tmp_path / "strict.toml"
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"version": 1, "suites": {
        "events": {"default": "quarantine",
                   "expectations": {"expect_column_values_to_be_between:csat_score": "fail"}},
        "aggregates": {"default": "fail", "expectations": {}}}}))
    config.write_text(topics_toml(kafka_topics, extra=f'[quality]\npolicy_path = "{policy}"\n'))
    topics = Config.load(config).topics
    synthetic = generate_events(300, seed=4)
    duplicates = len(synthetic) - len({e["event_id"] for e in synthetic})
    assert publish(bootstrap, synthetic + [event(9, csat_score=9)], topics, MIXED).sent == 301
    warehouse = tmp_path / "w.duckdb"
    args = ["run", "--source", f"kafka:{bootstrap}", "--warehouse", f"duckdb:{warehouse}", "--config", str(config),
            "--output-dir", str(tmp_path / "runs")]
    assert main(args) == 4
    assert "quality gate failed, nothing was written or committed" in capsys.readouterr().err
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in ("events", "journeys", "dead_letters", "quality_runs"):
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
    # Offsets were not committed: with the default policy the same 301 messages are read again.
    config.write_text(config.read_text().replace(f'policy_path = "{policy}"', ""))
    assert main(args) == 0
    assert (f"input 301 = processed {300 - duplicates} + duplicates {duplicates} + dead letters 1 (ok)"
            in capsys.readouterr().out)
