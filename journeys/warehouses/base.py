"""One sink interface for every warehouse: migrate, then land a run in one transaction.

A run's outputs are JSON-lines files per table under the run directory, each
line one row in the table's own column names (times as epoch ms or ISO-8601).
``land`` stages them and applies them with portable SQL, so DuckDB and
PostgreSQL share the semantics:

- keyed tables (dead_letters, the daily aggregates) are upserted on their
  keys, and events are kept first-landed-wins: the same input twice leaves
  the same rows;
- the days a run recomputed whole (the ``touched_days`` file) lose their old
  daily rows first, so a key that no longer occurs does not linger, and are
  no longer pending; the days it touched but left for the run's end to
  recompute (the ``pending_days`` file, pipelines/daily_settle.py) are added
  to ``pending_days``;
- customers rebuilt from their whole stored history (the ``customers`` file)
  lose all their stored rows and device links first;
- journeys replace, for their customer, every stored journey they overlap in
  time (with its page views and friction rows): a journey that grew, or that
  merged two earlier ones after a late event, takes their place.

The warehouse stages the run files itself, with no Python per row
(``landing_files``, ``landing_staging``). A row the warehouse refuses (a data
error, not a connection, lock or permission one) does not fail the landing:
the run is landed again row by row, the row found, taken out and landed as a
dead letter ``landing_failed`` with the rest (``landing_batch``).
"""
from __future__ import annotations

import json
import re
import time
from abc import ABC, abstractmethod
from datetime import date, datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Iterator

from journeys.core import tables
from journeys.warehouses import landing_batch, landing_sql, landing_staging
from journeys.warehouses.landing_staging import run_files
from journeys.warehouses.rows import to_json

MIGRATIONS_TABLE = tables.SCHEMA_MIGRATIONS.name
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

# Upsert keys, in landing order; tables not listed here are replaced through their journey.
TABLE_KEYS: dict[str, tuple[str, ...]] = {t.name: t.key for t in tables.KEYED_TABLES}
JOURNEY_TABLES = tuple(t.name for t in tables.JOURNEY_TABLES)
DAILY_TABLES = tuple(t.name for t in tables.DAILY_TABLES)
FIRST_WINS = tables.FIRST_WINS
TIME_COLUMNS = tables.TIME_COLUMNS


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every file in schemas/migrations, in order."""
    folder = resources.files("journeys.schemas").joinpath("migrations")
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text()))
    return sorted(found)


def read_rows(paths: list[Path]) -> Iterator[dict[str, Any]]:
    for path in paths:
        with open(path, encoding="utf-8") as stream:
            for line in stream:
                if line.strip():
                    yield json.loads(line)


# A run's output files that quality checks read (tables plus the run-only files).
RUN_TABLES = ("journeys", "page_views", "page_stats_daily", "friction_daily", "journey_stats_daily",
              "path_edges_daily", "chat_stats_daily", "task_effort_daily", "touched_days", "customers", "events")


def read_run_tables(run_dir: str | Path, tables: Iterable[str] | None = None) -> dict[str, list[dict]]:
    """A run directory's JSON-lines outputs as rows per table (default ``RUN_TABLES``)."""
    return {name: list(read_rows(run_files(Path(run_dir), name))) for name in (tables or RUN_TABLES)}


def to_time(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000, timezone.utc)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def column_value(column: str, value: Any) -> Any:
    if column in TIME_COLUMNS:
        return to_time(value)
    if isinstance(value, (dict, list)):
        return to_json(value)  # as the run file has it, which is what the warehouse reads on the normal path
    return value


# The run-only files the landing reads, in the columns it stages them in.
CUSTOMER_FILES = ("customers", "partial_customers")  # rebuilt whole, rebuilt from a journey on
RUN_FILE_COLUMNS = {"touched_days": ["day"], "pending_days": ["day"],
                    **{name: ["customer_id", "devices"] for name in CUSTOMER_FILES}}


def _converted(table: str, columns: list[str], row: dict) -> tuple:
    """A run file's row as the driver takes it (ValueError, TypeError... for one that is not such a row)."""
    if table in ("touched_days", "pending_days"):
        return (date.fromisoformat(row["day"]),)
    if table in CUSTOMER_FILES:
        return row["customer_id"], [str(device) for device in row["devices"]]
    return tuple(column_value(c, row.get(c)) for c in columns)


# The run-only files' landing steps: (file, its staging, the statements it feeds, the temp tables staging
# made). The days go before the tables, the customers after them (landing_sql's order).
_DAY_STEPS = (("touched_days", landing_staging.stage_days, landing_sql.clear_days, ("staged_touched_days",)),
              ("pending_days", landing_staging.stage_days, landing_sql.add_pending, ("staged_pending_days",)))
_STAGED_CUSTOMERS = ("staged_customers", "staged_customer_devices")
_CUSTOMER_STEPS = (("customers", landing_staging.stage_customers, landing_sql.replace_customers, _STAGED_CUSTOMERS),
                   ("partial_customers", landing_staging.stage_customers, landing_sql.relink_devices, _STAGED_CUSTOMERS))


def split_statements(sql: str) -> list[str]:
    body = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    return [s.strip() for s in body.split(";") if s.strip()]


class NothingStoredYet(LookupError):
    """A warehouse with nothing to read yet: a DuckDB file that does not exist (or is empty), or no tables.

    Raised by the read-only paths, which never create or migrate anything; the
    message is one line that says what is missing and what creates it.
    """


class Warehouse(ABC):
    """A warehouse URL's tables: ``migrate()`` at start, ``land(run_dir)`` per run."""

    def __init__(self, url: str):
        self.url = url
        self.step_seconds: dict[str, float] = {}  # the last landing's seconds per table's steps

    # -- what each backend provides -------------------------------------------
    @abstractmethod
    def connect(self):
        """A DB-API connection in manual-commit mode."""

    @abstractmethod
    def read_only_connection(self):
        """A connection for reads while a pipeline runs (no writer is open then)."""

    @abstractmethod
    def stage(self, con, table: str, columns: list[str], rows: list[tuple]) -> None:
        """Create temp table ``staged_<table>`` shaped like ``table`` and load ``rows`` into it."""

    # The normal path (landing_files): the warehouse reads the run files itself.
    def create_staged(self, con, table: str) -> None:
        """Create temp table ``staged_<table>`` shaped like ``table``, empty."""
        raise NotImplementedError

    def file_rows(self, con, paths: list[Path], kinds: list[tuple[str, str]]) -> str:
        """A SELECT of the files' rows in columns (name, kind), each value checked as landing_files says."""
        raise NotImplementedError

    def insert_count(self, con, statement: str) -> int:
        """Runs an INSERT; the number of rows it inserted."""
        raise NotImplementedError

    # A stored row's own address (DuckDB's rowid), if the warehouse reads rows by it faster than by a filter on
    # another column: the history then finds rows by their narrow columns and reads only their records.
    row_id: str | None = None

    # SQL of a stored TIMESTAMPTZ ({}) as epoch milliseconds (a BIGINT), if the warehouse converts it; else
    # the history converts the driver's datetimes itself.
    epoch_ms: str | None = None

    def records_of_rows(self, con, row_ids: list[int]) -> list[tuple[int, str]]:
        """(row_id, record) of those rows of ``events``, in the order stored (only with ``row_id``)."""
        raise NotImplementedError

    unnest = "unnest({})"  # SQL of the elements of a TEXT_LIST column, one row each
    # What the warehouse raises for a run file it cannot read (a line that is not JSON...): the row-by-row path then.
    file_errors: tuple[type[BaseException], ...] = ()

    # -- shared ----------------------------------------------------------------
    placeholder = "?"  # the driver's parameter marker
    # What the driver raises for a row it cannot store (landing_batch refuses the row); anything else fails the run.
    data_errors: tuple[type[BaseException], ...] = ()
    refused: tuple[landing_batch.Refusal, ...] = ()  # the last landing's refused rows, for the run summary
    dialect = "portable"  # SQL that DuckDB and PostgreSQL both run; "bigquery" where a query must differ
    # The landing's table names (landing_sql): stored tables by name, a run's rows in temp tables staged_<name>.
    names = landing_sql.Names(table=str, staged=lambda name: f"staged_{name}", quote=lambda column: f'"{column}"')

    def present_tables_query(self) -> str:
        """The names of the tables the connection's schema holds."""
        return "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"

    def reading_connection(self, tables: Iterable[str]):
        """``read_only_connection()`` to a warehouse that holds ``tables``, else NothingStoredYet.

        Creates, migrates and locks nothing: for commands that only read (report, quality).
        """
        con = self.read_only_connection()
        try:
            cursor = con.cursor()
            cursor.execute(self.present_tables_query())
            present = {row[0] for row in cursor.fetchall()}
        except BaseException:
            con.close()
            raise
        missing = [table for table in tables if table not in present]
        if missing:
            con.close()
            raise NothingStoredYet(f"nothing stored in {self.url} yet: it has no {missing[0]} table "
                                   f"(`journeys run --warehouse {self.url}` creates the tables)")
        return con

    def columns(self, con, table: str) -> list[str]:
        return [name for name, _ in self.column_types(con, table)]

    def column_types(self, con, table: str) -> list[tuple[str, str]]:
        """(name, data type) of the table's columns, in order."""
        cursor = con.cursor()
        cursor.execute("SELECT column_name, data_type FROM information_schema.columns "
                       f"WHERE table_name = {self.placeholder} AND table_schema = current_schema() "
                       "ORDER BY ordinal_position", [table])
        return [(row[0], row[1]) for row in cursor.fetchall()]

    def migrate(self) -> list[int]:
        """Applies the migrations not applied yet, each in its own transaction; returns their versions."""
        con = self.connect()
        try:
            cursor = con.cursor()
            cursor.execute(f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} "
                           "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL)")
            con.commit()
            cursor.execute(f"SELECT version FROM {MIGRATIONS_TABLE}")
            done = {row[0] for row in cursor.fetchall()}
            applied = []
            for version, name, sql in migrations():
                if version in done:
                    continue
                for statement in split_statements(sql):
                    cursor.execute(statement)
                cursor.execute(f"INSERT INTO {MIGRATIONS_TABLE} VALUES ({', '.join([self.placeholder] * 3)})",
                               [version, name, datetime.now(timezone.utc)])
                con.commit()
                applied.append(version)
            return applied
        finally:
            con.close()

    def land(self, run_dir: Path) -> dict[str, int]:
        """Applies a run's outputs in one transaction; returns rows staged per table.

        The warehouse reads the run's files itself (landing_files). When it
        refuses a row with one of ``data_errors`` (a value that does not cast,
        a constraint; never a connection, lock or permission error, which fails
        the landing as it is), the run is landed again row by row: the row is
        found and taken out, and lands as a dead letter ``landing_failed`` with
        the rest (landing_batch); ``self.refused`` lists them. Nothing extra
        when every row lands. ``self.step_seconds``: seconds per table's steps.
        """
        con = self.connect()
        batch = landing_batch.Batch()
        try:
            outcome = self._attempt(con, landing_staging.RunFiles(Path(run_dir)), commit=True)
            if isinstance(outcome, landing_batch.Failure):
                began = time.perf_counter()
                batch = self._read_batch(con, Path(run_dir))
                read_seconds = time.perf_counter() - began
                while isinstance(outcome := self._attempt(con, batch, commit=True), landing_batch.Failure):
                    batch = landing_batch.refuse_culprit(batch, outcome,
                                                         lambda trial: self._attempt(con, trial, commit=False))
                self.step_seconds = {"read": read_seconds, **self.step_seconds}
        finally:
            con.close()
        self.refused = tuple(batch.refused)
        return outcome

    def _read_batch(self, con, run_dir: Path) -> landing_batch.Batch:
        """The run's files as rows per table in the tables' columns (a line that does not convert is refused)."""
        batch = landing_batch.Batch()
        for table in ("touched_days", "pending_days", *TABLE_KEYS, *JOURNEY_TABLES, *CUSTOMER_FILES):
            columns = RUN_FILE_COLUMNS.get(table) or self.columns(con, table)
            batch.columns[table] = columns
            for path in run_files(run_dir, table):
                received_ms = int(path.stat().st_mtime * 1000)
                # Bytes that are not UTF-8 (a corrupted file) become lone surrogates, which the driver refuses.
                with open(path, encoding="utf-8", errors="surrogateescape") as stream:
                    for line in stream:
                        if line.strip():
                            batch.add(table, line, received_ms, lambda row: _converted(table, columns, row))
        return batch

    def _attempt(self, con, source: landing_staging.Source,
                 commit: bool) -> dict[str, int] | landing_batch.Failure:
        """One landing of the run's files or of a batch, committed or (a trial) rolled back.

        Returns rows staged per table, or the Failure of a data error (for the
        files also what the warehouse raises for a line it cannot read).
        """
        step = ["touched_days"]  # the table whose step runs: where a data error belongs
        seconds: dict[str, float] = {}
        try:
            staged = self._apply(con, source, step, seconds)
        except BaseException as error:
            con.rollback()
            refused = self.data_errors + (self.file_errors if isinstance(source, landing_staging.RunFiles) else ())
            if isinstance(error, refused):
                return landing_batch.Failure(step[0], error)
            raise
        (con.commit if commit else con.rollback)()
        self.step_seconds = seconds
        return staged

    def _apply(self, con, source: landing_staging.Source, step: list[str],
               seconds: dict[str, float]) -> dict[str, int]:
        cursor = con.cursor()
        staged: dict[str, int] = {}
        for name, stage, statements, temp_tables in _DAY_STEPS:
            self._run_file_step(con, source, step, seconds, name, stage, statements, temp_tables)
        for table in (*TABLE_KEYS, *JOURNEY_TABLES):
            step[0] = table
            with landing_staging.timed(seconds, table):
                count = landing_staging.stage_table(self, con, source, table)
                if count is None:
                    continue
                staged[table] = count
                if table in TABLE_KEYS:
                    self._upsert(con, table)
        for name, stage, statements, temp_tables in _CUSTOMER_STEPS:
            self._run_file_step(con, source, step, seconds, name, stage, statements, temp_tables)
        if staged.get("journeys"):
            for table, statement in landing_sql.replace_journeys_by_table(self.names):
                step[0] = table
                with landing_staging.timed(seconds, table):
                    cursor.execute(statement)
            cursor.execute(f"DROP TABLE {landing_sql.REPLACED_JOURNEYS}")
        return staged

    def _run_file_step(self, con, source, step, seconds, name, stage, statements, temp_tables) -> None:
        step[0] = name
        cursor = con.cursor()
        with landing_staging.timed(seconds, name):
            if stage(self, con, source, name):
                for statement in statements(self.names):
                    cursor.execute(statement)
            for temp in temp_tables:
                cursor.execute(f"DROP TABLE {temp}")

    def _upsert(self, con, table: str) -> None:
        cursor = con.cursor()
        for statement in landing_sql.upsert(self.names, table, self._not_null(con, table)):
            cursor.execute(statement)

    def _not_null(self, con, table: str) -> set[str]:
        """The table's NOT NULL columns: their keys match with ``=``, which PostgreSQL can hash or index."""
        cursor = con.cursor()
        cursor.execute("SELECT column_name FROM information_schema.columns "
                       f"WHERE table_name = {self.placeholder} AND table_schema = current_schema() "
                       "AND is_nullable = 'NO'", [table])
        return {row[0] for row in cursor.fetchall()}
