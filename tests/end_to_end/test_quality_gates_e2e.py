"""Quality gates in real runs: the default policy keeps plausible-but-odd events, quarantine lands dead
letters, a failing gate commits nothing, and `journeys quality` exits as the policy says."""
import json

import duckdb
import pytest
from support.kafka_helpers import topics_toml
from support.paths import SCENARIOS
from support.quality_events import STRICT_POLICY

from journeys.commands.cli import main
from journeys.commands.produce import MIXED, publish
from journeys.core.config import Config
from journeys.generators.synthetic import generate_events

pytestmark = [pytest.mark.slow]


def event(n, **fields):
    return {"event_id": f"q{n}", "event_type": "csat", "channel": "chat", "event_time": "2026-01-05T10:00:00Z",
            "anonymous_id": f"v{n}", "conversation_id": f"c{n}", "csat_score": 4, **fields}


def policy_config(tmp_path, policy, name="policy.toml"):
    config = tmp_path / name
    config.write_text(f'[quality]\npolicy_path = "{policy}"\n')
    return config


def test_the_default_policy_keeps_every_event_the_contract_accepts(tmp_path, capsys):
    web = {"channel": "web", "anonymous_id": "ck-1", "page_url": "https://shop.example.com/p"}
    events = [
        {"event_id": "w1", "event_type": "page_view", "event_time": "2026-01-05T10:00:00Z", **web},
        {"event_id": "w2", "event_type": "click", "event_time": "2026-01-05T10:00:05Z", "element_id": "buy",
         "x": -1, "y": 10, **web},  # a click left of the viewport: a real tracker sends it
        {"event_id": "w3", "event_type": "purchase", "event_time": "2026-01-05T10:00:30Z", "order_id": "o1",
         "revenue": -5.0, **web},  # a refund booked as a purchase
        event(4, csat_score=7)]  # a 0-10 survey scale
    source = tmp_path / "events.jsonl"
    source.write_text("".join(json.dumps(e) + "\n" for e in events))
    warehouse = tmp_path / "w.duckdb"
    assert main(["run", "--source", f"file:{source}", "--warehouse", f"duckdb:{warehouse}",
                 "--output-dir", str(tmp_path / "runs")]) == 0
    assert "input 4 = processed 4 + duplicates 0 + dead letters 0 (ok)" in capsys.readouterr().out
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM dead_letters").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM events").fetchone()[0] == 4
        assert con.execute("SELECT event_count, converted FROM journeys WHERE customer_id = 'ck-1'"
                           ).fetchall() == [(3, True)]
        success, details = con.execute("SELECT success, details FROM quality_runs WHERE suite = 'events'"
                                       ).fetchone()
        aggregates = con.execute("SELECT details FROM quality_runs WHERE suite = 'aggregates'").fetchone()[0]
    aggregates = aggregates if isinstance(aggregates, dict) else json.loads(aggregates)
    # the CSAT of 7 makes an average above 5: reported too, so the run lands
    assert [(e["key"], e["policy"]) for e in aggregates["expectations"] if not e["success"]] == [
        ("expect_column_values_to_be_between:avg_csat", "report")]
    details = details if isinstance(details, dict) else json.loads(details)
    failed = {e["key"]: (e["policy"], e["unexpected_count"])
              for e in details["expectations"] if not e["success"]}
    assert success is False and details["quarantined"] == 0
    assert failed == {"expect_column_values_to_be_between:x": ("report", 1),
                      "expect_column_values_to_be_between:revenue": ("report", 1),
                      "expect_column_values_to_be_between:csat_score": ("report", 1)}


def test_quality_exits_as_the_policy_says(tmp_path, capsys):
    # The scenario's events are from January 2026: freshness fails, with policy report.
    warehouse = tmp_path / "w.duckdb"
    assert main(["run", "--source", f"file:{SCENARIOS / 'cross_channel.jsonl'}", "--warehouse",
                 f"duckdb:{warehouse}", "--output-dir", str(tmp_path / "runs")]) == 0
    capsys.readouterr()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert dict(con.execute("SELECT suite, success FROM quality_runs").fetchall())["freshness"] is False
    assert main(["quality", "--warehouse", f"duckdb:{warehouse}"]) == 0
    out = capsys.readouterr().out
    assert "warning: freshness: freshness:event_time failed (policy report)" in out
    # The same stored results judged by a policy that makes freshness fatal.
    strict = json.loads(STRICT_POLICY.read_text())
    strict["checks"]["freshness"]["policy"] = "fail"
    policy = tmp_path / "fresh.json"
    policy.write_text(json.dumps(strict))
    assert main(["quality", "--warehouse", f"duckdb:{warehouse}",
                 "--config", str(policy_config(tmp_path, policy))]) == 4
    out = capsys.readouterr().out
    assert "error: freshness: freshness:event_time failed (policy fail)" in out


def test_implausible_values_are_quarantined_and_results_land(tmp_path, capsys):
    source = tmp_path / "events.jsonl"
    source.write_text("".join(json.dumps(e) + "\n" for e in [event(1), event(2, csat_score=9), event(3)]))
    warehouse = tmp_path / "w.duckdb"
    assert main(["run", "--source", f"file:{source}", "--warehouse", f"duckdb:{warehouse}",
                 "--config", str(policy_config(tmp_path, STRICT_POLICY)), "--output-dir", str(tmp_path / "runs")]) == 0
    assert "input 3 = processed 2 + duplicates 0 + dead letters 1 (ok)" in capsys.readouterr().out
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT reason FROM dead_letters").fetchall() == [
            ("quality:expect_column_values_to_be_between:csat_score",)]
        suites = dict(con.execute("SELECT suite, success FROM quality_runs").fetchall())
    assert suites["events"] is False and suites["aggregates"] is True and set(suites) >= {"volume", "freshness"}
    html = tmp_path / "quality"
    # events failed, with policy quarantine: a warning, not an error
    assert main(["quality", "--warehouse", f"duckdb:{warehouse}", "--html", str(html)]) == 0
    assert ("warning: events: expect_column_values_to_be_between:csat_score failed (policy quarantine)"
            in capsys.readouterr().out)
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
    assert "quality gate failed, nothing of the failed batch was written or committed" in capsys.readouterr().err
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in ("events", "journeys", "dead_letters", "quality_runs"):
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
    # Offsets were not committed: with a quarantining policy the same 301 messages are read again.
    config.write_text(config.read_text().replace(f'policy_path = "{policy}"', f'policy_path = "{STRICT_POLICY}"'))
    assert main(args) == 0
    assert (f"input 301 = processed {300 - duplicates} + duplicates {duplicates} + dead letters 1 (ok)"
            in capsys.readouterr().out)
