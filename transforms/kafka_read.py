"""A bounded read of Kafka topics with kafka-python, split by partition.

The plan (which offsets to read) is fixed before the pipeline starts: from the
consumer group's committed offset (else the earliest) up to the end offset
seen at start. Each partition range is one element, so a runner spreads the
partitions over its workers. Offsets are committed by ``commit_offsets`` only
after the run's output is written (contract section 6). Every consumer here
(planning, reading, committing) has the ``[kafka]`` security settings
(transforms/kafka_clients.py); the reading DoFn reads the password in ``setup``.
"""
from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import NamedTuple

import apache_beam as beam
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from journeys.core.config import KafkaConfig
from journeys.transforms.batches import MESSAGES_PER_ELEMENT, Batch
from journeys.transforms.kafka_clients import explained_kafka_errors, new_consumer
from journeys.wire.decode import AVRO, RawMessage

_NO_LEADER_EPOCH = -1


class PartitionRange(NamedTuple):
    topic: str
    partition: int
    start: int
    stop: int  # exclusive

    @property
    def size(self) -> int:
        return self.stop - self.start


def _consumer(bootstrap: str, kafka: KafkaConfig, group: str | None) -> KafkaConsumer:
    return new_consumer(bootstrap, kafka, group, max_poll_records=kafka.max_poll_records,
                        max_partition_fetch_bytes=kafka.max_partition_fetch_bytes,
                        fetch_max_bytes=kafka.fetch_max_bytes)


def plan_bounded_read(bootstrap: str, topics: Iterable[str], kafka: KafkaConfig) -> list[PartitionRange]:
    """Every partition of ``topics`` from the group's committed offset to the end offset now."""
    consumer = _consumer(bootstrap, kafka, kafka.consumer_group)
    try:
        with explained_kafka_errors(bootstrap, kafka):
            partitions = []
            for topic in topics:
                ids = consumer.partitions_for_topic(topic)
                if not ids:
                    raise ValueError(f"topic {topic!r} does not exist on {bootstrap}; create it or fix the topic names")
                partitions += [TopicPartition(topic, p) for p in sorted(ids)]
            begin = consumer.beginning_offsets(partitions)
            end = consumer.end_offsets(partitions)
            ranges = []
            for tp in partitions:
                committed = consumer.committed(tp)
                # Retention may have deleted what the group last read: start at the earliest kept.
                start = max(committed if committed is not None else 0, begin[tp])
                ranges.append(PartitionRange(tp.topic, tp.partition, start, end[tp]))
            return ranges
    finally:
        consumer.close()


def commit_offsets(bootstrap: str, kafka: KafkaConfig, ranges: Iterable[PartitionRange]) -> None:
    consumer = _consumer(bootstrap, kafka, kafka.consumer_group)
    try:
        with explained_kafka_errors(bootstrap, kafka):
            consumer.commit({TopicPartition(r.topic, r.partition): OffsetAndMetadata(r.stop, "", _NO_LEADER_EPOCH)
                             for r in ranges})
    finally:
        consumer.close()


class _ReadPartitionRangeFn(beam.DoFn):
    def __init__(self, bootstrap: str, kafka: KafkaConfig, channel_by_topic: Mapping[str, str],
                 stall_timeout_s: float):
        self._bootstrap = bootstrap
        self._kafka = kafka
        self._channel_by_topic = dict(channel_by_topic)
        self._stall_timeout_s = stall_timeout_s
        self._read = beam.metrics.Metrics.counter("journeys", "kafka_messages_read")

    def setup(self):
        # Here, on the worker: the password is read now and lives only in the consumer.
        self._consumer = _consumer(self._bootstrap, self._kafka, None)

    def process(self, part: PartitionRange):
        tp = TopicPartition(part.topic, part.partition)
        self._consumer.assign([tp])
        self._consumer.seek(tp, part.start)
        channel = self._channel_by_topic.get(part.topic)
        position, last_progress = part.start, time.monotonic()
        batch: list[RawMessage] = []
        while position < part.stop:
            batches = self._consumer.poll(timeout_ms=self._kafka.poll_timeout_ms)
            if not batches:
                if time.monotonic() - last_progress > self._stall_timeout_s:
                    raise TimeoutError(f"{part.topic}[{part.partition}] stalled at offset {position} "
                                       f"of {part.stop} for {self._stall_timeout_s} s")
                continue
            last_progress = time.monotonic()
            for message in batches.get(tp, ()):
                if message.offset >= part.stop:
                    position = part.stop
                    break
                position = message.offset + 1
                batch.append(RawMessage(source=part.topic, partition=part.partition, offset=message.offset,
                                        value=message.value or b"", framing=AVRO, key=message.key,
                                        timestamp_ms=message.timestamp, channel=channel))
            if len(batch) >= MESSAGES_PER_ELEMENT:
                yield from self._emit(batch)
                batch = []
            # Compacted topics have gaps: the consumer's position is the truth.
            position = max(position, self._consumer.position(tp))
        yield from self._emit(batch)

    def _emit(self, batch: list[RawMessage]):
        if batch:
            self._read.inc(len(batch))
            yield batch

    def teardown(self):
        self._consumer.close()


class ReadKafkaMessages(beam.PTransform):
    """PBegin -> PCollection[list[RawMessage]]: every message in the planned ranges, in lists
    (transforms/batches.py) of up to MESSAGES_PER_ELEMENT consecutive messages of one partition.

    Bounded; global window; each message is emitted once per successful bundle.
    """

    def __init__(self, bootstrap: str, ranges: Iterable[PartitionRange], kafka: KafkaConfig,
                 channel_by_topic: Mapping[str, str], stall_timeout_s: float = 60.0):
        super().__init__()
        self._bootstrap = bootstrap
        self._ranges = [r for r in ranges if r.size > 0]
        self._kafka = kafka
        self._channel_by_topic = channel_by_topic
        self._stall_timeout_s = stall_timeout_s

    def expand(self, pbegin):
        return (pbegin
                | "PartitionRanges" >> beam.Create(self._ranges)
                | "SpreadPartitions" >> beam.Reshuffle()
                | "ReadPartitions" >> beam.ParDo(_ReadPartitionRangeFn(
                    self._bootstrap, self._kafka, self._channel_by_topic, self._stall_timeout_s)
                                                ).with_output_types(Batch))
