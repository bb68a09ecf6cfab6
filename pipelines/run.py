"""Runs a bounded ingestion: read, decode, write outputs, land, then commit offsets.

Order matters for exactly-once effect (contract section 6): the Kafka offsets
are committed only after every output has been written and landed, so a crash
before the commit re-reads the same messages and the upserts absorb them.
"""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import apache_beam as beam
from apache_beam.io import WriteToText
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics.metric import MetricsFilter

from journeys import landing
from journeys.config import Config
from journeys.decode import DeadLetter
from journeys.summary import RunSummary
from journeys.transforms.kafka_read import commit_offsets, plan_bounded_read
from journeys.transforms.parse import NAMESPACE
from journeys.pipelines.ingest import build_ingest, build_journeys, read_raw
from journeys.pipelines.runners import make_options, make_runner
from journeys.pipelines.sources import FILE, KAFKA, Source

DUCKDB_PREFIX = "duckdb:"


@dataclass(frozen=True)
class RunRequest:
    source: Source
    output_dir: Path
    warehouse: str | None = None
    runner: str = "DirectRunner"
    config: Config = Config()
    beam_args: tuple[str, ...] = ()


def dead_letter_row(dead: DeadLetter) -> str:
    return json.dumps({"source": dead.source, "partition": dead.partition, "offset": dead.offset,
                       "received_at": dead.received_at, "reason": dead.reason, "detail": dead.detail,
                       "payload": dead.payload})


def run_ingest(request: RunRequest) -> RunSummary:
    config = request.config
    run_started_ms = int(time.time() * 1000)
    run_dir = request.output_dir / f"run-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    ranges = []
    if request.source.kind == FILE:
        require_files(request.source.location)
    if request.source.kind == KAFKA:
        ranges = plan_bounded_read(request.source.location, config.topics.by_channel().values(), config.kafka)
    dead_letter_bootstrap = request.source.location if request.source.kind == KAFKA else None

    pipeline = beam.Pipeline(runner=make_runner(request.runner),
                             options=make_options(request.runner, list(request.beam_args)))
    raw = read_raw(pipeline, request.source, config, ranges)
    ingested = build_ingest(raw, config, run_started_ms, dead_letter_bootstrap)
    (ingested.events
     | "EventRows" >> beam.Map(lambda e: json.dumps(landing.stored_event(e)))
     | "WriteEvents" >> WriteToText(str(run_dir / "events"), file_name_suffix=".jsonl"))
    (ingested.dead_letters
     | "DeadLetterRows" >> beam.Map(dead_letter_row)
     | "WriteDeadLetters" >> WriteToText(str(run_dir / "dead_letters"), file_name_suffix=".jsonl"))
    built = build_journeys(ingested.events, config)
    for name, rows in (("journeys", built.journeys), ("page_views", built.page_views),
                       ("friction_events", built.friction)):
        (rows
         | f"{_camel(name)}Rows" >> beam.Map(lambda row: json.dumps(row._asdict()))
         | f"Write{_camel(name)}" >> WriteToText(str(run_dir / name), file_name_suffix=".jsonl"))
    result = pipeline.run()
    result.wait_until_finish()

    if request.warehouse:
        land_in_warehouse(request.warehouse, run_dir)
    if ranges:
        commit_offsets(request.source.location, config.kafka, ranges)
    return RunSummary.from_counters(counters(result))


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def require_files(pattern: str) -> None:
    if not FileSystems.match([pattern])[0].metadata_list:
        raise FileNotFoundError(f"--source file:{pattern}: no file matches")


def land_in_warehouse(warehouse: str, run_dir: Path) -> None:
    if not warehouse.startswith(DUCKDB_PREFIX):
        raise ValueError(f"--warehouse {warehouse!r}: only duckdb:PATH is supported so far")
    landing.land(warehouse[len(DUCKDB_PREFIX):], run_dir)


def counters(result) -> dict[str, int]:
    query = result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))
    totals: dict[str, int] = {}
    for counter in query["counters"]:
        totals[counter.key.metric.name] = totals.get(counter.key.metric.name, 0) + counter.committed
    return totals
