"""The pipeline: read, decode and validate, drop duplicates, build journeys.

``build_ingest`` and ``build_journeys`` wire the composites and return the
PCollections, so tests and later stages use them; ``pipelines.run`` chooses
I/O and runs.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import NamedTuple

import apache_beam as beam

from journeys import quality
from journeys.core.config import Config
from journeys.pipelines.sources import FILE, KAFKA, Source
from journeys.transforms.dead_letter_publish import PublishDeadLetters
from journeys.transforms.dedup import DropDuplicateEvents
from journeys.transforms.file_read import InputFile, ReadEventFiles
from journeys.transforms.journeys import SessioniseJourneys, StitchIdentities
from journeys.transforms.kafka_read import PartitionRange, ReadKafkaMessages
from journeys.transforms.parse import DEAD_LETTERS, EVENTS, ParseEvents
from journeys.transforms.validate_events import ValidateEvents


class JourneyOutputs:
    """``customers``: CustomerJourneys, one per customer. The row collections
    are made when first asked for: a pipeline that writes rows from the
    customers (pipelines/run.py) pays no per-row step for them."""

    def __init__(self, customers: beam.PCollection):
        self.customers = customers

    @cached_property
    def journeys(self) -> beam.PCollection:  # Journey
        return self.customers | "Journeys" >> beam.FlatMap(lambda c: c.journeys)

    @cached_property
    def page_views(self) -> beam.PCollection:  # PageView
        return self.customers | "PageViews" >> beam.FlatMap(lambda c: c.page_views)

    @cached_property
    def friction(self) -> beam.PCollection:  # FrictionPoint
        return self.customers | "FrictionPoints" >> beam.FlatMap(lambda c: c.friction)


class Ingested(NamedTuple):
    events: beam.PCollection  # list[Event]: unique event_ids, passed the events suite
    dead_letters: beam.PCollection  # DeadLetter
    quality_runs: beam.PCollection | None = None  # one quality_runs row (dict) for the events suite
    # QualityResult of each batch that failed a ``fail`` expectation, when not raised in the pipeline
    quality_failures: beam.PCollection | None = None


def read_raw(p: beam.Pipeline, source: Source, config: Config,
             ranges: Sequence[PartitionRange] = (), files: Sequence[InputFile] = ()) -> beam.PCollection:
    """Lists of raw messages; ``files``: a file source's files as the driver expanded them (default: its glob)."""
    if source.kind == KAFKA:
        return p | "ReadKafka" >> ReadKafkaMessages(source.location, ranges, config.kafka,
                                                    config.topics.by_channel_topic())
    if source.kind == FILE:
        return p | "ReadFiles" >> ReadEventFiles(files or source.location)
    raise ValueError(f"unknown source kind {source.kind!r}")


def build_ingest(raw: beam.PCollection, config: Config, run_started_ms: int,
                 dead_letter_bootstrap: str | None = None, run_id: str | None = None,
                 raise_on_fail: bool = True) -> Ingested:
    """``dead_letter_bootstrap``: publish dead letters' raw bytes to that broker too;
    ``run_id``: names the run's quality_runs row; ``raise_on_fail``: a failed ``fail``
    expectation of the events suite fails the pipeline (false: it is only in
    ``quality_failures``, and the caller must stop the run on any)."""
    parsed = raw | "ParseEvents" >> ParseEvents(config.validation, run_started_ms, config.kafka.registry_url)
    events = parsed[EVENTS] | "DropDuplicateEvents" >> DropDuplicateEvents()
    dead_letters = parsed[DEAD_LETTERS]
    quality_runs = quality_failures = None
    if config.quality.enabled:
        validated = events | "ValidateEvents" >> ValidateEvents(
            config.quality.events_suite, config.quality.policy_path,
            parameters=quality.event_parameters(config.validation, run_started_ms),
            run_id=run_id, checked_at_ms=run_started_ms, raise_on_fail=raise_on_fail)
        events, quality_runs, quality_failures = validated.events, validated.quality_runs, validated.failures
        dead_letters = (dead_letters, validated.dead_letters) | "AllDeadLetters" >> beam.Flatten()
    if dead_letter_bootstrap:
        dead_letters = dead_letters | "PublishDeadLetters" >> PublishDeadLetters(
            dead_letter_bootstrap, config.topics.dead_letters, config.kafka)
    return Ingested(events, dead_letters, quality_runs, quality_failures)


def build_journeys(events: beam.PCollection, config: Config, history_url: str | None = None,
                   partial: bool = False) -> JourneyOutputs:
    """``events``: lists of events (transforms/batches.py); ``history_url``: a warehouse whose
    stored events complete the customers this run touches; ``partial``: a returning customer is
    rebuilt from the journey its new events can change on (its ``rebuilt_since``), which only a
    landing that keeps its journeys before may take (transforms/journeys.py)."""
    customers = (events
                 | "StitchIdentities" >> StitchIdentities(history_url)
                 | "SessioniseJourneys" >> SessioniseJourneys(config, history_url, partial))
    return JourneyOutputs(customers)
