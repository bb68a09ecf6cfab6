"""LandMicroBatches: each fired pane of raw Kafka messages runs the bounded pipeline, lands, then commits.

The warehouse is the streaming pipeline's state. A bounded run already
rebuilds every customer it touches from the warehouse's stored history and
recomputes every day it touches, so landing the stream as consecutive
micro-batches gives the tables one bounded run over the same events gives
(README, Streaming). A pane's messages go through ``run.land_raw``, the very
code of ``journeys run`` without ``--streaming``, in a nested in-process
FnApiRunner pipeline; then, per partition, the offset after the highest one
landed is committed to the consumer group. A crash before the commit re-reads
those messages on restart and the upserts absorb them.
"""
from __future__ import annotations

import json
import logging
import multiprocessing
import os
import threading
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import apache_beam as beam
from apache_beam.metrics import Metrics

from journeys.core.config import Config
from journeys.core.summary import DEAD_LETTER_PREFIX, RunSummary
from journeys.pipelines.run import RunRequest, defers_days, land_raw, settle
from journeys.pipelines.sources import KAFKA, Source
from journeys.rules import masking
from journeys.transforms.batches import Batch, chunked
from journeys.transforms.kafka_read import PartitionRange, commit_offsets
from journeys.transforms.parse import NAMESPACE
from journeys.wire.decode import RawMessage

LANDED_LOG = "micro_batches.jsonl"  # one line per landed micro-batch, in the output directory
_PARENT_POLL_S = 0.5
_log = logging.getLogger(__name__)


def landed_ranges(messages: Iterable[RawMessage]) -> list[PartitionRange]:
    """Per partition: from the lowest offset to one past the highest offset in ``messages``."""
    low: dict[tuple[str, int], int] = {}
    high: dict[tuple[str, int], int] = {}
    for m in messages:
        key = (m.source, m.partition)
        low[key] = min(low.get(key, m.offset), m.offset)
        high[key] = max(high.get(key, m.offset), m.offset)
    return [PartitionRange(topic, partition, low[(topic, partition)], high[(topic, partition)] + 1)
            for topic, partition in sorted(high)]


def summary_counters(summary: RunSummary) -> dict[str, int]:
    """The bounded run's counter names (transforms.parse.NAMESPACE) for a micro-batch's summary."""
    counters = {"input": summary.input, "processed": summary.processed, "duplicates": summary.duplicates,
                "dead_letters": summary.dead_letters, "journeys": summary.journeys,
                "page_views": summary.page_views, "friction_points": summary.friction_points}
    counters.update({DEAD_LETTER_PREFIX + reason: n for reason, n in summary.dead_letter_reasons.items()})
    return counters


def land_messages(request: RunRequest, messages: list[RawMessage], run_dir: Path, started_ms: int) -> RunSummary:
    """The bounded pipeline (``run.land_raw``) over one pane's messages, in this process, then the
    daily rows of the days it touched (pipelines/daily_settle.py), so each landed pane leaves whole days."""
    defer_days = defers_days(request)
    batches = list(chunked(messages))
    summary = land_raw(request, lambda p: p | "MicroBatch" >> beam.Create(batches).with_output_types(Batch), run_dir,
                       started_ms, request.source.location, defer_days)
    if defer_days:
        settle(request, run_dir, started_ms)
    return summary


def _init_landing_process(config: Config, parent: int) -> None:
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    masking.configure(config.masking)  # a new process starts with the defaults: bring the driver's


def _exit_with_parent(parent: int) -> None:
    """A killed driver leaves no lander behind: exit once the parent is gone (re-parented)."""
    while os.getppid() == parent:
        time.sleep(_PARENT_POLL_S)
    os._exit(1)


class LandMicroBatches(beam.DoFn):
    """(key, [RawMessage]) per fired pane -> one JSON-able dict per landed micro-batch.

    Runs on one key, so one pane lands at a time (DuckDB has one writer).
    """

    def __init__(self, bootstrap: str, warehouse: str | None, config: Config, output_dir: str):
        self._bootstrap = bootstrap
        self._warehouse = warehouse
        self._config = config
        self._output_dir = output_dir
        self._batches = Metrics.counter(NAMESPACE, "micro_batches")

    def setup(self):
        # The nested pipeline is CPU-bound Python: in the worker's own process it would hold the GIL
        # against the partition readers for the whole landing. One long-lived child process (one
        # writer, imports paid once) lands each pane while this thread waits on it.
        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_init_landing_process, initargs=(self._config, os.getpid()))

    def teardown(self):
        self._pool.shutdown(wait=True)

    def process(self, keyed):
        _, messages = keyed
        messages = list(messages)
        if not messages:
            return  # an empty pane lands nothing
        started = time.time()
        run_dir = Path(self._output_dir) / f"run-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        request = RunRequest(source=Source(KAFKA, self._bootstrap), output_dir=Path(self._output_dir),
                             warehouse=self._warehouse, config=self._config)
        summary = self._pool.submit(land_messages, request, messages, run_dir, int(started * 1000)).result()
        ranges = landed_ranges(messages)
        commit_offsets(self._bootstrap, self._config.kafka, ranges)  # only after landing
        for name, value in summary_counters(summary).items():
            Metrics.counter(NAMESPACE, name).inc(value)
        self._batches.inc()
        landed = {"run_id": run_dir.name, "messages": len(messages), "started_at": started,
                  "landed_at": time.time(), "input": summary.input, "processed": summary.processed,
                  "duplicates": summary.duplicates, "dead_letters": summary.dead_letters,
                  "journeys": summary.journeys,
                  # Kafka CreateTime: with it, landed_at minus these is how long a message waited for its row.
                  "oldest_message_ms": min((m.timestamp_ms or 0) for m in messages),
                  "newest_message_ms": max((m.timestamp_ms or 0) for m in messages),
                  "committed": {f"{r.topic}:{r.partition}": r.stop for r in ranges}}
        _log.info("landed micro-batch %s", landed)
        with open(Path(self._output_dir) / LANDED_LOG, "a") as log:
            log.write(json.dumps(landed) + "\n")
        yield landed
