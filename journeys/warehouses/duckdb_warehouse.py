"""DuckDB file warehouse (``duckdb:PATH``), the default."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from journeys.warehouses.base import NothingStoredYet, Warehouse

PREFIX = "duckdb:"


class DuckDBWarehouse(Warehouse):
    # A cast or constraint DuckDB refuses, or a value Arrow cannot carry (a lone surrogate, an int beyond 64 bits).
    data_errors = (duckdb.DataError, duckdb.IntegrityError, pa.ArrowInvalid, pa.ArrowTypeError, OverflowError,
                   UnicodeError)

    def __init__(self, url: str):
        super().__init__(url)
        self.path = Path(url[len(PREFIX):])

    def connect(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(self.path))
        con.execute("BEGIN")
        return _Connection(con)

    def read_only_connection(self):
        """Never creates the file: one that does not exist, or is empty, is NothingStoredYet."""
        if not self.path.is_file() or self.path.stat().st_size == 0:
            state = "is empty" if self.path.is_file() else "does not exist"
            raise NothingStoredYet(f"nothing stored in {self.url} yet: {self.path} {state} "
                                   f"(`journeys run --warehouse {self.url}` creates it)")
        return duckdb.connect(str(self.path), read_only=True)

    def stage(self, con, table: str, columns: list[str], rows: list[tuple]) -> None:
        raw = con.raw
        raw.execute(f"CREATE OR REPLACE TEMP TABLE staged_{table} AS SELECT * FROM {table} LIMIT 0")
        if rows:
            # Arrow moves the rows in one call; DuckDB casts each column to the table's type.
            batch = pa.table({c: _arrow_column([row[i] for row in rows]) for i, c in enumerate(columns)})
            raw.register("incoming_rows", batch)
            quoted = ", ".join(f'"{c}"' for c in columns)
            raw.execute(f"INSERT INTO staged_{table} ({quoted}) SELECT {quoted} FROM incoming_rows")
            raw.unregister("incoming_rows")


def _arrow_column(values: list):
    """A column typed as Arrow infers it; of mixed types or beyond 64 bits, as text (None stays null).

    Then DuckDB's cast refuses exactly the values that do not fit the
    column, each on its own, so a refused row is one row (landing_batch).
    """
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([None if value is None else str(value) for value in values], pa.string())


class _Connection:
    """DuckDB's connection in DB-API shape with explicit transactions."""

    def __init__(self, raw):
        self.raw = raw

    def cursor(self):
        return self.raw

    def commit(self):
        self.raw.execute("COMMIT")
        self.raw.execute("BEGIN")

    def rollback(self):
        self.raw.execute("ROLLBACK")
        self.raw.execute("BEGIN")

    def close(self):
        self.raw.execute("ROLLBACK")
        self.raw.close()
