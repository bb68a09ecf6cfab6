"""The landing's staging tables, from a run's files (the normal path) or from a batch's rows (row by row).

``Warehouse._apply`` runs the same landing SQL over either source (landing_sql):

- ``RunFiles``: the warehouse reads the run directory's JSON-lines files
  itself (``Warehouse.file_rows``, landing_files), no Python per row;
- ``landing_batch.Batch``: rows converted in Python, the fallback that finds
  and refuses the rows the warehouse will not take.

Each function creates its temp tables and returns how many rows it staged.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from journeys.core import tables
from journeys.warehouses import landing_batch
from journeys.warehouses.landing_files import RUN_FILE_KINDS, column_kinds, quote

JOURNEY_TABLES = tuple(t.name for t in tables.JOURNEY_TABLES)  # always staged: replace_journeys reads them all


def run_files(run_dir: Path, table: str) -> list[Path]:
    return sorted(Path(run_dir).glob(f"{table}-*.jsonl"))


class RunFiles(NamedTuple):
    """A run directory as its files: what the warehouse reads itself (landing_files)."""
    run_dir: Path

    def paths(self, table: str) -> list[Path]:
        return [path for path in run_files(self.run_dir, table) if path.stat().st_size]


Source = RunFiles | landing_batch.Batch


def stage_days(warehouse, con, source: Source, name: str = "touched_days") -> int:
    """Creates ``staged_<name>``: the days the run recomputed whole (``touched_days``), or the
    days it left to be recomputed at the run's end (``pending_days``)."""
    cursor = con.cursor()
    cursor.execute(f"CREATE TEMP TABLE staged_{name} (day DATE PRIMARY KEY)")
    if isinstance(source, RunFiles):
        paths = source.paths(name)
        if not paths:
            return 0
        rows = warehouse.file_rows(con, paths, RUN_FILE_KINDS[name])
        return warehouse.insert_count(con, f"INSERT INTO staged_{name} SELECT DISTINCT day FROM ({rows}) f")
    days = sorted({day for (day,) in source.values(name)})
    if days:
        cursor.executemany(f"INSERT INTO staged_{name} VALUES ({warehouse.placeholder})", [[d] for d in days])
    return len(days)


def stage_table(warehouse, con, source: Source, table: str) -> int | None:
    """Creates ``staged_<table>`` with the run's rows; None for a keyed table the run has no rows of."""
    if isinstance(source, landing_batch.Batch):
        if table not in source.staged_tables() and table not in JOURNEY_TABLES:
            return None
        rows = source.values(table)
        warehouse.stage(con, table, source.columns[table], rows)
        return len(rows)
    paths = source.paths(table)
    if not paths and table not in JOURNEY_TABLES:
        return None
    warehouse.create_staged(con, table)
    if not paths:
        return 0
    kinds = column_kinds(warehouse.column_types(con, table))
    names = ", ".join(quote(name) for name, _ in kinds)
    count = warehouse.insert_count(con, f"INSERT INTO staged_{table} ({names}) SELECT {names} FROM "
                                        f"({warehouse.file_rows(con, paths, kinds)}) f")
    return count if count or table in JOURNEY_TABLES else None


def stage_customers(warehouse, con, source: Source, file: str = "customers") -> int:
    """Creates ``staged_customers`` (customer_id) and ``staged_customer_devices``: the rebuilt customers
    of ``file`` (``customers`` or ``partial_customers``)."""
    cursor = con.cursor()
    cursor.execute("CREATE TEMP TABLE staged_customers (customer_id VARCHAR PRIMARY KEY)")
    if isinstance(source, landing_batch.Batch):
        rebuilt = source.values(file)
        if rebuilt:
            cursor.executemany(f"INSERT INTO staged_customers VALUES ({warehouse.placeholder})",
                               [[customer] for customer, _ in rebuilt])
        devices = [(device, customer) for customer, devices in rebuilt for device in devices]
        warehouse.stage(con, "customer_devices", ["anonymous_id", "customer_id"], devices)
        return len(rebuilt)
    warehouse.create_staged(con, "customer_devices")
    paths = source.paths(file)
    if not paths:
        return 0
    cursor.execute(f"CREATE TEMP TABLE staged_customer_files AS "
                   f"{warehouse.file_rows(con, paths, RUN_FILE_KINDS[file])}")
    count = warehouse.insert_count(con, "INSERT INTO staged_customers SELECT customer_id FROM staged_customer_files")
    warehouse.insert_count(con, f"INSERT INTO staged_customer_devices SELECT {warehouse.unnest.format('devices')}, "
                                "customer_id FROM staged_customer_files")
    cursor.execute("DROP TABLE staged_customer_files")
    return count


@contextmanager
def timed(seconds: dict[str, float], table: str):
    """Adds the block's wall seconds to ``seconds[table]``."""
    began = time.perf_counter()
    try:
        yield
    finally:
        seconds[table] = seconds.get(table, 0.0) + time.perf_counter() - began
