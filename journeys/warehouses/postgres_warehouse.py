"""PostgreSQL warehouse (``postgresql://USER@HOST:PORT/DB``).

Each table's rows go into a temporary staging table, then the shared upsert
SQL applies them, all in one transaction: batched, never row by row. A run's
files are staged without Python per row (landing_files): their lines are
``COPY``ed as text (only backslash, tab and CR escaped, in blocks), and
``json_to_record`` reads each line into the table's types in SQL; a value not
in the pipeline's shapes fails a cast there (class 22, a DataError). The row-by-row fallback
``COPY``s the rows converted in Python.
"""
from __future__ import annotations

from pathlib import Path

import psycopg

from journeys.warehouses import landing_files as files
from journeys.warehouses.base import Warehouse
from journeys.warehouses.landing_files import quote

BLOCK_BYTES = 1 << 20  # a run file goes to COPY in blocks of this size
# COPY's text format: a backslash starts an escape, a tab ends a column, CR and LF end a row.
_COPY_ESCAPES = ((b"\\", b"\\\\"), (b"\t", b"\\t"), (b"\r", b"\\r"))


class PostgresWarehouse(Warehouse):
    placeholder = "%s"
    epoch_ms = "CAST(round(extract(epoch FROM {}) * 1000) AS BIGINT)"
    # Class 22 (a value that does not cast, NUL in text) and 23 (a constraint); a str psycopg cannot encode.
    # A run file's line that is not JSON or not UTF-8 is class 22 too.
    data_errors = (psycopg.DataError, psycopg.IntegrityError, UnicodeError)
    unnest = "json_array_elements_text({})"

    def __init__(self, url: str):
        super().__init__(url)
        self._files_read = 0  # names the temp tables of the lines read

    def connect(self):
        return psycopg.connect(self.url)

    def read_only_connection(self):
        con = psycopg.connect(self.url, autocommit=True)
        con.execute("SET default_transaction_read_only = on")
        return con

    def create_staged(self, con, table: str) -> None:
        con.execute(f"CREATE TEMP TABLE staged_{table} (LIKE {table}) ON COMMIT DROP")

    def stage(self, con, table: str, columns: list[str], rows: list[tuple]) -> None:
        self.create_staged(con, table)
        with con.cursor() as cursor:
            quoted = ", ".join(quote(c) for c in columns)
            with cursor.copy(f"COPY staged_{table} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

    def file_rows(self, con, paths: list[Path], kinds: list[tuple[str, str]]) -> str:
        self._files_read += 1
        lines = f"run_lines_{self._files_read}"
        with con.cursor() as cursor:
            cursor.execute(f"CREATE TEMP TABLE {lines} (line text) ON COMMIT DROP")
            with cursor.copy(f"COPY {lines} FROM STDIN") as copy:
                for path in paths:
                    with open(path, "rb") as stream:
                        while block := stream.read(BLOCK_BYTES):
                            for raw, escaped in _COPY_ESCAPES:
                                block = block.replace(raw, escaped)
                            copy.write(block)
        columns = ", ".join(f"{quote(name)} {files.READ_AS.get(kind, kind)}" for name, kind in kinds)
        values = ", ".join(f"{files.checked(f'r.{quote(name)}', kind, DIALECT)} AS {quote(name)}"
                           for name, kind in kinds)
        return (f"SELECT {values} FROM {lines} l, json_to_record(l.line::json) AS r({columns}) "
                r"WHERE l.line ~ '\S'")

    def insert_count(self, con, statement: str) -> int:
        with con.cursor() as cursor:
            cursor.execute(statement)
            return cursor.rowcount


# A value that fails the checks is cast to the column's type from a text that none takes: class 22.
DIALECT = files.Dialect(
    json_type="json_typeof({})", type_names={"object": "object", "array": "array", "string": "string", "null": "null"},
    regex="{} ~ {}", string="({} #>> '{{}}')", from_ms="timestamptz 'epoch' + {} * interval '1 millisecond'",
    refuse="CAST({0} AS {1})")
