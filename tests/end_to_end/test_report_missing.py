"""Issue 9: `journeys report` and `journeys quality` only read: on a warehouse with nothing stored yet they
create nothing, migrate nothing, and say so in one line (exit 3, as `journeys kafka status` when not running)."""
from urllib.parse import quote

import duckdb
import psycopg
import pytest

from journeys.commands.cli import EXIT_NOTHING_YET, main
from journeys.warehouses import warehouse_for

COMMANDS = ("report", "quality")


def one_line_error(capsys, command):
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"journeys {command}: ") and "yet" in lines[0], lines[0]
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_missing_duckdb_file_is_not_created(tmp_path, capsys, command):
    path = tmp_path / "not" / "there" / "w.duckdb"
    assert main([command, "--warehouse", f"duckdb:{path}"]) == EXIT_NOTHING_YET
    line = one_line_error(capsys, command)
    assert str(path) in line and "does not exist" in line
    assert not path.exists() and not (tmp_path / "not").exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_an_empty_file_is_nothing_yet(tmp_path, capsys, command):
    path = tmp_path / "w.duckdb"
    path.touch()
    assert main([command, "--warehouse", f"duckdb:{path}"]) == EXIT_NOTHING_YET
    assert "is empty" in one_line_error(capsys, command)
    assert path.stat().st_size == 0


@pytest.mark.parametrize("command", COMMANDS)
def test_a_duckdb_file_never_migrated_is_left_alone(tmp_path, capsys, command):
    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    before = path.read_bytes()
    assert main([command, "--warehouse", f"duckdb:{path}"]) == EXIT_NOTHING_YET
    assert "table" in one_line_error(capsys, command)
    assert path.read_bytes() == before
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM information_schema.tables").fetchone() == (0,)


def test_a_migrated_warehouse_without_runs(tmp_path, capsys):
    """Report shows zeros (the tables are there, just empty); quality has no results yet."""
    path = tmp_path / "w.duckdb"
    warehouse_for(f"duckdb:{path}").migrate()
    before = path.read_bytes()
    assert main(["report", "--warehouse", f"duckdb:{path}"]) == 0
    assert "0 journeys of 0 customers" in capsys.readouterr().out
    assert main(["quality", "--warehouse", f"duckdb:{path}"]) == EXIT_NOTHING_YET
    assert "no quality results" in one_line_error(capsys, "quality")
    assert path.read_bytes() == before


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
def test_a_postgres_schema_without_tables_is_left_alone(pg_schema, capsys, command):
    base_url, schema = pg_schema
    url = f"{base_url}?options={quote(f'-csearch_path={schema}')}"
    assert main([command, "--warehouse", url]) == EXIT_NOTHING_YET
    assert "table" in one_line_error(capsys, command)
    with psycopg.connect(base_url) as con:
        assert con.execute("SELECT count(*) FROM pg_tables WHERE schemaname = %s", (schema,)).fetchone() == (0,)
