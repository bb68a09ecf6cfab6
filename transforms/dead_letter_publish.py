"""PublishDeadLetters: the untouched bytes of every dead letter to a Kafka topic."""
from __future__ import annotations

import apache_beam as beam

from journeys.core.config import KafkaConfig
from journeys.transforms.kafka_clients import new_producer
from journeys.wire.decode import DeadLetter


def dead_letter_headers(dead: DeadLetter) -> list[tuple[str, bytes]]:
    return [("reason", dead.reason.encode()), ("detail", dead.detail.encode()),
            ("source", dead.source.encode()), ("partition", str(dead.partition).encode()),
            ("offset", str(dead.offset).encode())]


class _PublishFn(beam.DoFn):
    def __init__(self, bootstrap: str, topic: str, kafka: KafkaConfig):
        self._bootstrap = bootstrap
        self._topic = topic
        self._kafka = kafka  # settings only: the password is read in setup, on the worker

    def setup(self):
        self._producer = new_producer(self._bootstrap, self._kafka, acks="all")

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
    ``kafka``: the security settings (default PLAINTEXT).
    """

    def __init__(self, bootstrap: str, topic: str, kafka: KafkaConfig | None = None):
        super().__init__()
        self._bootstrap = bootstrap
        self._topic = topic
        self._kafka = kafka or KafkaConfig()

    def expand(self, dead_letters):
        return dead_letters | "PublishToKafka" >> beam.ParDo(_PublishFn(self._bootstrap, self._topic, self._kafka))
