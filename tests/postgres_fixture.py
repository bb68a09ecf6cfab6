"""Real-PostgreSQL fixtures; conftest.py re-exports them (``from postgres_fixture import *``)."""
from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql

from journeys.servers.postgres_server import LocalPostgres

__all__ = ["postgres_url", "pg_schema"]


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
