"""``journeys run --streaming`` end to end, run inside a private network namespace (support.netns).

``streaming_equals_bounded`` starts a broker in the namespace, produces
synthetic events from a thread while the streaming driver runs in a subprocess
(``python -m journeys.commands.cli run ... --streaming --idle-timeout``), then
produces two more events once everything before them has landed: a login that
moves an anonymous device to another customer, and a page view whose event
time is days before any other (beyond any lateness). Optionally it SIGKILLs the
driver (its pid only, as the OOM killer would: its job server JVM and landing
process must die by themselves) after its first micro-batch landed, checks that
every process it had started is gone, notes the consumer group's committed
offsets, and starts it again: the restarted driver must land exactly the
messages after those. Then a bounded DirectRunner run over the same topics (its
own consumer group) into a second DuckDB, and every contract table of the two
is compared. Returns JSON: differences, timings, the driver's summary lines,
landed micro-batches, whether two landings overlapped (one lander: never), the
processes left in the namespace once everything was stopped. With
``add_partition`` the web topic goes from 3 to 4 partitions after the first
landing, while the driver runs, before the second half is produced (keyed by
anonymous_id, part of it lands on the new partition): the result says how many
messages it got, how many were committed, and which micro-batches landed them.
"""
from __future__ import annotations

import copy
import dataclasses
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from kafka import KafkaAdminClient, KafkaConsumer

from journeys.commands.cli import main
from journeys.commands.produce import publish
from journeys.core.config import Config
from journeys.generators.synthetic import generate_events
from journeys.servers.flink import LocalFlinkCluster, ensure_flink_jars
from journeys.servers.kafka_broker import LocalKafka, create_topics
from journeys.transforms.kafka_read import plan_bounded_read
from journeys.transforms.kafka_stream import partition_key
from support.warehouse_snapshots import differences, duckdb_snapshot

# Upper bounds only (2 shared cores under load: a job server and Flink take 1-3 min to start, a landing 30-100 s).
LANDED_TIMEOUT_S = 480
DRIVER_TIMEOUT_S = 720
GONE_TIMEOUT_S = 30
IDLE_TIMEOUT_S = 10
PARTITION_DISCOVERY_S = 2


def _config_file(work: Path, group: str, micro_batch_s: float) -> Path:
    path = work / f"{group}.toml"
    path.write_text(f'[kafka]\nconsumer_group = "{group}"\n\n[streaming]\nmicro_batch_s = {micro_batch_s}\n'
                    f'idle_partition_s = 5\npartition_discovery_s = {PARTITION_DISCOVERY_S}\n')
    return path


def _landed(out: Path, skip: tuple[str, ...] = ()) -> list[dict]:
    rows = []
    for log in sorted(out.glob("stream-*/micro_batches.jsonl")):
        if log.parent.name not in skip:
            rows += [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return rows


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every live process (this namespace's /proc); zombies are dead."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if fields[0] != "Z":
            found[int(stat.parent.name)] = (int(fields[1]), cmdline.strip()[:200])
    return found


def _descendants(pid: int) -> dict[int, str]:
    processes, found, todo = _processes(), {}, [pid]
    while todo:
        parent = todo.pop()
        for child, (ppid, cmdline) in processes.items():
            if ppid == parent and child not in found:
                found[child] = cmdline
                todo.append(child)
    return found


def _kill_driver(driver: subprocess.Popen) -> dict[int, str]:
    """SIGKILL the driver alone; returns what it had started that is still alive GONE_TIMEOUT_S later."""
    started = _descendants(driver.pid)
    assert any("java" in cmdline for cmdline in started.values()), f"no job server among {started}"
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait()
    deadline = time.monotonic() + GONE_TIMEOUT_S
    while time.monotonic() < deadline:
        alive = {pid: cmdline for pid, cmdline in started.items() if pid in _processes()}
        if not alive:
            return {}
        time.sleep(0.25)
    return alive


def _overlapping(batches: list[dict]) -> list[str]:
    """Landings that started before the previous one had landed (one lander: none)."""
    ordered = sorted(batches, key=lambda b: b["started_at"])
    return [b["run_id"] for before, b in itertools.pairwise(ordered) if b["started_at"] < before["landed_at"]]


def _wait(what, predicate, timeout_s: float, driver: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if driver.poll() is not None:
            raise AssertionError(f"the driver exited {driver.returncode} while waiting for {what}:\n"
                                 f"{log.read_text(errors='replace')[-8000:]}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout_s} s for {what}")
        time.sleep(0.25)


class _Producer(threading.Thread):
    """Publishes ``events`` in ``chunks`` chunks spread over ``seconds``."""

    def __init__(self, bootstrap: str, events: list[dict], seconds: float, chunks: int = 12):
        super().__init__(daemon=True)
        self.bootstrap, self.events, self.seconds, self.chunks = bootstrap, events, seconds, chunks
        self.sent = 0
        self.error = None

    def run(self):
        try:
            size = -(-len(self.events) // self.chunks)
            for start in range(0, len(self.events), size):
                report = publish(self.bootstrap, self.events[start:start + size], Config().topics)
                self.sent += report.sent + len(report.rejected)
                time.sleep(self.seconds / self.chunks)
        except BaseException as error:  # noqa: BLE001 - reported by the job
            self.error = repr(error)


def _late_and_moving(events: list[dict]) -> list[dict]:
    """A login that moves an anonymous web device to a known customer, and a page view days too late."""
    web = [e for e in events if isinstance(e, dict) and e.get("channel") == "web"]
    users = sorted({e["user_id"] for e in web if e.get("user_id")})
    anonymous = sorted({e["anonymous_id"] for e in web} - {e["anonymous_id"] for e in web if e.get("user_id")})
    device = anonymous[0]
    last = max(e["event_time"] for e in web if e["anonymous_id"] == device)
    login = {"event_id": "stream-move-login", "event_type": "login", "channel": "web", "event_time": last + 60_000,
             "anonymous_id": device, "user_id": users[0], "properties": {},
             "page_url": "https://shop.example.com/account"}
    view = copy.deepcopy(next(e for e in web if e["event_type"] == "page_view" and e.get("user_id") == users[-1]))
    view.update(event_id="stream-late-view", event_time=min(e["event_time"] for e in web) - 3 * 86_400_000)
    return [login, view]


def grow_topic(bootstrap: str, topic: str) -> int:
    """``topic`` gets one more partition (now in every broker's metadata); returns its number."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        total = len(consumer.partitions_for_topic(topic)) + 1
        with KafkaAdminClient(bootstrap_servers=bootstrap) as admin:
            admin.create_partitions({topic: total})
        deadline = time.monotonic() + GONE_TIMEOUT_S
        while len(consumer.partitions_for_topic(topic) or ()) < total:
            assert time.monotonic() < deadline, f"{topic} never had {total} partitions"
            time.sleep(0.2)
            consumer.topics()  # refreshes the metadata
        return total - 1
    finally:
        consumer.close()


def _driver(bootstrap: str, config: Path, warehouse: str, out: Path, log: Path,
            flink_args: list[str]) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "journeys.commands.cli", "run", "--source", f"kafka:{bootstrap}",
           "--warehouse", warehouse, "--config", str(config), "--output-dir", str(out), "--streaming",
           "--runner", "FlinkRunner", "--idle-timeout", str(IDLE_TIMEOUT_S)]
    if flink_args:
        cmd += ["--", *flink_args]
    with open(log, "ab") as sink:
        return subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)


def streaming_equals_bounded(n_events: int = 1500, produce_s: float = 6.0, kill: bool = False,
                             cluster: bool = False, parallelism: int | None = None,
                             micro_batch_s: int = 2, seed: int = 11, add_partition: bool = False) -> dict:
    ensure_flink_jars()
    work = Path(tempfile.mkdtemp(prefix="stream-job-"))
    timings: dict[str, float] = {}
    clock = time.monotonic()
    broker = LocalKafka(work / "kafka")
    flink = LocalFlinkCluster(work / "flink") if cluster else None
    driver = None
    try:
        bootstrap = broker.start(die_with_parent=True)
        topics = Config().topics
        create_topics(bootstrap, [*topics.by_channel().values(), topics.dead_letters], partitions=3)
        flink_args = [f"--flink_master={flink.start(slots=parallelism or 2, die_with_parent=True)}"] if flink else []
        flink_args += [f"--parallelism={parallelism}"] if parallelism else []
        timings["servers_s"], clock = time.monotonic() - clock, time.monotonic()

        events = generate_events(n_events, seed=seed)
        half = len(events) // 2
        extra = _late_and_moving(events[:half])  # about customers of the first half, once it has landed
        stream_cfg = _config_file(work, f"stream-{uuid.uuid4().hex[:6]}", micro_batch_s)
        stream_url, out, log = f"duckdb:{work / 'stream.duckdb'}", work / "runs", work / "driver.log"
        started = time.monotonic()
        driver = _driver(bootstrap, stream_cfg, stream_url, out, log, flink_args)
        first = _Producer(bootstrap, events[:half], produce_s / 2)
        first.start()
        first.join()
        _wait("a first landed micro-batch", lambda: _landed(out), LANDED_TIMEOUT_S, driver, log)
        timings["first_landing_s"] = time.monotonic() - started
        kills, survivors, committed_before, before_restart = 0, {}, None, ()
        group_kafka = dataclasses.replace(Config().kafka, consumer_group=stream_cfg.stem)
        if kill:  # mid-stream: the second half is produced while no driver runs
            survivors = _kill_driver(driver)
            kills = 1
            before_restart = tuple(p.parent.name for p in out.glob("stream-*/micro_batches.jsonl"))
            committed_before = sum(r.start for r in plan_bounded_read(bootstrap, topics.by_channel().values(),
                                                                       group_kafka))
        added = partition_key(topics.web, grow_topic(bootstrap, topics.web)) if add_partition else None
        second = _Producer(bootstrap, [extra[0], *events[half:], extra[1]], produce_s / 2)
        second.start()
        if kill:
            time.sleep(produce_s / 4)
            driver = _driver(bootstrap, stream_cfg, stream_url, out, log, flink_args)
        second.join()
        if first.error or second.error:
            raise AssertionError(first.error or second.error)
        code = driver.wait(timeout=DRIVER_TIMEOUT_S)
        timings["driver_s"], clock = time.monotonic() - started, time.monotonic()
        output = log.read_text(errors="replace")
        ends = plan_bounded_read(bootstrap, topics.by_channel().values(), group_kafka)
        uncommitted = sum(r.stop - r.start for r in ends)
        restart = None
        grown = None
        if added:  # the partition added while the driver ran: its messages landed and were committed
            new = next(r for r in ends if partition_key(r.topic, r.partition) == added)
            grown = {"partition": added, "messages": new.stop, "committed": new.start,
                     "landed_by": [b["run_id"] for b in _landed(out) if added in b["committed"]]}
        if kill:  # the restarted driver read from the committed offsets: nothing before them, nothing lost
            restart = {"committed_before": committed_before, "total": sum(r.stop for r in ends),
                       "landed_after": sum(b["messages"] for b in _landed(out, skip=before_restart))}

        bounded_cfg = _config_file(work, f"bounded-{uuid.uuid4().hex[:6]}", micro_batch_s)
        bounded_url = f"duckdb:{work / 'bounded.duckdb'}"
        assert main(["run", "--source", f"kafka:{bootstrap}", "--warehouse", bounded_url, "--config",
                     str(bounded_cfg), "--output-dir", str(work / "bounded-runs")]) == 0
        timings["bounded_run_s"] = time.monotonic() - clock
        got, want = duckdb_snapshot(stream_url), duckdb_snapshot(bounded_url)
        batches = _landed(out)
        waits = [b["landed_at"] * 1000 - b["oldest_message_ms"] for b in batches]
        result = {"exit_code": code, "kills": kills, "survivors": survivors, "restart": restart, "added_partition": grown,
                  "uncommitted": uncommitted, "overlapping_landings": _overlapping(batches),
                  "differences": differences(got, want),
                  "rows": {table: len(rows) for table, rows in want.items()},
                  "summary": [line for line in output.splitlines() if line.startswith(("input ", "journeys "))],
                  "output_tail": output[-4000:], "micro_batches": len(batches),
                  "max_wait_s": max(waits) / 1000 if waits else None,
                  "moved_device_customer": _customer_of(stream_url, extra[0]["anonymous_id"]),
                  "login_user": extra[0]["user_id"], "timings": timings}
    finally:
        if driver is not None and driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
        if flink:
            flink.stop()
        broker.stop()
    # Everything stopped: nothing but this process and the namespace's init may be left.
    result["leftovers"] = {pid: cmdline for pid, (_, cmdline) in _processes().items()
                           if pid not in (1, os.getpid())}
    return result


def _customer_of(url: str, anonymous_id: str) -> list:
    import duckdb

    with duckdb.connect(url[len("duckdb:"):], read_only=True) as con:
        return [row[0] for row in con.execute(
            "SELECT customer_id FROM customer_devices WHERE anonymous_id = ?", [anonymous_id]).fetchall()]
