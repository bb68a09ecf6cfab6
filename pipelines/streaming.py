"""``journeys run --streaming``: read Kafka on and on, land micro-batches, stop cleanly (README, Streaming).

    read each partition (transforms/kafka_stream.py, an unbounded splittable DoFn)
    -> global window, a pane every ``[streaming] micro_batch_s`` of processing time (discarding)
    -> one key (one lander: DuckDB has one writer) -> GroupByKey
    -> LandMicroBatches (pipelines/micro_batches.py: the bounded pipeline over the pane, land, commit)

The driver runs the job without blocking, turns SIGINT and SIGTERM into the
stop marker, and with ``idle_timeout_s`` writes the marker itself (with the
topics' end offsets, so everything that arrived is read first) once the end
offsets have not moved and the consumer group has had no lag for that long
(a job still starting or landing a backlog is not idle; a partition added
since the driver planned makes it look again, counting the new partition's
lag, while the readers' WatchPartitions picks it up). The readers then finish, the watermark
reaches the end of the global window, the last pane lands and is committed,
and the job ends.
"""
from __future__ import annotations

import json
import logging
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.runner import PipelineState
from apache_beam.transforms.trigger import AccumulationMode, AfterProcessingTime, Repeatedly
from apache_beam.transforms.window import GlobalWindows

from journeys.core.config import Config
from journeys.core.summary import RunSummary
from journeys.pipelines.micro_batches import LANDED_LOG, LandMicroBatches
from journeys.pipelines.run import counters
from journeys.transforms.kafka_stream import ReadKafkaStream, StopMarker, end_offsets_and_lag, plan_stream_start
from journeys.warehouses import bigquery_warehouse as bigquery
from journeys.warehouses import warehouse_for

DEFAULT_STREAMING_RUNNER = "FlinkRunner"
LANDER_KEY = "lander"
STATE_POLL_S = 0.5
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamRequest:
    bootstrap: str
    output_dir: Path
    warehouse: str | None = None
    runner: str = DEFAULT_STREAMING_RUNNER
    config: Config = field(default_factory=Config)
    idle_timeout_s: float | None = None  # stop once no new message arrived for this long (None: until a signal)
    beam_args: tuple[str, ...] = ()  # FlinkRunner: the job server's options (commands add them), parallelism...


class StreamingJobFailed(RuntimeError):
    """The streaming job ended in a state other than DONE."""


def build_streaming(pipeline: beam.Pipeline, request: StreamRequest, partitions, stop_marker: StopMarker,
                    stream_dir: Path) -> beam.PCollection:
    config = request.config
    return (pipeline
            | "ReadKafkaStream" >> ReadKafkaStream(request.bootstrap, partitions, config.kafka, config.streaming,
                                                   config.topics.by_channel_topic(), stop_marker.path)
            | "MicroBatches" >> beam.WindowInto(
                GlobalWindows(), trigger=Repeatedly(AfterProcessingTime(max(1, round(config.streaming.micro_batch_s)))),
                accumulation_mode=AccumulationMode.DISCARDING)
            | "OneLander" >> beam.Map(lambda message: (LANDER_KEY, message))
            | "Panes" >> beam.GroupByKey()
            | "LandMicroBatches" >> beam.ParDo(LandMicroBatches(request.bootstrap, request.warehouse, config,
                                                                str(stream_dir))))


def run_streaming(request: StreamRequest) -> RunSummary:
    """Runs until stopped (signal or idle timeout), then returns the summary of everything landed."""
    config = request.config
    if request.warehouse and request.warehouse.startswith(bigquery.PREFIX):
        raise ValueError("--streaming lands into DuckDB or PostgreSQL; BigQuery is bounded runs only")
    if request.warehouse:
        warehouse_for(request.warehouse).migrate()  # fail fast on a warehouse we cannot write
    stream_dir = request.output_dir / f"stream-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    stream_dir.mkdir(parents=True, exist_ok=True)
    partitions = plan_stream_start(request.bootstrap, config.topics.by_channel().values(), config.kafka)
    marker = StopMarker(str(stream_dir / "stop.json"))
    options = PipelineOptions([f"--runner={request.runner}", *request.beam_args, "--streaming"])
    pipeline = beam.Pipeline(options=options)
    build_streaming(pipeline, request, partitions, marker, stream_dir)
    result = pipeline.run()
    previous = {sig: signal.signal(sig, lambda *_: _stop(marker)) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        state = _watch(result, request, partitions, marker)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if state != PipelineState.DONE:
        raise StreamingJobFailed(f"the streaming job ended {state}; what was landed is committed, "
                                 f"the rest is read again by the next run (logs above, files in {stream_dir})")
    return stream_summary(result, stream_dir)


def _stop(marker: StopMarker) -> None:
    if marker.read() is None:
        _log.warning("stopping: the readers finish, the last micro-batch lands and is committed")
        marker.write(None)


def _watch(result, request: StreamRequest, partitions, marker: StopMarker) -> str:
    """Polls the job until it ends; writes the stop marker after ``idle_timeout_s`` without new messages."""
    poll_s = request.config.streaming.end_offsets_poll_s
    ends, quiet_since, sampled = None, time.monotonic(), 0.0
    while True:
        state = result.state
        if PipelineState.is_terminal(state):
            return state
        now = time.monotonic()
        if request.idle_timeout_s is not None and marker.read() is None and now - sampled >= poll_s:
            sampled = now
            latest, lag = end_offsets_and_lag(request.bootstrap, request.config.kafka, partitions)
            if latest != ends or lag:  # idle: nothing new, and everything that came has landed
                ends, quiet_since = latest, now
            elif now - quiet_since >= request.idle_timeout_s:
                listed = plan_stream_start(request.bootstrap, request.config.topics.by_channel().values(),
                                           request.config.kafka)
                if {(p.topic, p.partition) for p in listed} != {(p.topic, p.partition) for p in partitions}:
                    partitions, ends = listed, None  # a partition was added (the readers pick it up): not idle
                else:
                    _log.warning("no new message for %s s: stopping at the end offsets %s",
                                 request.idle_timeout_s, ends)
                    marker.write(ends)
        time.sleep(STATE_POLL_S)


def stream_summary(result, stream_dir: Path) -> RunSummary:
    """The job's counters (the bounded run's names); else the sum of the landed micro-batches' lines."""
    totals = {}
    try:
        totals = counters(result)
    except Exception as error:  # noqa: BLE001 - a runner without metrics: the lander's lines say the same
        _log.info("no metrics from the runner (%s); summing %s", error, LANDED_LOG)
    if not totals.get("input"):
        totals = {}
        for batch in landed_batches(stream_dir):
            for name in ("input", "processed", "duplicates", "dead_letters", "journeys"):
                totals[name] = totals.get(name, 0) + batch[name]
    return RunSummary.from_counters(totals)


def landed_batches(stream_dir: Path) -> list[dict]:
    try:
        return [json.loads(line) for line in (stream_dir / LANDED_LOG).read_text().splitlines()]
    except FileNotFoundError:
        return []
