"""Prints how fast ``Warehouse.land`` lands a run: rows/s, and seconds per table.

    python benchmarks/landing_speed.py [N] [--keep DIR | --run-dir DIR] [--postgres URL | --no-postgres] [--repeat K]

1. A run directory: N synthetic events (default 100,000, seed 7) through the
   bounded pipeline on the DirectRunner without a warehouse, which keeps its
   JSON-lines run files (`journeys run --source file:X --output-dir D`). That
   takes minutes: ``--keep DIR`` writes it under DIR and keeps it, and
   ``--run-dir DIR`` lands an existing run directory instead (the path printed
   by an earlier invocation).
2. ``Warehouse.land`` of that directory into a fresh, migrated DuckDB file,
   then again into the same file (every key already stored: the upsert path).
3. The same on PostgreSQL, in a fresh schema: ``--postgres URL``, else a
   private server started with journeys/servers/postgres_server.py (as the
   tests' fixture does) when the PostgreSQL binaries are installed, and
   stopped at the end; ``--no-postgres`` skips it.

Each landing prints its wall seconds, CPU seconds of this process (DuckDB's
threads included; the PostgreSQL server's own CPU is not), rows landed per
wall second, and the seconds of each table's steps (``Warehouse.step_seconds``:
staging plus that table's SQL; ``read`` is reading the files into Python,
which only the fallback for refused rows does). ``--repeat K`` lands K times
and keeps the fastest. Run it with ``nice`` on a shared machine.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from pathlib import Path

from journeys.core.config import Config
from journeys.generators.synthetic import generate_events
from journeys.pipelines.run import RunRequest, run_ingest
from journeys.pipelines.sources import FILE, Source
from journeys.warehouses import warehouse_for


def make_run_dir(n: int, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    events = folder / "events.jsonl"
    with open(events, "w") as out:
        out.writelines(json.dumps(e) + "\n" for e in generate_events(n, seed=7))
    began = time.perf_counter()
    summary = run_ingest(RunRequest(Source(FILE, str(events)), folder / "runs", config=Config()))
    print(f"pipeline: {summary.lines()[0]} in {time.perf_counter() - began:.1f} s")
    return max((folder / "runs").iterdir(), key=lambda path: path.stat().st_mtime)


def timed_land(url: str, run_dir: Path) -> tuple[float, float, dict, dict, int]:
    warehouse = warehouse_for(url)
    wall, cpu = time.perf_counter(), time.process_time()
    staged = warehouse.land(run_dir)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, cpu, staged, dict(getattr(warehouse, "step_seconds", {})), len(warehouse.refused)


def report(label: str, url: str, run_dir: Path, repeat: int, fresh) -> None:
    best = None
    for _ in range(repeat):
        fresh()
        result = timed_land(url, run_dir)
        best = result if best is None or result[0] < best[0] else best
    wall, cpu, staged, steps, refused = best
    rows = sum(staged.values())
    print(f"{label}: {rows:,} rows in {wall:.2f} s wall, {cpu:.2f} s CPU = {rows / wall:,.0f} rows/s"
          + (f" ({refused} refused: dead letters landing_failed)" if refused else ""))
    for table, seconds in sorted(steps.items(), key=lambda item: -item[1]):
        rows_of = f"{staged[table]:>8,} rows" if table in staged else ""  # touched_days, customers: run-only files
        print(f"    {table:<22} {seconds:7.3f} s  {rows_of}")


def bench_duckdb(run_dir: Path, folder: Path, repeat: int) -> None:
    path = folder / "landing.duckdb"
    url = f"duckdb:{path}"

    def fresh():
        path.unlink(missing_ok=True)
        warehouse_for(url).migrate()

    report("duckdb, fresh", url, run_dir, repeat, fresh)
    report("duckdb, again (keys stored)", url, run_dir, repeat, lambda: None)


def bench_postgres(run_dir: Path, base_url: str, repeat: int) -> None:
    import psycopg

    schema = f"landing_{uuid.uuid4().hex[:8]}"
    url = f"{base_url}{'&' if '?' in base_url else '?'}options=-csearch_path%3D{schema}"
    with psycopg.connect(base_url, autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {schema}")

    def fresh():
        with psycopg.connect(base_url, autocommit=True) as con:
            con.execute(f"DROP SCHEMA {schema} CASCADE")
            con.execute(f"CREATE SCHEMA {schema}")
        warehouse_for(url).migrate()

    try:
        report("postgresql, fresh", url, run_dir, repeat, fresh)
        report("postgresql, again (keys stored)", url, run_dir, repeat, lambda: None)
    finally:
        with psycopg.connect(base_url, autocommit=True) as con:
            con.execute(f"DROP SCHEMA {schema} CASCADE")


def local_postgres(folder: Path):
    """A private server (the tests' way), or None without the PostgreSQL binaries."""
    from journeys.servers.postgres_server import LocalPostgres, find_pg_bin

    try:
        find_pg_bin()
    except RuntimeError as missing:
        print(f"postgresql: skipped ({missing})")
        return None
    return LocalPostgres(folder / "postgres")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("events", nargs="?", type=int, default=100_000)
    parser.add_argument("--run-dir", type=Path)
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--postgres", metavar="URL")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        run_dir = args.run_dir or make_run_dir(args.events, args.keep or folder)
        print(f"run directory: {run_dir}")
        bench_duckdb(run_dir, folder, args.repeat)
        if args.no_postgres:
            return
        if args.postgres:
            bench_postgres(run_dir, args.postgres, args.repeat)
        elif server := local_postgres(folder):
            try:
                bench_postgres(run_dir, server.start(die_with_parent=True, fsync=False), args.repeat)
            finally:
                server.stop()


if __name__ == "__main__":
    main()
