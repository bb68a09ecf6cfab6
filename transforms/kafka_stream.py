"""An unbounded read of Kafka topics with kafka-python: one splittable DoFn restriction per partition.

Each topic partition is one element whose restriction is the offset range
``[start, sys.maxsize)``, ``start`` being the consumer group's committed offset
(else the earliest kept): ``plan_stream_start`` decides it in the driver. A
``process`` call polls for ``poll_batch_s``, claims every offset it emits
(``tracker.try_claim``) and then checkpoints itself (``defer_remainder``), so a
runner resumes the partition where it stopped. Nothing is committed here: the
lander commits offsets only after it has landed them (pipelines/micro_batches.py).

Watermark: the Kafka record timestamp (CreateTime: when the tracker sent it, or
the event time if the producer sets it) minus ``out_of_orderness_s``; a
partition with no record for ``idle_partition_s`` moves to now minus
``out_of_orderness_s`` so that a quiet partition does not hold the others back.
The tables do not depend on it (micro-batches fire on processing time and the
warehouse rebuilds every touched customer); it lets windows downstream close.

Stopping: the driver writes a stop marker (a JSON file, ``StopMarker``). With
``stop_offsets`` every partition reads up to that offset and finishes; empty,
every partition finishes at its next poll. A finished restriction ends the job
once every partition has finished.

New partitions: the driver plans the partitions there are when it starts;
``WatchPartitions``, a self-rescheduling splittable DoFn, lists the topics'
partitions every ``partition_discovery_s`` and emits a ``StreamPartition`` for
each one it has not seen (from the group's committed offset, else the earliest
kept) into the same reader, so its messages land, dead-letter and commit like
any other partition's. The partitions it has handed out are its restriction
(``KnownPartitions``), so a checkpoint and resume never hands one out twice.
Its watermark is now minus ``out_of_orderness_s`` (an idle partition's), so it
holds nothing back. On the stop marker it looks once more, then finishes: a
partition the marker has no stop offset for finishes at once (read by the next
run, as nothing of it was committed).
"""
from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable, Mapping
from typing import NamedTuple

import apache_beam as beam
from apache_beam.io.iobase import RestrictionProgress, RestrictionTracker
from apache_beam.io.restriction_trackers import OffsetRange, OffsetRestrictionTracker
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.transforms.core import RestrictionProvider, WatermarkEstimatorProvider
from apache_beam.transforms.window import TimestampedValue
from apache_beam.utils.timestamp import Duration, Timestamp
from kafka import TopicPartition

from journeys.core.config import KafkaConfig, StreamingConfig
from journeys.transforms.kafka_read import _consumer, plan_bounded_read
from journeys.wire.decode import AVRO, RawMessage

MAX_POLL_MS = 200


class StreamPartition(NamedTuple):
    topic: str
    partition: int
    start: int  # the first offset to read


def plan_stream_start(bootstrap: str, topics: Iterable[str], kafka: KafkaConfig) -> list[StreamPartition]:
    """Every partition of ``topics``, from the group's committed offset (else the earliest kept)."""
    return [StreamPartition(r.topic, r.partition, r.start) for r in plan_bounded_read(bootstrap, topics, kafka)]


def end_offsets(bootstrap: str, kafka: KafkaConfig, partitions: Iterable[StreamPartition]) -> dict[str, int]:
    """``{"topic:partition": end offset}`` now."""
    consumer = _consumer(bootstrap, kafka, None)
    try:
        ends = consumer.end_offsets([TopicPartition(p.topic, p.partition) for p in partitions])
        return {partition_key(tp.topic, tp.partition): offset for tp, offset in ends.items()}
    finally:
        consumer.close()


def end_offsets_and_lag(bootstrap: str, kafka: KafkaConfig,
                        partitions: Iterable[StreamPartition]) -> tuple[dict[str, int], int]:
    """``({"topic:partition": end offset}, messages not yet committed by the consumer group)`` now."""
    consumer = _consumer(bootstrap, kafka, kafka.consumer_group)
    try:
        tps = [TopicPartition(p.topic, p.partition) for p in partitions]
        ends, begins = consumer.end_offsets(tps), consumer.beginning_offsets(tps)
        lag = sum(max(0, ends[tp] - max(consumer.committed(tp) or 0, begins[tp])) for tp in tps)
        return {partition_key(tp.topic, tp.partition): offset for tp, offset in ends.items()}, lag
    finally:
        consumer.close()


def partition_key(topic: str, partition: int) -> str:
    return f"{topic}:{partition}"


class StopMarker:
    """The file that tells every partition reader to finish (the driver writes it; readers poll it)."""

    def __init__(self, path: str):
        self.path = str(path)

    def write(self, stop_offsets: Mapping[str, int] | None = None) -> None:
        """``stop_offsets``: read each partition up to there, then finish; None: finish now."""
        partial = f"{self.path}.{os.getpid()}.tmp"
        with open(partial, "w") as out:
            json.dump({"stop_offsets": dict(stop_offsets or {})}, out)
        os.replace(partial, self.path)  # readers see no marker or a whole one

    def read(self) -> dict[str, int] | None:
        """None while there is no marker; else the stop offsets (empty: stop now)."""
        try:
            with open(self.path) as marker:
                return json.load(marker).get("stop_offsets") or {}
        except FileNotFoundError:
            return None
        except ValueError:
            return None  # being written by another process: look again at the next poll


class _Offsets(RestrictionProvider):
    def initial_restriction(self, element: StreamPartition) -> OffsetRange:
        return OffsetRange(element.start, sys.maxsize)

    def create_tracker(self, restriction: OffsetRange) -> OffsetRestrictionTracker:
        return OffsetRestrictionTracker(restriction)

    def restriction_size(self, element, restriction: OffsetRange) -> int:
        return restriction.size()

    def split(self, element, restriction):
        yield restriction  # one reader per partition keeps the partition's order

    def truncate(self, element, restriction):
        return None  # on drain: stop reading (what was not landed is not committed either)


class _Watermark(WatermarkEstimatorProvider):
    def initial_estimator_state(self, element, restriction):
        return None  # no watermark before the first record

    def create_watermark_estimator(self, state) -> ManualWatermarkEstimator:
        return ManualWatermarkEstimator(state)


_RESTRICTION = beam.DoFn.RestrictionParam(_Offsets())
_WATERMARK = beam.DoFn.WatermarkEstimatorParam(_Watermark())


def _finish(tracker) -> None:
    tracker.try_claim(tracker.current_restriction().stop)  # claims nothing; marks the rest done


def _advance(watermark, stamp: Timestamp) -> None:
    current = watermark.current_watermark()
    if current is None or stamp > current:
        watermark.set_watermark(stamp)


class ReadPartitionStream(beam.DoFn):
    """StreamPartition -> RawMessage per Kafka record, timestamped with the record timestamp."""

    def __init__(self, bootstrap: str, kafka: KafkaConfig, streaming: StreamingConfig,
                 channel_by_topic: Mapping[str, str], stop_marker: str):
        self._bootstrap = bootstrap
        self._kafka = kafka
        self._streaming = streaming
        self._channel_by_topic = dict(channel_by_topic)
        self._stop_marker = stop_marker
        self._read = beam.metrics.Metrics.counter("journeys", "kafka_messages_read")

    def setup(self):
        self._consumer = _consumer(self._bootstrap, self._kafka, None)
        self._marker = StopMarker(self._stop_marker)
        self._last_record = {}  # partition key -> monotonic time of its last record (this worker)

    def teardown(self):
        self._consumer.close()

    @beam.DoFn.unbounded_per_element()
    def process(self, element: StreamPartition, tracker=_RESTRICTION, watermark=_WATERMARK):
        key = partition_key(element.topic, element.partition)
        tp = TopicPartition(element.topic, element.partition)
        position = tracker.current_restriction().start
        lag = Duration.of(self._streaming.out_of_orderness_s)
        stops = self._marker.read()
        stop_at = None if stops is None else stops.get(key, -1)  # -1: stop now
        if stop_at is not None and position >= stop_at:
            _finish(tracker)
            return
        self._consumer.assign([tp])
        self._consumer.seek(tp, position)
        channel = self._channel_by_topic.get(element.topic)
        deadline = time.monotonic() + self._streaming.poll_batch_s
        caught_up = False
        while time.monotonic() < deadline and not caught_up:
            records = self._consumer.poll(timeout_ms=MAX_POLL_MS).get(tp, [])
            caught_up = not records
            for record in records:
                if stop_at is not None and record.offset >= stop_at:
                    _finish(tracker)
                    return
                if not tracker.try_claim(record.offset):
                    return
                self._read.inc()
                stamp = Timestamp.of(record.timestamp / 1000) if record.timestamp and record.timestamp > 0 \
                    else Timestamp.now()
                _advance(watermark, stamp - lag)
                yield TimestampedValue(RawMessage(source=element.topic, partition=element.partition,
                                                  offset=record.offset, value=record.value or b"", framing=AVRO,
                                                  key=record.key, timestamp_ms=record.timestamp,
                                                  channel=channel), stamp)
            if records:
                self._last_record[key] = time.monotonic()
        quiet_since = self._last_record.setdefault(key, time.monotonic())
        if caught_up and time.monotonic() - quiet_since >= self._streaming.idle_partition_s:
            _advance(watermark, Timestamp.now() - lag)
        tracker.defer_remainder(Duration.of(self._streaming.resume_delay_s if caught_up else 0))


class KnownPartitions(NamedTuple):
    """WatchPartitions' restriction: the partitions handed to readers so far; ``done`` once stopped."""
    keys: tuple[str, ...]  # partition_key(topic, partition), sorted
    done: bool = False


class _KnownTracker(RestrictionTracker):
    """Claims are sets of partitions to add; a checkpoint's residual carries every partition claimed."""

    def __init__(self, restriction: KnownPartitions):
        self._restriction = restriction
        self._checkpointed = False

    def current_restriction(self) -> KnownPartitions:
        return self._restriction

    def try_claim(self, keys) -> bool:
        """``keys``: partitions about to be handed out (True: hand them out); None: finish (False)."""
        if self._restriction.done or self._checkpointed:
            return False
        if keys is None:
            self._restriction = self._restriction._replace(done=True)
            return False
        self._restriction = KnownPartitions(tuple(sorted({*self._restriction.keys, *keys})))
        return True

    def try_split(self, fraction_of_remainder):
        if fraction_of_remainder != 0 or self._restriction.done or self._checkpointed:
            return None  # only checkpoints: one watcher
        self._checkpointed = True
        residual, self._restriction = self._restriction, self._restriction._replace(done=True)
        return self._restriction, residual

    def check_done(self):
        if not self._restriction.done:
            raise ValueError(f"WatchPartitions stopped without finishing or checkpointing: {self._restriction}")

    def current_progress(self) -> RestrictionProgress:
        return RestrictionProgress(fraction=1.0 if self._restriction.done else 0.0)

    def is_bounded(self) -> bool:
        return False


class _Known(RestrictionProvider):
    def initial_restriction(self, element: tuple[str, ...]) -> KnownPartitions:
        return KnownPartitions(tuple(sorted(element)))

    def create_tracker(self, restriction: KnownPartitions) -> _KnownTracker:
        return _KnownTracker(restriction)

    def restriction_size(self, element, restriction) -> int:
        return 0 if restriction.done else 1

    def truncate(self, element, restriction):
        return None  # on drain: stop watching


_KNOWN = beam.DoFn.RestrictionParam(_Known())


class WatchPartitions(beam.DoFn):
    """(partition keys the driver planned) -> a StreamPartition per partition added to ``topics`` later.

    Every ``partition_discovery_s`` (processing time): the topics' partitions from fresh metadata; each not
    known yet starts at the group's committed offset, else the earliest kept (``plan_stream_start``).
    """

    def __init__(self, bootstrap: str, topics: Iterable[str], kafka: KafkaConfig, streaming: StreamingConfig,
                 stop_marker: str):
        self._bootstrap = bootstrap
        self._topics = sorted(topics)
        self._kafka = kafka
        self._streaming = streaming
        self._stop_marker = stop_marker
        self._found = beam.metrics.Metrics.counter("journeys", "kafka_partitions_discovered")

    def setup(self):
        self._consumer = _consumer(self._bootstrap, self._kafka, None)
        self._marker = StopMarker(self._stop_marker)

    def teardown(self):
        self._consumer.close()

    def _listed(self) -> set[str]:
        self._consumer.topics()  # refreshes the metadata (partitions_for_topic alone reads a cache)
        return {partition_key(topic, p) for topic in self._topics
                for p in self._consumer.partitions_for_topic(topic) or ()}

    @beam.DoFn.unbounded_per_element()
    def process(self, element, tracker=_KNOWN, watermark=_WATERMARK):
        stopping = self._marker.read() is not None  # then one last look, so the marker's partitions are read
        new = self._listed() - set(tracker.current_restriction().keys)
        stamp = Timestamp.now() - Duration.of(self._streaming.out_of_orderness_s)
        if new and tracker.try_claim(new):
            topics = sorted({key.rpartition(":")[0] for key in new})
            for part in plan_stream_start(self._bootstrap, topics, self._kafka):
                if partition_key(part.topic, part.partition) in new:
                    self._found.inc()
                    yield TimestampedValue(part, stamp)
        _advance(watermark, stamp)  # like an idle partition's: holds nothing back
        if stopping:
            tracker.try_claim(None)
            return
        tracker.defer_remainder(Duration.of(self._streaming.partition_discovery_s))


class ReadKafkaStream(beam.PTransform):
    """PBegin -> unbounded PCollection[RawMessage] of every partition in ``partitions``, and of every
    partition added to their topics while the job runs (``WatchPartitions``)."""

    def __init__(self, bootstrap: str, partitions: Iterable[StreamPartition], kafka: KafkaConfig,
                 streaming: StreamingConfig, channel_by_topic: Mapping[str, str], stop_marker: str):
        super().__init__()
        self._bootstrap = bootstrap
        self._partitions = list(partitions)
        self._fn = ReadPartitionStream(bootstrap, kafka, streaming, channel_by_topic, stop_marker)
        self._watch = WatchPartitions(bootstrap, channel_by_topic, kafka, streaming, stop_marker)

    def expand(self, pbegin):
        planned = tuple(sorted(partition_key(p.topic, p.partition) for p in self._partitions))
        added = (pbegin
                 | "Planned" >> beam.Create([planned])
                 | "WatchPartitions" >> beam.ParDo(self._watch))
        return ((pbegin | "Partitions" >> beam.Create(self._partitions), added)
                | "AllPartitions" >> beam.Flatten()
                | "SpreadPartitions" >> beam.Reshuffle()
                | "ReadPartitions" >> beam.ParDo(self._fn))
