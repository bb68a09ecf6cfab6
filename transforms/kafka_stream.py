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

Partitions are discovered once, when the driver starts: a partition added to a
topic while a run is going is read from the next run on (README, Streaming).
"""
from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable, Mapping
from typing import NamedTuple

import apache_beam as beam
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


class ReadKafkaStream(beam.PTransform):
    """PBegin -> unbounded PCollection[RawMessage] of every partition in ``partitions``."""

    def __init__(self, bootstrap: str, partitions: Iterable[StreamPartition], kafka: KafkaConfig,
                 streaming: StreamingConfig, channel_by_topic: Mapping[str, str], stop_marker: str):
        super().__init__()
        self._bootstrap = bootstrap
        self._partitions = list(partitions)
        self._fn = ReadPartitionStream(bootstrap, kafka, streaming, channel_by_topic, stop_marker)

    def expand(self, pbegin):
        return (pbegin
                | "Partitions" >> beam.Create(self._partitions)
                | "SpreadPartitions" >> beam.Reshuffle()
                | "ReadPartitions" >> beam.ParDo(self._fn))
