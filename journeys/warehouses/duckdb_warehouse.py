"""DuckDB file warehouse (``duckdb:PATH``), the default.

A run's files are staged by DuckDB's ``read_json`` (landing_files): each
column read as its table's type, a time or JSON column as JSON and then
checked and converted, ``error()`` for a value not in the pipeline's shapes. The row-by-row fallback
moves the rows through Arrow, and DuckDB casts each column.
"""
from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import pyarrow as pa

from journeys.warehouses import landing_files as files
from journeys.warehouses.base import NothingStoredYet, Warehouse
from journeys.warehouses.landing_files import literal, quote

PREFIX = "duckdb:"
# DuckDB's own memory (a setting of the open database, not of a connection, so other connections to the
# file keep working): its default, 80 % of RAM, let a landing into a warehouse of 500,000 events lift a
# run's peak by 200 MiB on top of the pipeline's; past this it spills to a temporary file. At 512MB a
# landing into 1,000,000 stored events still rose to 890-900 MiB of RSS; at 256MB to 710, no slower.
MEMORY_LIMIT = "256MB"
log = logging.getLogger(__name__)


class DuckDBWarehouse(Warehouse):
    # A cast or constraint DuckDB refuses, or a value Arrow cannot carry (a lone surrogate, an int beyond 64 bits).
    data_errors = (duckdb.DataError, duckdb.IntegrityError, pa.ArrowInvalid, pa.ArrowTypeError, OverflowError,
                   UnicodeError)
    # read_json's errors for a line that is not JSON or a value that does not transform, and error()'s.
    file_errors = (duckdb.InvalidInputException,)
    unnest = "unnest(CAST({} AS VARCHAR[]))"
    # A query of events by anonymous_id (an IN list: a join after the scan) reads and decompresses every
    # record stored: 0.45-0.5 s at 1,000,000 stored events whatever the devices, and a buffer to match.
    # Rows found by the narrow column first, then read by rowid: 0.05 s for 5 devices, 0.25 s for 500.
    row_id = "rowid"
    epoch_ms = "epoch_ms({})"

    def __init__(self, url: str):
        super().__init__(url)
        self.path = Path(url[len(PREFIX):])
        # None: DuckDB's default, for a file a landing in this process found too big for the bound.
        self.memory_limit: str | None = None if str(self.path) in _UNBOUNDED else MEMORY_LIMIT

    def connect(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(self.path))
        con.execute(f"SET memory_limit = {literal(self.memory_limit)}" if self.memory_limit else "RESET memory_limit")
        con.execute("BEGIN")
        return _Connection(con)

    def land(self, run_dir: Path) -> dict[str, int]:
        """As ``Warehouse.land``; a landing that needs more memory than the bound lands again without it.

        The primary keys' indexes must be in memory where a landing inserts, and they grow with what is
        stored (about 90 bytes an event): past some millions of rows the bound no longer holds them.
        The failed landing was rolled back, or its upserts absorb a second landing of the same rows.
        """
        return self._unbounded_if_needed("landing", lambda: super(DuckDBWarehouse, self).land(run_dir))

    def migrate(self) -> list[int]:
        return self._unbounded_if_needed("migration", lambda: super(DuckDBWarehouse, self).migrate())

    def _unbounded_if_needed(self, what: str, step):
        try:
            return step()
        except (duckdb.OutOfMemoryException, duckdb.TransactionException) as error:
            if self.memory_limit is None or not _out_of_memory(error):
                raise
            log.warning("%s of %s needed more than %s of DuckDB memory (%s); again without that bound",
                        what, self.url, self.memory_limit, str(error).splitlines()[0])
            _UNBOUNDED.add(str(self.path))
            self.memory_limit = None
            return step()

    def read_only_connection(self):
        """Never creates the file: one that does not exist, or is empty, is NothingStoredYet."""
        if not self.path.is_file() or self.path.stat().st_size == 0:
            state = "is empty" if self.path.is_file() else "does not exist"
            raise NothingStoredYet(f"nothing stored in {self.url} yet: {self.path} {state} "
                                   f"(`journeys run --warehouse {self.url}` creates it)")
        return duckdb.connect(str(self.path), read_only=True)

    def records_of_rows(self, con, row_ids: list[int]) -> list[tuple[int, str]]:
        return con.cursor().execute("SELECT rowid, record FROM events WHERE rowid IN "
                                    "(SELECT unnest(CAST(? AS BIGINT[]))) ORDER BY rowid", [row_ids]).fetchall()

    def create_staged(self, con, table: str) -> None:
        con.raw.execute(f"CREATE OR REPLACE TEMP TABLE staged_{table} AS SELECT * FROM {table} LIMIT 0")

    def stage(self, con, table: str, columns: list[str], rows: list[tuple]) -> None:
        raw = con.raw
        self.create_staged(con, table)
        if rows:
            # Arrow moves the rows in one call; DuckDB casts each column to the table's type, and
            # re-writes JSON text as read_json does (compact), so both paths store the same text.
            json_columns = {name for name, kind in self.column_types(con, table) if kind == "JSON"}
            batch = pa.table({c: _arrow_column([row[i] for row in rows]) for i, c in enumerate(columns)})
            raw.register("incoming_rows", batch)
            quoted = ", ".join(quote(c) for c in columns)
            values = ", ".join(f"json_extract(CAST({quote(c)} AS JSON), '$')" if c in json_columns else quote(c)
                               for c in columns)
            raw.execute(f"INSERT INTO staged_{table} ({quoted}) SELECT {values} FROM incoming_rows")
            raw.unregister("incoming_rows")

    def file_rows(self, con, paths: list[Path], kinds: list[tuple[str, str]]) -> str:
        names = ", ".join(literal(str(path)) for path in paths)
        types = ", ".join(f"{literal(name)}: {literal(files.READ_AS.get(kind, kind))}" for name, kind in kinds)
        values = ", ".join(f"{files.checked(quote(name), kind, DIALECT)} AS {quote(name)}" for name, kind in kinds)
        return (f"SELECT {values} FROM read_json([{names}], format = 'newline_delimited', "
                f"columns = {{{types}}})")

    def insert_count(self, con, statement: str) -> int:
        return con.raw.execute(statement).fetchone()[0]


DIALECT = files.Dialect(
    json_type="json_type({})", type_names={"object": "OBJECT", "array": "ARRAY", "string": "VARCHAR", "null": "NULL"},
    regex="regexp_matches({}, {})", string="({} ->> '$')", from_ms="timezone('UTC', epoch_ms({}))",
    refuse="error({0})")


_UNBOUNDED: set[str] = set()  # files landed without the memory bound, for the rest of the process


def _out_of_memory(error: Exception) -> bool:
    """DuckDB's out-of-memory error, also when a COMMIT raised it (then a TransactionException)."""
    text = str(error)
    return isinstance(error, duckdb.OutOfMemoryException) or "could not allocate" in text or "Out of Memory" in text


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
        try:
            self.raw.execute("ROLLBACK")
        except duckdb.TransactionException:
            pass  # no transaction: a COMMIT that failed (it rolls back) left none to end
        self.raw.close()
