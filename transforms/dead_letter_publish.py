"""PublishDeadLetters: the untouched bytes of every dead letter to a Kafka topic."""
from __future__ import annotations

import apache_beam as beam
from kafka import KafkaProducer

from journeys.wire.decode import DeadLetter


def dead_letter_headers(dead: DeadLetter) -> list[tuple[str, bytes]]:
    return [("reason", dead.reason.encode()), ("detail", dead.detail.encode()),
            ("source", dead.source.encode()), ("partition", str(dead.partition).encode()),
            ("offset", str(dead.offset).encode())]


class _PublishFn(beam.DoFn):
    def __init__(self, bootstrap: str, topic: str):
        self._bootstrap = bootstrap
        self._topic = topic

    def setup(self):
        self._producer = KafkaProducer(bootstrap_servers=self._bootstrap, acks="all")

    def process(self, dead: DeadLetter):
        key = f"{dead.source}:{dead.partition}:{dead.offset}".encode()
        self._producer.send(self._topic, key=key, value=dead.raw, headers=dead_letter_headers(dead))
        yield dead

    def finish_bundle(self):
        # A bundle only succeeds once its dead letters are on the broker.
        self._producer.flush()

    def teardown(self):
        self._producer.close()


class PublishDeadLetters(beam.PTransform):
    """PCollection[DeadLetter] -> the same PCollection, after publishing each to ``topic``.

    Raw bytes as value, key ``source:partition:offset``, reason and origin as
    headers. At-least-once: a retried bundle may publish a dead letter twice.
    """

    def __init__(self, bootstrap: str, topic: str):
        super().__init__()
        self._bootstrap = bootstrap
        self._topic = topic

    def expand(self, dead_letters):
        return dead_letters | "PublishToKafka" >> beam.ParDo(_PublishFn(self._bootstrap, self._topic))
