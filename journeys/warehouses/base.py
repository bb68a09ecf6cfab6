"""One sink interface for every warehouse: migrate, then land a run in one transaction.

A run's outputs are JSON-lines files per table under the run directory, each
line one row in the table's own column names (times as epoch ms or ISO-8601).
``land`` stages them and applies them with portable SQL, so DuckDB and
PostgreSQL share the semantics:

- keyed tables (dead_letters, the daily aggregates) are upserted on their
  keys, and events are kept first-landed-wins: the same input twice leaves
  the same rows;
- the days a run recomputed whole (the ``touched_days`` file) lose their old
  daily rows first, so a key that no longer occurs does not linger;
- customers rebuilt from their whole stored history (the ``customers`` file)
  lose all their stored rows and device links first;
- journeys replace, for their customer, every stored journey they overlap in
  time (with its page views and friction rows): a journey that grew, or that
  merged two earlier ones after a late event, takes their place.

A row the warehouse refuses (a data error, not a connection, lock or
permission one) does not fail the landing: it is found, taken out and landed
as a dead letter ``landing_failed`` with the rest (``landing_batch``).
"""
from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from datetime import date, datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Iterator

from journeys.core import tables
from journeys.warehouses import landing_batch, landing_sql

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


def run_files(run_dir: Path, table: str) -> list[Path]:
    return sorted(Path(run_dir).glob(f"{table}-*.jsonl"))


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
        return json.dumps(value, sort_keys=True)
    return value


# The run-only files the landing reads, in the columns it stages them in.
RUN_FILE_COLUMNS = {"touched_days": ["day"], "customers": ["customer_id", "devices"]}


def _converted(table: str, columns: list[str], row: dict) -> tuple:
    """A run file's row as the driver takes it (ValueError, TypeError... for one that is not such a row)."""
    if table == "touched_days":
        return (date.fromisoformat(row["day"]),)
    if table == "customers":
        return row["customer_id"], [str(device) for device in row["devices"]]
    return tuple(column_value(c, row.get(c)) for c in columns)


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
        cursor = con.cursor()
        cursor.execute("SELECT column_name FROM information_schema.columns "
                       f"WHERE table_name = {self.placeholder} AND table_schema = current_schema() "
                       "ORDER BY ordinal_position", [table])
        return [row[0] for row in cursor.fetchall()]

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

        A row the warehouse refuses with one of ``data_errors`` (a value that
        does not cast, a constraint; never a connection, lock or permission
        error, which fails the landing as it is) is found and taken out, and
        lands as a dead letter ``landing_failed`` with the rest
        (landing_batch); ``self.refused`` lists them. Nothing extra when every
        row lands.
        """
        con = self.connect()
        try:
            batch = self._read_batch(con, Path(run_dir))
            while isinstance(outcome := self._attempt(con, batch, commit=True), landing_batch.Failure):
                batch = landing_batch.refuse_culprit(batch, outcome,
                                                     lambda trial: self._attempt(con, trial, commit=False))
        finally:
            con.close()
        self.refused = tuple(batch.refused)
        return outcome

    def _read_batch(self, con, run_dir: Path) -> landing_batch.Batch:
        """The run's files as rows per table in the tables' columns (a line that does not convert is refused)."""
        batch = landing_batch.Batch()
        for table in ("touched_days", *TABLE_KEYS, *JOURNEY_TABLES, "customers"):
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

    def _attempt(self, con, batch: landing_batch.Batch, commit: bool) -> dict[str, int] | landing_batch.Failure:
        """One landing of ``batch``, committed or (a trial) rolled back: rows staged per table, or its Failure."""
        step = ["touched_days"]  # the table whose step runs: where a data error belongs
        try:
            staged = self._apply(con, batch, step)
        except BaseException as error:
            con.rollback()
            if isinstance(error, self.data_errors):
                return landing_batch.Failure(step[0], error)
            raise
        (con.commit if commit else con.rollback)()
        return staged

    def _apply(self, con, batch: landing_batch.Batch, step: list[str]) -> dict[str, int]:
        cursor = con.cursor()
        staged: dict[str, int] = {}
        days = batch.values("touched_days")
        if days:
            self._clear_days(con, [day for (day,) in days])
        present = batch.staged_tables()
        for table in (*TABLE_KEYS, *JOURNEY_TABLES):
            if table not in present and table not in JOURNEY_TABLES:
                continue
            step[0] = table
            rows = batch.values(table)
            self.stage(con, table, batch.columns[table], rows)
            staged[table] = len(rows)
            if table in TABLE_KEYS:
                self._upsert(cursor, table)
        step[0] = "customers"
        rebuilt = batch.values("customers")
        if rebuilt:
            self._replace_customers(con, rebuilt)
        if staged.get("journeys"):
            for table, statement in landing_sql.replace_journeys_by_table(self.names):
                step[0] = table
                cursor.execute(statement)
            cursor.execute(f"DROP TABLE {landing_sql.REPLACED_JOURNEYS}")
        return staged

    def _upsert(self, cursor, table: str) -> None:
        for statement in landing_sql.upsert(self.names, table):
            cursor.execute(statement)

    def _clear_days(self, con, days: list[date]) -> None:
        """The run recomputed these days whole: their old daily rows go."""
        cursor = con.cursor()
        cursor.execute("CREATE TEMP TABLE staged_touched_days (day DATE PRIMARY KEY)")
        cursor.executemany(f"INSERT INTO staged_touched_days VALUES ({self.placeholder})",
                           [[d] for d in sorted(set(days))])
        for statement in landing_sql.clear_days(self.names):
            cursor.execute(statement)
        cursor.execute("DROP TABLE staged_touched_days")

    def _replace_customers(self, con, rebuilt: list[tuple[str, list[str]]]) -> None:
        """Customers (customer_id, devices) rebuilt from their whole history lose every stored row first."""
        cursor = con.cursor()
        cursor.execute("CREATE TEMP TABLE staged_customers (customer_id VARCHAR PRIMARY KEY)")
        cursor.executemany(f"INSERT INTO staged_customers VALUES ({self.placeholder})",
                           [[customer] for customer, _ in rebuilt])
        devices = [(device, customer) for customer, devices in rebuilt for device in devices]
        self.stage(con, "customer_devices", ["anonymous_id", "customer_id"], devices)
        for statement in landing_sql.replace_customers(self.names):
            cursor.execute(statement)
        cursor.execute("DROP TABLE staged_customers")
