"""A bounded Kafka run killed after writing but before committing offsets.

The re-run reads the same messages again (the offsets were not committed)
and the warehouse upserts absorb them: the tables equal a clean run's.
"""
import os
import subprocess
import sys
import uuid

import duckdb
import pytest
from support.kafka_helpers import topics_toml

from journeys.commands.produce import MIXED, publish
from journeys.core.config import Config
from journeys.generators.synthetic import generate_events
from journeys.pipelines.run import FAULT_ENV, FAULT_EXIT_CODE

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
TABLES = ("events", "dead_letters", "journeys", "page_views", "friction_events")


def write_config(path, topics, group):
    path.write_text(topics_toml(topics, group))
    return str(path)


def journeys_run(bootstrap, warehouse, config, tmp_path, fault=None):
    env = {**os.environ}
    env.pop(FAULT_ENV, None)
    if fault:
        env[FAULT_ENV] = fault
    return subprocess.run(
        [sys.executable, "-m", "journeys.commands.cli", "run", "--source", f"kafka:{bootstrap}",
         "--warehouse", f"duckdb:{warehouse}", "--config", config, "--output-dir", str(tmp_path / "runs")],
        env=env, capture_output=True, text=True, timeout=300)


def snapshot(warehouse):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {t: sorted(map(str, con.execute(f"SELECT * FROM {t}").fetchall())) for t in TABLES}
    finally:
        con.close()


def test_crash_between_write_and_commit_then_rerun_equals_a_clean_run(kafka_topics, tmp_path):
    bootstrap = kafka_topics["bootstrap"]
    topics = Config.load(topics__web=kafka_topics["web"], topics__app=kafka_topics["app"],
                         topics__chat=kafka_topics["chat"]).topics
    assert publish(bootstrap, generate_events(1_500, seed=21), topics, framing=MIXED).sent == 1_500

    crashed_config = write_config(tmp_path / "crashed.toml", kafka_topics, f"crash-{uuid.uuid4().hex[:8]}")
    crashed = tmp_path / "crashed.duckdb"
    first = journeys_run(bootstrap, crashed, crashed_config, tmp_path, fault="after_land")
    assert first.returncode == FAULT_EXIT_CODE, first.stderr
    assert snapshot(crashed)["events"]  # the write happened before the crash

    second = journeys_run(bootstrap, crashed, crashed_config, tmp_path)
    assert second.returncode == 0, second.stderr
    assert "input 1500 =" in second.stdout  # nothing was committed: the same messages again

    clean_config = write_config(tmp_path / "clean.toml", kafka_topics, f"clean-{uuid.uuid4().hex[:8]}")
    clean = tmp_path / "clean.duckdb"
    assert journeys_run(bootstrap, clean, clean_config, tmp_path).returncode == 0
    assert snapshot(crashed) == snapshot(clean)

    third = journeys_run(bootstrap, crashed, crashed_config, tmp_path)
    assert "input 0 =" in third.stdout  # committed after the successful write
