"""A bounded Kafka run landed in chunks (``[kafka] max_events_per_chunk``) equals one run over it all.

2,500 synthetic events (seed 31) and 3 malformed messages on 3 topics of 3
partitions, 2,503 messages: at most 500 a chunk makes ceil(2503/500) = 6
chunks. The chunked run's warehouse equals a single-chunk run's in every
contract table (support.warehouse_snapshots), its summary is the sum of six
balanced chunks with the same input and dead letters, and the consumer group
ends at the end offsets; the daily rows are recomputed once, after the last
chunk. A run killed between chunks 1 and 2 has landed and committed chunk 1
(its planned messages, at most 500); its re-run reads the rest and the
tables equal the single-chunk run's again. One killed after its last chunk,
before the daily rows, leaves its days pending: the next run recomputes
them. A chunk failing a
``fail`` expectation (on other topics: 1,200 events and then one CSAT of 9)
stops the run with exit 4: the chunks before it landed and committed, that
one and those after it not.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import duckdb
import pytest
from kafka import KafkaProducer
from support.kafka_helpers import topics_toml
from support.warehouse_snapshots import differences, duckdb_snapshot

from journeys.commands.produce import MIXED, publish
from journeys.core.config import Config
from journeys.generators.synthetic import generate_events
from journeys.pipelines.bounded_chunks import plan_chunks
from journeys.pipelines.run import FAULT_ENV, FAULT_EXIT_CODE, RunRequest, run_ingest
from journeys.pipelines.sources import KAFKA, Source
from journeys.servers.kafka_broker import create_topics
from journeys.transforms.kafka_read import plan_bounded_read

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

EVENTS, MALFORMED, CHUNK = 2_500, (b"", b"\x07not framed", b"\x00\x00\x00"), 500
MESSAGES = EVENTS + len(MALFORMED)


def group_config(path, topics, max_events, extra=""):
    """A config file: the topics, a fresh consumer group, and ``max_events`` a chunk."""
    path.write_text(topics_toml(topics, f"chunks-{uuid.uuid4().hex[:8]}", f"max_events_per_chunk = {max_events}\n"
                                + extra))
    return path


def run_cli(bootstrap, warehouse, config, runs, fault=None):
    env = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
    if fault:
        env[FAULT_ENV] = fault
    return subprocess.run(
        [sys.executable, "-m", "journeys.commands.cli", "run", "--source", f"kafka:{bootstrap}",
         "--warehouse", f"duckdb:{warehouse}", "--config", str(config), "--output-dir", str(runs)],
        env=env, capture_output=True, text=True, timeout=900)


def planned(bootstrap, config_path):
    """What a run with this config would read now: from the group's committed offsets to the end."""
    config = Config.load(config_path)
    return plan_bounded_read(bootstrap, config.topics.by_channel().values(), config.kafka)


def pending(bootstrap, config_path):
    """Per partition, the messages after the group's committed offset (0 everywhere: all committed)."""
    return {(r.topic, r.partition): r.size for r in planned(bootstrap, config_path)}


@pytest.fixture(scope="module")
def published(kafka_bootstrap, tmp_path_factory):
    """(topics, the single-chunk run's summary and warehouse snapshot) over this module's own topics."""
    folder = tmp_path_factory.mktemp("chunks")
    suffix = uuid.uuid4().hex[:12]
    topics = {name: f"chunks-{suffix}.{name}" for name in ("web", "app", "chat", "dead_letters")}
    create_topics(kafka_bootstrap, topics.values(), partitions=3)
    topics["bootstrap"] = kafka_bootstrap
    events = generate_events(EVENTS, seed=31)
    assert publish(kafka_bootstrap, events, Config.load(topics__web=topics["web"], topics__app=topics["app"],
                                                        topics__chat=topics["chat"]).topics, MIXED).sent == EVENTS
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    for n, payload in enumerate(MALFORMED):
        producer.send(topics["web"], key=f"bad-{n}".encode(), value=payload)
    producer.flush()
    producer.close()

    config = group_config(folder / "whole.toml", topics, 1_000_000)
    url = f"duckdb:{folder / 'whole.duckdb'}"
    whole = run_ingest(RunRequest(Source(KAFKA, kafka_bootstrap), folder / "runs", url, config=Config.load(config)))
    assert whole.input == MESSAGES and whole.dead_letters == len(MALFORMED) and whole.balanced
    snapshot = duckdb_snapshot(url)
    assert all(snapshot[t] for t in ("journeys", "page_views", "friction_events", "dead_letters", "page_stats_daily"))
    return topics, whole, snapshot


def test_chunks_land_the_same_tables_as_one_run(published, tmp_path):
    topics, whole, want = published
    bootstrap = topics["bootstrap"]
    config = group_config(tmp_path / "chunks.toml", topics, CHUNK)
    url = f"duckdb:{tmp_path / 'chunks.duckdb'}"
    summary = run_ingest(RunRequest(Source(KAFKA, bootstrap), tmp_path / "runs", url, config=Config.load(config)))

    assert not differences(duckdb_snapshot(url), want)
    # The sum over six chunks, each balanced: the same messages and dead letters. An event whose first
    # copy an earlier chunk landed is processed again (the stored copy wins), not counted a duplicate.
    assert summary.balanced
    assert (summary.input, summary.dead_letters, summary.dead_letter_reasons) == (
        whole.input, whole.dead_letters, whole.dead_letter_reasons)
    assert summary.processed + summary.duplicates == whole.processed + whole.duplicates
    with duckdb.connect(url[len("duckdb:"):], read_only=True) as con:
        runs = [r for (r,) in con.execute("SELECT DISTINCT run_id FROM quality_runs ORDER BY run_id").fetchall()]
        assert con.execute("SELECT count(*) FROM pending_days").fetchone() == (0,)
        # One quality run per chunk; the daily rows, recomputed once after the last chunk, complete its
        # aggregates result (every daily expectation is in the last chunk's row only).
        tables = [{e["table"] for e in json.loads(details)["expectations"]} for (details,) in con.execute(
            "SELECT details FROM quality_runs WHERE suite = 'aggregates' ORDER BY run_id").fetchall()]
    assert len(runs) == -(-MESSAGES // CHUNK) == 6
    assert all(run_id.endswith(f"-chunk{n:04d}") for n, run_id in enumerate(runs, 1))
    assert all("journey_stats_daily" not in t for t in tables[:-1])
    assert {"journeys", "journey_stats_daily", "day_totals"} <= tables[-1]
    assert set(pending(bootstrap, config).values()) == {0}  # the group is at the end offsets


def test_a_crash_between_chunks_then_a_rerun_gives_the_same_tables(published, tmp_path):
    topics, _, want = published
    bootstrap = topics["bootstrap"]
    config = group_config(tmp_path / "crash.toml", topics, CHUNK)
    first_chunk = sum(r.size for r in plan_chunks(planned(bootstrap, config), CHUNK)[0])
    warehouse = tmp_path / "crash.duckdb"
    first = run_cli(bootstrap, warehouse, config, tmp_path / "runs", fault="between_chunks")
    assert first.returncode == FAULT_EXIT_CODE, first.stderr
    assert sum(pending(bootstrap, config).values()) == MESSAGES - first_chunk  # chunk 1 landed and committed
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(DISTINCT run_id) FROM quality_runs").fetchone()[0] == 1
        assert con.execute("SELECT count(*) FROM pending_days").fetchone()[0] > 0  # its days wait for the run's end

    second = run_cli(bootstrap, warehouse, config, tmp_path / "runs")
    assert second.returncode == 0, second.stderr
    assert f"input {MESSAGES - first_chunk} =" in second.stdout and "(ok)" in second.stdout
    assert not differences(duckdb_snapshot(f"duckdb:{warehouse}"), want)
    assert set(pending(bootstrap, config).values()) == {0}


def test_a_crash_before_the_days_are_recomputed_leaves_them_to_the_next_run(published, tmp_path):
    """Every chunk landed and committed, then killed before the daily rows: they stay pending, and the
    next run, with nothing left to read, recomputes them; the tables equal the single-chunk run's."""
    topics, _, want = published
    bootstrap = topics["bootstrap"]
    config = group_config(tmp_path / "settle.toml", topics, CHUNK)
    warehouse = tmp_path / "settle.duckdb"
    first = run_cli(bootstrap, warehouse, config, tmp_path / "runs", fault="before_settle")
    assert first.returncode == FAULT_EXIT_CODE, first.stderr
    assert set(pending(bootstrap, config).values()) == {0}  # every chunk committed
    with duckdb.connect(str(warehouse), read_only=True) as con:
        days = con.execute("SELECT count(*) FROM pending_days").fetchone()[0]
        daily = con.execute("SELECT count(*) FROM journey_stats_daily").fetchone()[0]
    assert days > 0 and daily == 0

    second = run_cli(bootstrap, warehouse, config, tmp_path / "runs")
    assert second.returncode == 0, second.stderr
    assert "input 0 =" in second.stdout
    assert not differences(duckdb_snapshot(f"duckdb:{warehouse}"), want)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM pending_days").fetchone() == (0,)


def test_a_failing_chunk_stops_the_run_and_keeps_the_chunks_before(kafka_topics, tmp_path):
    """1,200 events then one CSAT of 9 (policy ``fail``): 1,201 messages, 3 chunks of at most 500."""
    bootstrap = kafka_topics["bootstrap"]
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"version": 1, "suites": {
        "events": {"default": "quarantine", "expectations": {"expect_column_values_to_be_between:csat_score": "fail"}},
        "aggregates": {"default": "fail", "expectations": {}}}}))
    config = group_config(tmp_path / "fail.toml", kafka_topics, CHUNK, f'\n[quality]\npolicy_path = "{policy}"\n')
    bad = {"event_id": "chunks-csat-9", "event_type": "csat", "channel": "chat", "event_time": "2026-01-05T10:00:00Z",
           "anonymous_id": "chunks-v9", "conversation_id": "chunks-c9", "csat_score": 9}
    topics = Config.load(config).topics
    assert publish(bootstrap, generate_events(1_200, seed=32), topics, MIXED).sent == 1_200
    before = planned(bootstrap, config)
    assert publish(bootstrap, [bad], topics, MIXED).sent == 1
    ranges = planned(bootstrap, config)
    [(where, offset)] = [(n, r.stop - 1) for n, (r, old) in enumerate(zip(ranges, before)) if r.stop != old.stop]
    chunks = plan_chunks(ranges, CHUNK)
    [failing] = [k for k, chunk in enumerate(chunks, 1) if chunk[where].start <= offset < chunk[where].stop]

    warehouse = tmp_path / "fail.duckdb"
    failed = run_cli(bootstrap, warehouse, config, tmp_path / "runs")
    assert failed.returncode == 4, failed.stderr
    assert "quality gate failed" in failed.stderr
    if failing > 1:
        assert f"in chunk {failing} of {len(chunks)}: the {failing - 1} before it were landed" in failed.stderr
    # The chunks before are landed and committed; the failing one and those after are not.
    assert sum(pending(bootstrap, config).values()) == sum(r.size for chunk in chunks[failing - 1:] for r in chunk)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(DISTINCT run_id) FROM quality_runs").fetchone()[0] == failing - 1
        assert con.execute("SELECT count(*) FROM events WHERE event_id = 'chunks-csat-9'").fetchone()[0] == 0
        landed = con.execute("SELECT count(*) FROM events").fetchone()[0]
    assert (landed > 0) == (failing > 1)
