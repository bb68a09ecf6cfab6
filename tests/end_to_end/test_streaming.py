"""``journeys run --streaming`` on Flink gives the tables a bounded run gives over the same events.

Each case runs in a private network namespace (support.netns: Beam's servers
listen on every interface) with its own broker; the driver is a subprocess
(``python -m journeys.commands.cli run ... --streaming --runner FlinkRunner
--idle-timeout 10``). support.streaming_jobs produces half the synthetic
events, waits for a landed micro-batch, then produces a login that moves an
anonymous device to a known customer, the other half, and a page view days
older than anything else (beyond any lateness: its customer's journeys have
landed already). A bounded DirectRunner run over the same topics (another
consumer group) must give the same rows in every contract table.

Cases are combined to keep the runtime down (each pays a broker, a job server
JVM, a Flink start and several landings of about a minute under load):
(a, b, c, d) embedded Flink: the first half produced while the driver runs; the
driver alone SIGKILLed after its first landing (its job server and landing
process must die with it), the second half produced while it is down, then
restarted: it must land exactly the messages after the committed offsets; (e)
with (a, c, d): the standalone session cluster with parallelism 2, every
landing through the one lander (no two landings overlap), and (f) a partition
added to the web topic after the first landing, while the job runs
(``partition_discovery_s`` 2): the second half's messages keyed to it are read,
landed and committed by that same run. Every case ends with
nothing uncommitted and no process left in the namespace.
"""
from __future__ import annotations

import pytest
from support.netns import call_in_netns, netns_unavailable

from journeys.servers.flink import ensure_flink_jars

pytestmark = [pytest.mark.slow, pytest.mark.flink, pytest.mark.kafka]

JOB_TIMEOUT_S = 1500  # an upper bound: under load a case takes 5-9 min


@pytest.fixture(scope="module", autouse=True)
def flink_jars():
    reason = netns_unavailable()
    if reason:
        pytest.skip(reason)
    return ensure_flink_jars()  # the namespace has no network: fetch first


def _check(result: dict, record_property) -> None:
    for name, seconds in result["timings"].items():
        record_property(name, round(seconds, 1))
    record_property("max_wait_s", result["max_wait_s"])
    print("timings (s):", result["timings"], "micro-batches:", result["micro_batches"],
          "max wait for a row (s):", result["max_wait_s"], "restart:", result["restart"])
    assert result["exit_code"] == 0, result["output_tail"]
    assert result["differences"] == {}, result["differences"]
    assert result["rows"]["journeys"] > 10 and result["rows"]["page_views"] > 10, result["rows"]
    assert result["moved_device_customer"] == [result["login_user"]]
    assert result["summary"] and "(ok)" in result["summary"][0], result["output_tail"]
    assert result["overlapping_landings"] == [], "two landings at once: more than one lander"
    assert result["uncommitted"] == 0
    assert result["leftovers"] == {}, result["leftovers"]


def test_killed_and_restarted_streaming_on_embedded_flink_equals_a_bounded_run(record_property):
    """(a) produced while streaming, stopped by --idle-timeout; (b) SIGKILL after a landed micro-batch, events
    produced while down, restart from the committed offsets; (c) a late event; (d) a device moved by a login."""
    result = call_in_netns("support.streaming_jobs:streaming_equals_bounded",
                           {"n_events": 600, "produce_s": 4, "kill": True}, timeout_s=JOB_TIMEOUT_S)
    assert result["kills"] == 1
    assert result["survivors"] == {}, f"still running after the driver was killed: {result['survivors']}"
    restart = result["restart"]
    assert restart["landed_after"] == restart["total"] - restart["committed_before"] > 0, restart
    _check(result, record_property)


def test_streaming_on_a_standalone_cluster_with_parallelism_2_and_a_partition_added(record_property):
    """(e) LocalFlinkCluster, 2 slots, --parallelism=2, with (a), (c) and (d); (f) web gets a 4th partition
    while the job runs: its messages land in this run (the tables still equal the bounded run's)."""
    result = call_in_netns("support.streaming_jobs:streaming_equals_bounded",
                           {"n_events": 600, "produce_s": 4, "cluster": True, "parallelism": 2,
                            "add_partition": True}, timeout_s=JOB_TIMEOUT_S)
    added = result["added_partition"]
    print("added partition:", added)
    assert added["messages"] > 0, added  # part of the second half was keyed to it
    assert added["committed"] == added["messages"] and added["landed_by"], added
    _check(result, record_property)
