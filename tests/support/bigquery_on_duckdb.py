"""BigQuery SQL run on DuckDB, after a mechanical translation (no BigQuery or emulator here).

``to_duckdb`` rewrites only spelling, never logic: dataset-qualified names
lose their ```project.dataset.``` qualifier, other backquoted names become
double-quoted, ``BEGIN/COMMIT TRANSACTION`` become ``BEGIN/COMMIT``, BigQuery
types become DuckDB's, ``UNNEST(x) AS y`` names its column, the analytic
``PERCENTILE_CONT(x, p)`` is DuckDB's ``quantile_cont(x, p)``, ``DATE(t.ts)`` (the UTC date)
is ``CAST(timezone('UTC', t.ts) AS DATE)``, and the DB-API's
``%s`` markers are ``?``. ``DuckDBAsBigQuery`` is a DB-API connection shaped
like ``google.cloud.bigquery.dbapi``'s (``execute`` returns None) that runs
every statement through it and records the BigQuery text it was given.
"""
from __future__ import annotations

import re

import duckdb

_TYPES = {"STRING": "VARCHAR", "INT64": "BIGINT", "FLOAT64": "DOUBLE", "BOOL": "BOOLEAN", "TIMESTAMP": "TIMESTAMPTZ"}


def to_duckdb(sql: str) -> str:
    sql = re.sub(r"`[\w-]+\.[\w-]+\.(\w+)`", r"\1", sql)  # `project.dataset.table` -> table
    sql = re.sub(r"`[\w-]+\.[\w-]+`\.", "", sql)  # `project.dataset`.INFORMATION_SCHEMA -> INFORMATION_SCHEMA
    sql = re.sub(r"`(\w+)`", r'"\1"', sql)  # `partition` -> "partition"
    sql = re.sub(r"^BEGIN TRANSACTION$", "BEGIN", sql.strip())
    sql = re.sub(r"^COMMIT TRANSACTION$", "COMMIT", sql)
    sql = re.sub(r"\bUNNEST\((\w+)\) AS (\w+)", r"UNNEST(\1) AS _unnested(\2)", sql)
    sql = re.sub(r"\bPERCENTILE_CONT\(", "quantile_cont(", sql)
    sql = re.sub(r"\bDATE\((\w+\.\w+)\)", r"CAST(timezone('UTC', \1) AS DATE)", sql)  # BigQuery's UTC date
    sql = re.sub(r"ARRAY<(\w+)>", lambda m: _TYPES.get(m.group(1), m.group(1)) + "[]", sql)
    if sql.upper().startswith("CREATE TABLE"):
        sql = re.sub(r"\b(STRING|INT64|FLOAT64|BOOL|TIMESTAMP)\b", lambda m: _TYPES[m.group(1)], sql)
    return sql.replace("%s", "?")


def run_script(con, statements: list[str]) -> list[str]:
    """Runs a BigQuery script's statements on a DuckDB connection; returns the translated statements.

    A BigQuery script's temp tables end with it: so do these.
    """
    translated = [to_duckdb(s) for s in statements]
    for statement in translated:
        con.execute(statement)
    for (name,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall():
        con.execute(f'DROP TABLE temp."{name}"')
    return translated


class _Cursor:
    def __init__(self, owner: DuckDBAsBigQuery):
        self._owner, self._rows = owner, []

    def execute(self, sql: str, parameters=None) -> None:
        self._owner.issued.append(sql)
        self._rows = self._owner.raw.execute(to_duckdb(sql), list(parameters or [])).fetchall()

    def fetchall(self) -> list[tuple]:
        rows, self._rows = self._rows, []
        return rows

    def fetchmany(self, size: int) -> list[tuple]:
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    def close(self) -> None:
        pass


class DuckDBAsBigQuery:
    """Stands in for ``dbapi.connect(client)``: a read-only DuckDB file, queried in BigQuery's spelling."""

    def __init__(self, path: str):
        self.raw = duckdb.connect(path, read_only=True)
        self.issued: list[str] = []

    def cursor(self) -> _Cursor:
        return _Cursor(self)

    def commit(self) -> None:
        pass

    def close(self) -> None:
        self.raw.close()
