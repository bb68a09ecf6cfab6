"""LocalPostgres against the real Debian PostgreSQL binaries."""
from __future__ import annotations

import socket

import psycopg
import pytest
from psycopg import sql

from journeys.servers.postgres_server import HOST, LocalPostgres, find_pg_bin

pytestmark = pytest.mark.slow
ROWS = 1000


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1):
            return True
    except OSError:
        return False


def test_find_pg_bin_has_server_binaries():
    bin_dir = find_pg_bin()
    assert (bin_dir / "initdb").is_file() and (bin_dir / "postgres").is_file()


def test_start_copy_read_back_and_status(tmp_path):
    server = LocalPostgres(tmp_path / "pg")
    try:
        url = server.start(die_with_parent=True, fsync=False)
        assert url.startswith(f"postgresql://journeys@{HOST}:") and url.endswith("/journeys")
        assert server.url == url
        assert server.start() == url  # already running: same server, no second initdb
        with psycopg.connect(url) as conn, conn.cursor() as cur:
            assert cur.execute("SHOW fsync").fetchone() == ("off",)
            assert cur.execute("SHOW server_encoding").fetchone() == ("UTF8",)
            cur.execute("CREATE TABLE events (id int PRIMARY KEY, name text, score float8)")
            with cur.copy("COPY events (id, name, score) FROM STDIN") as copy:
                for i in range(ROWS):
                    copy.write_row((i, f"név-{i}", i / 2))
            conn.commit()
            rows = cur.execute("SELECT id, name, score FROM events ORDER BY id").fetchall()
        assert rows == [(i, f"név-{i}", i / 2) for i in range(ROWS)]
        status = server.status()
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        assert status["running"] and status["accepting"]
        assert status["url"] == url and status["port"] == port and status["pid"] > 0
        # Another process (here: another instance) sees the same server via state.json.
        assert LocalPostgres(tmp_path / "pg").status()["pid"] == status["pid"]
    finally:
        server.stop()


def test_stop_closes_port_and_is_idempotent(tmp_path):
    server = LocalPostgres(tmp_path / "pg")
    url = server.start(die_with_parent=True)
    port = server.status()["port"]
    assert _port_open(port)
    LocalPostgres(tmp_path / "pg").stop()  # stopping via state.json, like another process would
    server.stop()
    assert not _port_open(port)
    assert server.status() == {"running": False, "url": None, "pid": None, "port": None,
                               "accepting": False, "data_dir": str((tmp_path / "pg").resolve())}
    assert server.url is None
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)
    # Restart reuses the initialised data dir (no second initdb) and keeps the database.
    try:
        assert server.start().endswith("/journeys")
    finally:
        server.stop()


def test_pg_schema_fixture_gives_a_fresh_schema(pg_schema):
    url, schema = pg_schema
    table = sql.Identifier(schema, "t")
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = %s",
                            (schema,)).fetchone() == (0,)
        conn.execute(sql.SQL("CREATE TABLE {} (x int)").format(table))
        conn.execute(sql.SQL("INSERT INTO {} VALUES (1)").format(table))
        assert conn.execute(sql.SQL("SELECT x FROM {}").format(table)).fetchall() == [(1,)]
