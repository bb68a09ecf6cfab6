"""Shared fixtures: one real Kafka broker and one real PostgreSQL server per test session."""
from __future__ import annotations

import uuid

import pytest
from postgres_fixture import pg_schema, postgres_url  # noqa: F401  (fixtures)

from journeys.servers.kafka_broker import LocalKafka, create_topics, ensure_kafka_jars

SESSION_TOPICS = ("web.events", "app.events", "chat.events", "journeys.dead_letters")
PARTITIONS = 3


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory):
    ensure_kafka_jars()
    broker = LocalKafka(tmp_path_factory.mktemp("kafka"))
    # die_with_parent: a killed pytest must not leave a JVM behind.
    bootstrap = broker.start(die_with_parent=True)
    try:
        create_topics(bootstrap, SESSION_TOPICS, partitions=PARTITIONS)
        yield bootstrap
    finally:
        broker.stop()


@pytest.fixture
def kafka_topics(kafka_bootstrap):
    """Fresh topics per test so tests never read each other's records."""
    suffix = uuid.uuid4().hex[:12]
    topics = {name: f"test-{suffix}.{name}" for name in ("web", "app", "chat", "dead_letters")}
    create_topics(kafka_bootstrap, topics.values(), partitions=PARTITIONS)
    return {**topics, "bootstrap": kafka_bootstrap}
