"""Every fixture of the suite: one real Kafka broker and one real PostgreSQL server per test session.

Tests live in folders by level: rules/ (pure rules, wire decoding, quality
functions), composites/ (Beam composites under TestPipeline), warehouses/
(DuckDB, PostgreSQL, BigQuery SQL), end_to_end/ (commands against real
servers); shared helpers in support/.
"""
from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql

from journeys.servers.kafka_broker import LocalKafka, create_topics, ensure_kafka_jars
from journeys.servers.postgres_server import LocalPostgres

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


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory):
    server = LocalPostgres(tmp_path_factory.mktemp("postgres"))
    # die_with_parent: a killed pytest must not leave a postgres behind. fsync off: the
    # data is thrown away anyway and it makes DDL/COPY-heavy tests much faster.
    url = server.start(die_with_parent=True, fsync=False)
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def pg_schema(postgres_url):
    """(url, schema): a fresh empty schema per test so tests never see each other's tables."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield postgres_url, schema
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
