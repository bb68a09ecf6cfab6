"""Python Beam pipelines run on Apache Flink from the Maven jars: embedded ([local]) and on a standalone cluster.

Each test runs its job in a private network namespace (support.netns) because
Beam's servers listen on every interface; the jobs (support.flink_jobs) start
their own Kafka broker and Flink cluster in there. Timings go to the report
(``pytest -rA`` shows them) and deploy/flink/README.md.
"""
from __future__ import annotations

import pytest
from support.netns import call_in_netns, netns_unavailable

from journeys.servers.flink import ensure_flink_jars

pytestmark = [pytest.mark.slow, pytest.mark.flink, pytest.mark.kafka]

JOB_TIMEOUT_S = 420
RECORDS_PER_KEY = {"web": 13, "app": 8, "chat": 5}
PARTITIONS = 3


@pytest.fixture(scope="module", autouse=True)
def flink_jars():
    reason = netns_unavailable()
    if reason:
        pytest.skip(reason)
    return ensure_flink_jars()  # the namespace has no network: fetch first (about 150 MB, once)


def _report(record_property, timings: dict[str, float]) -> None:
    for name, seconds in timings.items():
        record_property(name, round(seconds, 1))
    print("timings (s):", {name: round(seconds, 1) for name, seconds in timings.items()})


def _counts(rows: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:  # one row per key and window firing; a key fired twice would show as a sum here
        counts[row["key"]] = counts.get(row["key"], 0) + row["count"]
    return counts


def test_bounded_pipeline_on_embedded_flink(record_property):
    lines = ["web app web", "chat web", "app"]
    result = call_in_netns("support.flink_jobs:bounded_word_counts", {"lines": lines}, timeout_s=JOB_TIMEOUT_S)
    _report(record_property, {"job_s": result["job_s"]})
    assert result["counts"] == {"web": 3, "app": 2, "chat": 1}


def test_streaming_kafka_sdf_on_embedded_flink_stops_when_idle(record_property):
    result = call_in_netns("support.flink_jobs:streaming_kafka_counts",
                           {"records_per_key": RECORDS_PER_KEY, "partitions": PARTITIONS, "stop": "idle"},
                           timeout_s=JOB_TIMEOUT_S)
    _report(record_property, result["timings"])
    assert sum(result["end_offsets"]) == sum(RECORDS_PER_KEY.values())
    assert _counts(result["rows"]) == RECORDS_PER_KEY
    # Every key fired exactly once: its window closed when the watermark passed it, no early or repeated panes.
    assert len(result["rows"]) == len(RECORDS_PER_KEY)
    # The idle timeout finished every restriction, so the streaming job ended by itself.
    assert result["finished_by_itself"], result["final_state"]


def test_streaming_kafka_sdf_on_standalone_cluster_with_parallelism_2(record_property):
    result = call_in_netns("support.flink_jobs:streaming_kafka_counts",
                           {"records_per_key": RECORDS_PER_KEY, "partitions": PARTITIONS, "stop": "offsets",
                            "cluster": True, "parallelism": 2},
                           timeout_s=JOB_TIMEOUT_S)
    _report(record_property, result["timings"])
    assert _counts(result["rows"]) == RECORDS_PER_KEY
    assert len(result["rows"]) == len(RECORDS_PER_KEY)
    assert result["finished_by_itself"], result["final_state"]
    assert result["job_parallelism"] == [2]
    # The session cluster listened on loopback only, and stop() left no Flink process behind.
    assert result["cluster_listen"], "no listening sockets seen for the JobManager and TaskManager"
    assert all(address.startswith(("127.0.0.1:", "[::ffff:127.0.0.1]:")) for address in result["cluster_listen"])
    assert result["cluster_pids_left"] == []
