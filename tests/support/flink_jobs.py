"""Small Beam pipelines that prove FlinkRunner works here; run by tests/end_to_end/test_flink_runner.py.

Each job function runs inside a private network namespace (support.netns), starts
what it needs there (a Kafka broker, a Flink session cluster), and returns plain
JSON: results plus timings in seconds.

``ReadKafkaPartition`` is the pattern for reading Kafka with kafka-python in an
unbounded splittable DoFn: one element per topic partition, an OffsetRange
restriction of Kafka offsets, the watermark set by hand from record timestamps,
``defer_remainder`` when caught up, and two stop conditions that finish the
restriction (so the job can end): a stop offset per partition, and an idle timeout.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import apache_beam as beam
from apache_beam.io.restriction_trackers import OffsetRange, OffsetRestrictionTracker
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.runner import PipelineState
from apache_beam.transforms.core import RestrictionProvider, WatermarkEstimatorProvider
from apache_beam.transforms.window import FixedWindows, TimestampedValue
from apache_beam.utils.timestamp import Duration, Timestamp
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from journeys.servers.flink import LocalFlinkCluster, runner_options
from journeys.servers.kafka_broker import LocalKafka, create_topics

POLL_TIMEOUT_MS = 200
MAX_READ_S = 1.0  # one process() call reads at most this long before deferring the rest
RESUME_DELAY_S = 0.2  # when caught up: when the runner should call again
WINDOW_S = 3600  # one window holds every test record; it fires only when the watermark passes its end
RESULT_TIMEOUT_S = 150


@dataclass(frozen=True)
class PartitionRead:
    """What to read: offsets ``[start_offset, stop_offset)`` of one partition (``stop_offset=None``: on and on)."""
    topic: str
    partition: int
    start_offset: int = 0
    stop_offset: int | None = None
    idle_timeout_s: float | None = None  # finish once no record came for this long (by record timestamps)


class _OffsetRanges(RestrictionProvider):
    def initial_restriction(self, element: PartitionRead) -> OffsetRange:
        return OffsetRange(element.start_offset, element.stop_offset or sys.maxsize)

    def create_tracker(self, restriction: OffsetRange) -> OffsetRestrictionTracker:
        return OffsetRestrictionTracker(restriction)

    def restriction_size(self, element, restriction: OffsetRange) -> int:
        return restriction.size()

    def split(self, element, restriction):
        yield restriction  # one reader per partition: Kafka order within a partition is kept

    def truncate(self, element, restriction):
        return None  # on drain: stop reading


class _ManualWatermark(WatermarkEstimatorProvider):
    def initial_estimator_state(self, element, restriction):
        return None  # no watermark until the first record: earlier records must not be late

    def create_watermark_estimator(self, state) -> ManualWatermarkEstimator:
        return ManualWatermarkEstimator(state)


OFFSET_RANGES = beam.DoFn.RestrictionParam(_OffsetRanges())
MANUAL_WATERMARK = beam.DoFn.WatermarkEstimatorParam(_ManualWatermark())


class ReadKafkaPartition(beam.DoFn):
    """PartitionRead -> (key, value) bytes, timestamped with the Kafka record timestamp."""

    def __init__(self, bootstrap: str):
        self._bootstrap = bootstrap
        self._consumer = None

    def setup(self):
        self._consumer = KafkaConsumer(bootstrap_servers=self._bootstrap, group_id=None,
                                       enable_auto_commit=False, auto_offset_reset="earliest")

    def teardown(self):
        if self._consumer is not None:
            self._consumer.close()

    @beam.DoFn.unbounded_per_element()
    def process(self, element: PartitionRead, tracker=OFFSET_RANGES, watermark=MANUAL_WATERMARK):
        partition = TopicPartition(element.topic, element.partition)
        position = tracker.current_restriction().start
        self._consumer.assign([partition])
        self._consumer.seek(partition, position)
        deadline = time.monotonic() + MAX_READ_S
        read_any = False
        while time.monotonic() < deadline:
            records = self._consumer.poll(timeout_ms=POLL_TIMEOUT_MS).get(partition, [])
            if not records:
                break
            for record in records:
                if not tracker.try_claim(record.offset):
                    return  # at stop_offset (or the runner split the rest away): this restriction is done
                stamp = Timestamp(micros=record.timestamp * 1000)
                if watermark.current_watermark() is None or stamp > watermark.current_watermark():
                    watermark.set_watermark(stamp)
                read_any = True
                yield TimestampedValue((record.key, record.value), stamp)
            position = records[-1].offset + 1
        stop = tracker.current_restriction().stop
        if position >= stop:
            return  # read up to stop_offset exactly: every offset claimed
        last = watermark.current_watermark()
        if (not read_any and element.idle_timeout_s is not None and last is not None
                and Timestamp.now() - last >= Duration.of(element.idle_timeout_s)):
            tracker.try_claim(stop)  # claims nothing, but marks [position, stop) as done
            return
        tracker.defer_remainder(Duration.of(RESUME_DELAY_S))


class _AppendJsonLines(beam.DoFn):
    """Each (key, count) as one JSON line appended to ``path`` (LOOPBACK workers share this file system)."""

    def __init__(self, path: str):
        self._path = path

    def process(self, element, window=beam.DoFn.WindowParam):
        key, count = element
        line = json.dumps({"key": key.decode(), "count": count, "window_end": float(window.end)})
        with open(self._path, "a") as out:
            out.write(line + "\n")


def _read_lines(path: Path) -> list[dict]:
    try:
        return [json.loads(line) for line in path.read_text().splitlines()]
    except FileNotFoundError:
        return []


def bounded_word_counts(lines: list[str], flink_master: str = "[local]", parallelism: int = 2) -> dict:
    """Word counts of ``lines`` on FlinkRunner (batch)."""
    out = Path(tempfile.mkdtemp()) / "counts"
    started = time.monotonic()
    with beam.Pipeline(options=PipelineOptions(runner_options(flink_master, parallelism))) as p:
        (p | beam.Create(lines) | beam.FlatMap(str.split) | beam.combiners.Count.PerElement()
           | beam.Map(lambda kv: json.dumps(list(kv))) | beam.io.WriteToText(str(out), shard_name_template=""))
    counts = dict(json.loads(line) for line in out.read_text().splitlines())
    return {"counts": counts, "job_s": time.monotonic() - started}


def streaming_kafka_counts(records_per_key: dict[str, int], partitions: int = 3, cluster: bool = False,
                           parallelism: int = 2, stop: str = "idle", idle_timeout_s: float = 3.0) -> dict:
    """Per-key counts of Kafka records read by ReadKafkaPartition on FlinkRunner in streaming mode.

    Starts a broker (and, with ``cluster``, a standalone Flink cluster) in this
    namespace, produces ``records_per_key``, runs the pipeline until its output
    holds every record, then cancels it if it has not finished by itself.
    ``stop``: "idle" (idle timeout) or "offsets" (stop at the produced end offsets).
    """
    timings: dict[str, float] = {}
    work = Path(tempfile.mkdtemp(prefix="flink-job-"))
    clock = time.monotonic()
    broker = LocalKafka(work / "kafka")
    flink = LocalFlinkCluster(work / "flink") if cluster else None
    try:
        bootstrap = broker.start(die_with_parent=True)
        topic = "flink.test"
        create_topics(bootstrap, [topic], partitions=partitions)
        timings["kafka_start_s"], clock = time.monotonic() - clock, time.monotonic()
        flink_master = flink.start(slots=parallelism, die_with_parent=True) if flink else "[local]"
        timings["flink_cluster_start_s"], clock = time.monotonic() - clock, time.monotonic()
        end_offsets = _produce(bootstrap, topic, partitions, records_per_key)
        reads = [PartitionRead(topic, p, stop_offset=end_offsets[p] if stop == "offsets" else None,
                               idle_timeout_s=idle_timeout_s if stop == "idle" else None)
                 for p in range(partitions)]
        out = work / "counts.jsonl"
        options = PipelineOptions([*runner_options(flink_master, parallelism), "--streaming"])
        p = beam.Pipeline(options=options)
        (p | beam.Create(reads) | beam.ParDo(ReadKafkaPartition(bootstrap))
           | beam.WindowInto(FixedWindows(WINDOW_S)) | beam.combiners.Count.PerKey()
           | beam.ParDo(_AppendJsonLines(str(out))))
        result = p.run()
        timings["submit_s"], clock = time.monotonic() - clock, time.monotonic()
        expected = sum(records_per_key.values())
        deadline = time.monotonic() + RESULT_TIMEOUT_S
        while sum(row["count"] for row in _read_lines(out)) < expected and time.monotonic() < deadline:
            time.sleep(0.2)
        timings["results_s"] = time.monotonic() - clock
        # The job ends by itself once every restriction is done; wait briefly, then cancel.
        state = result.wait_until_finish(duration=30_000)
        finished_by_itself = PipelineState.is_terminal(state)
        if not finished_by_itself:
            result.cancel()
        timings["total_s"] = time.monotonic() - clock
        found = {"rows": _read_lines(out), "end_offsets": end_offsets, "final_state": str(state),
                 "finished_by_itself": finished_by_itself, "timings": timings}
        if flink:
            found.update(_inspect_cluster(flink, flink_master))
        return found
    finally:
        if flink:
            flink.stop()
        broker.stop()


def _inspect_cluster(flink: LocalFlinkCluster, rest: str) -> dict:
    """What the cluster listened on, the parallelism its jobs ran with, and which of its pids outlive stop()."""
    status = flink.status()
    pids = [status["pid"], status["taskmanager_pid"]]
    listening = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, check=True).stdout
    addresses = [line.split()[3] for line in listening.splitlines()
                 if any(f"pid={pid}," in line for pid in pids)]
    with urllib.request.urlopen(f"http://{rest}/jobs/overview", timeout=10) as reply:
        jobs = json.load(reply)["jobs"]
    parallelism = []
    for job in jobs:
        with urllib.request.urlopen(f"http://{rest}/jobs/{job['jid']}", timeout=10) as reply:
            parallelism.append(max(vertex["parallelism"] for vertex in json.load(reply)["vertices"]))
    flink.stop()
    return {"cluster_listen": addresses, "job_parallelism": parallelism,
            "cluster_pids_left": [pid for pid in pids if Path(f"/proc/{pid}").exists()]}


def _produce(bootstrap: str, topic: str, partitions: int, records_per_key: dict[str, int]) -> list[int]:
    """Sends the records round-robin over the partitions; returns each partition's end offset."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    sent = [0] * partitions
    n = 0
    for key, count in records_per_key.items():
        for i in range(count):
            producer.send(topic, key=key.encode(), value=f"{key}-{i}".encode(), partition=n % partitions)
            sent[n % partitions] += 1
            n += 1
    producer.flush()
    producer.close()
    return sent
