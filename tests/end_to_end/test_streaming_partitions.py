"""Partitions added to a topic while a streaming read runs are read too (transforms/kafka_stream.py).

Against the session broker, no Flink (the full streaming run with an added
partition is tests/end_to_end/test_streaming.py's cluster case):

- ``WatchPartitions`` called the way a runner calls it (a tracker, a
  checkpoint, the residual resumed): the planned partitions are never handed
  out; after ``create_partitions`` takes web from 3 to 5 partitions, web:3
  starts at 0 (nothing committed, earliest kept) and web:4 at 1 (the group
  committed offset 1 there), each once; on the stop marker it finishes.
- ``ReadKafkaStream`` under the in-process FnApiRunner: 2 messages on each of
  web's 3 partitions before it starts, a 4th partition added and 3 messages
  produced to it while it runs, then the stop marker at the end offsets:
  out come exactly the 2 * 3 + 3 = 9 messages, by (partition, offset).
"""
from __future__ import annotations

import threading
import time

import apache_beam as beam
import pytest
from apache_beam.io.watermark_estimators import ManualWatermarkEstimator
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.sdf_utils import RestrictionTrackerView, ThreadsafeRestrictionTracker
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.utils.timestamp import Timestamp
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata
from support.streaming_jobs import grow_topic

from journeys.core.config import KafkaConfig, StreamingConfig
from journeys.transforms.kafka_stream import (
    KnownPartitions,
    ReadKafkaStream,
    StopMarker,
    StreamPartition,
    WatchPartitions,
    _KnownTracker,
    end_offsets,
    partition_key,
    plan_stream_start,
)

pytestmark = [pytest.mark.slow, pytest.mark.kafka]

STREAMING = StreamingConfig(poll_batch_s=0.3, resume_delay_s=0.05, partition_discovery_s=0.2, idle_partition_s=1)


def _produce(bootstrap: str, topic: str, partition: int, n: int) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        for i in range(n):
            producer.send(topic, value=f"m{partition}-{i}".encode(), partition=partition)
        producer.flush()
    finally:
        producer.close()


def _call(fn: WatchPartitions, restriction: KnownPartitions, watermark: ManualWatermarkEstimator):
    """One process call as a runner makes it: (outputs, the checkpoint's residual or None, the tracker)."""
    tracker = ThreadsafeRestrictionTracker(_KnownTracker(restriction))
    out = list(fn.process(restriction.keys, tracker=RestrictionTrackerView(tracker), watermark=watermark))
    deferred = tracker.deferred_status()
    return out, deferred[0] if deferred else None, tracker


def test_watch_partitions_hands_out_each_added_partition_once_from_its_start(kafka_topics, tmp_path):
    bootstrap, web = kafka_topics["bootstrap"], kafka_topics["web"]
    kafka = KafkaConfig(consumer_group=f"watch-{web}")
    topics = [kafka_topics[c] for c in ("web", "app", "chat")]
    planned = tuple(sorted(partition_key(p.topic, p.partition) for p in plan_stream_start(bootstrap, topics, kafka)))
    assert len(planned) == 9
    marker = StopMarker(str(tmp_path / "stop.json"))
    fn = WatchPartitions(bootstrap, topics, kafka, STREAMING, marker.path)
    fn.setup()
    try:
        watermark = ManualWatermarkEstimator(None)
        out, residual, _ = _call(fn, KnownPartitions(planned), watermark)
        assert out == [] and residual == KnownPartitions(planned)

        assert [grow_topic(bootstrap, web), grow_topic(bootstrap, web)] == [3, 4]
        _produce(bootstrap, web, 4, 2)
        committer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=kafka.consumer_group)
        committer.commit({TopicPartition(web, 4): OffsetAndMetadata(1, "", -1)})
        committer.close()
        before = Timestamp.now() - STREAMING.out_of_orderness_s
        out, residual, _ = _call(fn, residual, watermark)
        assert sorted(v.value for v in out) == [StreamPartition(web, 3, 0), StreamPartition(web, 4, 1)]
        assert all(v.timestamp >= before for v in out) and watermark.current_watermark() >= before
        assert residual.keys == tuple(sorted({*planned, f"{web}:3", f"{web}:4"})) and not residual.done

        out, residual, _ = _call(fn, residual, watermark)
        assert out == [], "a partition handed out twice"
        marker.write(None)
        out, residual, tracker = _call(fn, residual, watermark)
        assert out == [] and residual is None
        tracker.check_done()  # finished, not checkpointed
    finally:
        fn.teardown()


def test_read_kafka_stream_reads_a_partition_added_while_it_runs(kafka_topics, tmp_path):
    bootstrap, web = kafka_topics["bootstrap"], kafka_topics["web"]
    kafka = KafkaConfig(consumer_group=f"read-{web}")
    topics = {kafka_topics[c]: c for c in ("web", "app", "chat")}
    for partition in range(3):
        _produce(bootstrap, web, partition, 2)
    planned = plan_stream_start(bootstrap, topics, kafka)
    marker = StopMarker(str(tmp_path / "stop.json"))
    errors = []

    def grow_then_stop():
        try:
            time.sleep(2)  # the job is running: the watcher has looked at least once
            assert grow_topic(bootstrap, web) == 3
            _produce(bootstrap, web, 3, 3)
            listed = plan_stream_start(bootstrap, topics, kafka)
            assert len(listed) == 10
            marker.write(end_offsets(bootstrap, kafka, listed))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
            marker.write(None)

    grower = threading.Thread(target=grow_then_stop, daemon=True)
    grower.start()
    with beam.Pipeline(options=PipelineOptions(["--runner=FnApiRunner"])) as pipeline:
        read = (pipeline
                | ReadKafkaStream(bootstrap, planned, kafka, STREAMING, topics, marker.path)
                | beam.Map(lambda m: (m.source, m.partition, m.offset, m.value)))
        assert_that(read, equal_to([(web, p, o, f"m{p}-{o}".encode()) for p in range(3) for o in range(2)]
                                   + [(web, 3, o, f"m3-{o}".encode()) for o in range(3)]))
    grower.join()
    assert not errors, errors
