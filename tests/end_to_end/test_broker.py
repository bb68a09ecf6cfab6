"""The local broker is a real Kafka: records round-trip, status() is truthful, stop() stops."""
from __future__ import annotations

import socket
import time

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from journeys.servers.kafka_broker import LocalKafka

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

N_MESSAGES = 100
N_KEYS = 17
PARTITIONS = 3
READ_TIMEOUT_S = 60
POLL_MS = 1_000


def _session_broker(tmp_path_factory, bootstrap: str) -> LocalKafka:
    # A fresh LocalKafka on the session's data dir, as another process (the CLI) would build it.
    for data_dir in tmp_path_factory.getbasetemp().glob("kafka*"):
        broker = LocalKafka(data_dir)
        if broker.status()["bootstrap"] == bootstrap:
            return broker
    raise AssertionError(f"no data dir under {tmp_path_factory.getbasetemp()} serves {bootstrap}")


def _port_closed(bootstrap: str) -> bool:
    host, port = bootstrap.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
        return False
    except OSError:
        return True


def test_keyed_messages_round_trip(kafka_topics, tmp_path_factory):
    bootstrap, topic = kafka_topics["bootstrap"], kafka_topics["web"]
    sent = {(f"user-{i % N_KEYS}".encode(), f"event-{i}".encode()) for i in range(N_MESSAGES)}
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for key, value in sent:
        producer.send(topic, key=key, value=value)
    producer.flush()
    producer.close()

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
    assert len(partitions) == PARTITIONS
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    received: list[tuple[bytes, bytes]] = []
    used_partitions: set[int] = set()
    deadline = time.monotonic() + READ_TIMEOUT_S
    while len(received) < N_MESSAGES and time.monotonic() < deadline:
        for tp, records in consumer.poll(timeout_ms=POLL_MS).items():
            used_partitions.add(tp.partition)
            received.extend((r.key, r.value) for r in records)
    consumer.close()

    assert len(received) == N_MESSAGES
    assert set(received) == sent
    assert len(used_partitions) > 1, "keyed records should spread over partitions"

    status = _session_broker(tmp_path_factory, bootstrap).status()
    assert status["running"] is True
    assert status["bootstrap"] == bootstrap
    assert status["pid"]


def test_stop_closes_port_and_status_says_not_running(tmp_path):
    broker = LocalKafka(tmp_path / "kafka")
    bootstrap = broker.start(die_with_parent=True)
    try:
        assert broker.status()["running"] is True
        assert broker.status()["bootstrap"] == bootstrap == broker.bootstrap
    finally:
        broker.stop()

    status = broker.status()
    assert status["running"] is False
    assert status["pid"] is None
    assert broker.bootstrap is None
    assert _port_closed(bootstrap)
    broker.stop()  # idempotent
