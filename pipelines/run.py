"""Runs a bounded ingestion: read, decode, write outputs, land, then commit offsets.

Order matters for exactly-once effect (contract section 6): the Kafka offsets
are committed only after every output has been written and landed, so a crash
before the commit re-reads the same messages and the upserts absorb them.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import json
import logging
import os
import resource
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.metrics.metric import MetricsFilter

from journeys import quality
from journeys.core.config import Config
from journeys.core.summary import RunSummary
from journeys.pipelines.bounded_chunks import plan_chunks, total_summary
from journeys.pipelines.daily_settle import CHECKS_FILE, settle_pending_days
from journeys.pipelines.ingest import build_ingest, build_journeys, read_raw
from journeys.pipelines.runners import make_options, make_runner
from journeys.pipelines.sources import FILE, KAFKA, Source
from journeys.rules.daily import JOURNEY_DAILY
from journeys.rules.daily_chat_tasks import CHAT_TASK_DAILY
from journeys.transforms.aggregates import AggregateDaily
from journeys.transforms.complete_days import CompleteDays, TouchedDays
from journeys.transforms.event_stats import EventStats
from journeys.transforms.file_read import InputFile, expand_files
from journeys.transforms.kafka_read import commit_offsets, plan_bounded_read
from journeys.transforms.parse import NAMESPACE
from journeys.warehouses import bigquery_warehouse as bigquery
from journeys.warehouses import rows as landing
from journeys.warehouses import warehouse_for
from journeys.warehouses.base import RUN_TABLES, read_rows, read_run_tables
from journeys.warehouses.history import stored_day_counts
from journeys.warehouses.landing_batch import with_refusals
from journeys.warehouses.quality_runs import recent_volume_counts


_log = logging.getLogger(__name__)
try:
    _LIBC = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    _LIBC.malloc_trim  # glibc only
except (OSError, AttributeError):
    _LIBC = None


@dataclass(frozen=True)
class RunRequest:
    source: Source
    output_dir: Path
    warehouse: str | None = None
    runner: str = "DirectRunner"
    config: Config = Config()
    beam_args: tuple[str, ...] = ()


def run_ingest(request: RunRequest) -> RunSummary:
    config = request.config
    run_started_ms = int(time.time() * 1000)
    run_dir = request.output_dir / f"run-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    ranges, files = [], ()
    if request.source.kind == FILE:
        files = require_files(request.source.location)  # expanded once, here: keys are canonical paths
    if request.source.kind == KAFKA:
        ranges = plan_bounded_read(request.source.location, config.topics.by_channel().values(), config.kafka)
    dead_letter_bootstrap = request.source.location if request.source.kind == KAFKA else None
    warehouse = warehouse_for(request.warehouse) if request.warehouse else None
    if warehouse:
        warehouse.migrate()  # fail fast, before reading anything, on a warehouse we cannot write

    # A Kafka plan lands in consecutive chunks (pipelines/bounded_chunks.py), each landed then committed, so
    # memory follows the chunk size; a crash between chunks keeps the ones before, and a re-run goes on.
    # Every chunk has the run's start time (the same "in the future" and freshness) and its own run_id.
    chunks = plan_chunks(ranges, config.kafka.max_events_per_chunk)
    defer_days = defers_days(request)
    summaries = []
    for number, chunk in enumerate(chunks, 1):
        if number > 1:
            crash_if_asked("between_chunks")
        chunk_dir = run_dir if len(chunks) == 1 else run_dir.with_name(f"{run_dir.name}-chunk{number:04d}")
        try:
            summaries.append(land_raw(
                request, lambda pipeline, chunk=chunk: read_raw(pipeline, request.source, config, chunk, files),
                chunk_dir, run_started_ms, dead_letter_bootstrap, defer_days))
        except quality.QualityFailure as failure:  # this chunk is neither landed nor committed
            if number > 1:
                landed = f"in chunk {number} of {len(chunks)}: the {number - 1} before it were landed and committed"
                failure.args = (f"{failure} ({landed})",)
            raise
        if chunk:
            commit_offsets(request.source.location, config.kafka, chunk)
    if defer_days:
        crash_if_asked("before_settle")
        settle(request, chunk_dir, run_started_ms)
    return total_summary(summaries)


def defers_days(request: RunRequest) -> bool:
    """Whether the run's daily rows are recomputed once at its end (pipelines/daily_settle.py) rather
    than in its pipeline: into DuckDB and PostgreSQL. BigQuery lands through one MERGE script, and
    without a warehouse a run's own days are complete."""
    return bool(request.warehouse) and not request.warehouse.startswith(bigquery.PREFIX)


def settle(request: RunRequest, run_dir: Path, run_started_ms: int) -> list[str]:
    """``settle_pending_days`` after the run (or last chunk) in ``run_dir``, its files in ``run_dir/days``;
    the daily checks complete that run's aggregates result. A failed ``fail`` check says what was
    landed before it."""
    checks = run_dir / CHECKS_FILE
    earlier = [quality.QualityResult.from_row(row) for row in (read_rows([checks]) if checks.exists() else ())
               if row["suite"] not in (quality.VOLUME, quality.FRESHNESS)]
    began = time.perf_counter()
    try:
        days = settle_pending_days(request.warehouse, request.config, run_dir / SETTLE_DIR, run_dir.name,
                                   run_started_ms, earlier[0] if earlier else None)
        _log.info("%s: %d days' daily rows recomputed in %.1f s", run_dir.name, len(days), time.perf_counter() - began)
        return days
    except quality.QualityFailure as failure:
        failure.args = (f"{failure} (recomputing the daily rows of the days landed: they stay pending, and the next "
                        "run recomputes them; the events and journeys before were landed and committed)",)
        raise


def land_raw(request: RunRequest, make_raw: Callable[[beam.Pipeline], beam.PCollection], run_dir: Path,
             run_started_ms: int, dead_letter_bootstrap: str | None, defer_days: bool = False) -> RunSummary:
    """One bounded pipeline over ``make_raw(pipeline)``: run files, quality checks, then the landing.

    ``defer_days``: the run's daily rows are not computed here; the days it
    touches land as pending, and the caller settles them (pipelines/daily_settle.py).

    The bounded run (``run_ingest``) reads its planned Kafka ranges or files; a
    streaming micro-batch (pipelines/micro_batches.py) hands over a pane of raw
    messages already read. Commits nothing: the caller commits what was landed.
    """
    config = request.config
    started = time.perf_counter()
    to_bigquery = bool(request.warehouse and request.warehouse.startswith(bigquery.PREFIX))
    warehouse = warehouse_for(request.warehouse) if request.warehouse else None
    pipeline = beam.Pipeline(runner=make_runner(request.runner),
                             options=make_options(request.runner, list(request.beam_args)))
    rows = table_rows(make_raw(pipeline), config, run_started_ms, dead_letter_bootstrap,
                      history_url=request.warehouse if warehouse else None, run_id=run_dir.name,
                      defer_days=defer_days)
    # One file writer for every table: a WriteToText per table made a pipeline of hundreds of steps, whose
    # construction and finalising stages cost seconds per run (and per chunk).
    (tuple(lines | f"Tag{_camel(name)}" >> beam.Map(_tagged, name) for name, lines in rows.items())
     | "AllRunFiles" >> beam.Flatten()
     | "WriteRunFiles" >> fileio.WriteToFiles(str(run_dir), destination=_table_of, sink=_run_file_sink,
                                              file_naming=fileio.destination_prefix_naming(".jsonl")))
    if to_bigquery:
        ({name: lines | f"Parse{_camel(name)}" >> beam.Map(json.loads) for name, lines in rows.items()
          if name != QUALITY_FAILURES}  # customers and touched_days too: the MERGE script needs them
         | "WriteBigQuery" >> bigquery.WriteTablesToBigQuery(request.warehouse))
    began = time.perf_counter()
    result = pipeline.run()
    result.wait_until_finish()
    piped = time.perf_counter()

    if config.quality.enabled:
        raise_on_event_failures(run_dir)
        check_run_quality(run_dir, config, run_started_ms, request.warehouse if warehouse else None, defer_days)
    checked = time.perf_counter()
    if warehouse:
        release_freed_memory()
        warehouse.land(run_dir)  # BigQuery: the driver's rows, then the MERGE script
    _log.info("%s: building %.1f s, pipeline %.1f s, run-level checks %.1f s, landing %.1f s; peak RSS %d MiB",
              run_dir.name, began - started, piped - began, checked - piped, time.perf_counter() - checked,
              resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
    crash_if_asked("after_land")
    # Rows the warehouse refused at landing are dead letters now (landing_batch): the arithmetic says so.
    return with_refusals(RunSummary.from_counters(counters(result)), warehouse.refused if warehouse else ())


def release_freed_memory() -> None:
    """Returns the heap the finished pipeline freed to the system (glibc's malloc_trim), so the landing's
    warehouse memory reuses it rather than adding to the run's peak RSS."""
    gc.collect()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def table_rows(raw: beam.PCollection, config: Config, run_started_ms: int, dead_letter_bootstrap: str | None,
               history_url: str | None, run_id: str, defer_days: bool = False) -> dict[str, beam.PCollection]:
    """The whole pipeline from raw input: JSON lines per warehouse table (and per run file).

    ``defer_days``: no daily rows; the touched days go to the ``pending_days`` file instead of ``touched_days``.
    """
    ingested = build_ingest(raw, config, run_started_ms, dead_letter_bootstrap, run_id, raise_on_fail=False)
    # Partial rebuilds only where the landing keeps a customer's stored journeys and the days are settled
    # from the warehouse: the in-pipeline daily rows (BigQuery, none) need every customer whole.
    built = build_journeys(ingested.events, config, history_url=history_url, partial=defer_days)
    daily, customer_files = {}, {"customers": built.customers}
    if defer_days:
        whole, partial = built.customers | "WholeOrPartial" >> beam.Partition(_whole_or_partial, 2)
        customer_files = {"customers": whole, PARTIAL_CUSTOMERS: partial}
        days, days_file = built.customers | "TouchedDays" >> TouchedDays(history_url), PENDING_DAYS
    else:
        (whole_days, days), days_file = built.customers | "CompleteDays" >> CompleteDays(history_url), "touched_days"
        daily = {**(whole_days | "AggregateDaily" >> AggregateDaily(JOURNEY_DAILY))._asdict(),
                 **(whole_days | "AggregateChatAndTasks" >> AggregateDaily(CHAT_TASK_DAILY))._asdict()}
    quality_rows = {}
    if ingested.quality_runs is not None:
        quality_rows["quality_runs"] = ingested.quality_runs | "QualityRunRows" >> beam.Map(json.dumps)
    if ingested.quality_failures is not None:
        quality_rows[QUALITY_FAILURES] = ingested.quality_failures | "QualityFailureRows" >> beam.Map(
            lambda r: json.dumps(quality.quality_run_row(run_id, r.suite, r, run_started_ms)))
    return {
        **quality_rows,
        # One element per batch or customer and table, its rows as lines: no per-row step.
        "events": ingested.events | "EventRows" >> beam.Map(_lines, landing.event_row),
        "dead_letters": ingested.dead_letters | "DeadLetterRows" >> beam.Map(landing.dead_letter_row),
        **{table: built.customers | f"{_camel(table)}Rows" >> beam.FlatMap(_customer_lines, field)
           for table, field in CUSTOMER_ROWS.items()},
        **{name: customers | f"{_camel(name)}Rows" >> beam.Map(landing.customer_row)
           for name, customers in customer_files.items()},
        EVENT_STATS: ingested.events | "EventStats" >> EventStats() | "EventStatsRow" >> beam.Map(json.dumps),
        days_file: days | "TouchedDayRows" >> beam.Map(lambda day: json.dumps({"day": day})),
        **{table: rows | f"{_camel(table)}Rows" >> beam.Map(json.dumps) for table, rows in daily.items()},
    }


def _whole_or_partial(customer, _partitions: int) -> int:
    return 0 if customer.rebuilt_since is None else 1


def _tagged(lines: str, table: str) -> tuple[str, str]:
    return table, lines


def _table_of(tagged: tuple[str, str]) -> str:
    return tagged[0]


class _RunFileSink(fileio.TextSink):
    """Writes the lines of (table, lines): each run file holds one table's JSON lines."""

    def write(self, record):
        super().write(record[1])


def _run_file_sink(_table: str) -> fileio.FileSink:
    return _RunFileSink()


# Row tables built per customer: table -> the CustomerJourneys field holding its rows.
CUSTOMER_ROWS = {"journeys": "journeys", "page_views": "page_views", "friction_events": "friction",
                 "conversations": "conversations", "task_attempts": "task_attempts"}


def _lines(rows, to_line) -> str:
    return "\n".join(map(to_line, rows))


def _customer_lines(customer, field: str):
    rows = getattr(customer, field)
    if rows:
        yield _lines(rows, landing.model_row)


class QualityGateFailed(quality.QualityFailure):
    """The events gate failed in the pipeline (policy ``fail``); nothing was landed or committed."""


def raise_on_event_failures(run_dir: Path) -> None:
    """Raises QualityGateFailed if a batch failed a ``fail`` expectation of the events suite.

    The pipeline writes those batches' results to the run's ``quality_failures``
    file rather than raising in a worker: a runner may hand a worker's
    exception back as text only, so data is how the driver knows, whatever the
    runner. Called after the pipeline, before anything is landed or committed.
    """
    rows = read_run_tables(run_dir, [QUALITY_FAILURES])[QUALITY_FAILURES]
    if rows:
        merged = quality.merge_results([quality.QualityResult.from_row(row) for row in rows])
        raise QualityGateFailed(merged, merged.keys_with_policy(quality.FAIL))


def check_run_quality(run_dir: Path, config: Config, run_started_ms: int, warehouse_url: str | None,
                      defer_days: bool = False) -> None:
    """The aggregates suite, volume and freshness over the run's outputs, before anything lands.

    ``defer_days``: the run has no daily rows yet, so only the suite's row-table
    expectations run here; the daily ones run where the days are settled.

    Results go to the run's quality_runs rows; a ``fail`` result raises QualityFailure, so
    nothing is landed and no offset is committed.
    """
    policy = quality.Policy.load(config.quality.policy_path)
    tables = read_run_tables(run_dir, [name for name in RUN_TABLES if name != "events"])
    stats = read_run_tables(run_dir, [EVENT_STATS])[EVENT_STATS][0]
    stored = {} if defer_days else stored_day_counts(warehouse_url, tables)
    aggregates = quality.check_aggregates(tables, stored, suite=config.quality.aggregates_suite, policy=policy,
                                          journey_config=config.journey, raise_on_fail=False,
                                          days=False if defer_days else None)
    volume_settings, freshness_settings = dict(policy.check("volume")), dict(policy.check("freshness"))
    history = []
    if warehouse_url:
        con = warehouse_for(warehouse_url).read_only_connection()
        try:
            history = recent_volume_counts(con, volume_settings.get("window", 7))
        finally:
            con.close()
    volume = quality.volume_check(stats["channels"], history, **volume_settings)
    freshness = quality.freshness_check(stats["newest_event_ms"], run_started_ms, freshness_settings.get("max_age_s", 21_600),
                                        freshness_settings.get("policy", quality.REPORT))
    results = (aggregates, volume, freshness)
    rows = [quality.quality_run_row(run_dir.name, r.suite, r, run_started_ms) for r in results]
    (run_dir / CHECKS_FILE).write_text("".join(json.dumps(r) + "\n" for r in rows))
    if config.quality.html_dir:
        quality.data_docs(config.quality.html_dir, list(results), run_id=run_dir.name)
    quality.enforce(results)


# The events gate's failed batches (quality_runs rows), read by the driver after the pipeline.
QUALITY_FAILURES = "quality_failures"
# Files that are not tables: what a run rebuilt (for the warehouse), and the events gate's failures.
# The events' counts per channel and newest event time (transforms/event_stats.py), for the run-level checks.
EVENT_STATS = "event_stats"
SETTLE_DIR = "days"  # under the run's (last chunk's) directory: the recomputed daily rows
PENDING_DAYS = "pending_days"  # the days a run touched, left for its end to recompute (pipelines/daily_settle.py)
# Customers rebuilt from a journey on (rules/partial_rebuild.py): their device links are replaced, their
# stored journeys kept but for those the run's journeys replace.
PARTIAL_CUSTOMERS = "partial_customers"
RUN_ONLY_FILES = ("customers", PARTIAL_CUSTOMERS, "touched_days", PENDING_DAYS, QUALITY_FAILURES, EVENT_STATS)
FAULT_ENV = "JOURNEYS_FAULT"
FAULT_EXIT_CODE = 75


def crash_if_asked(point: str) -> None:
    """Fault injection for the exactly-once tests: die here, as a killed process would."""
    if os.environ.get(FAULT_ENV) == point:
        os._exit(FAULT_EXIT_CODE)


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def require_files(pattern: str) -> tuple[InputFile, ...]:
    """The files of ``--source file:PATTERN``, each once under its canonical key (file_read.expand_files)."""
    files = expand_files(pattern)
    if not files:
        raise FileNotFoundError(f"--source file:{pattern}: no file matches")
    return files


def counters(result) -> dict[str, int]:
    query = result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))
    totals: dict[str, int] = {}
    for counter in query["counters"]:
        totals[counter.key.metric.name] = totals.get(counter.key.metric.name, 0) + counter.committed
    return totals
