"""`journeys quality`: the latest run's quality results from a warehouse, and an HTML page."""
from __future__ import annotations

import json
import time

from rich.console import Console
from rich.table import Table

from journeys.quality import QualityResult, build_data_docs, data_docs
from journeys.quality.gx_data_docs import MAX_EVENTS
from journeys.warehouses import warehouse_for
from journeys.warehouses.base import NothingStoredYet
from journeys.warehouses.history import newest_stored_events

LATEST_RUN = """
SELECT run_id, suite, success, evaluated, failed, details FROM quality_runs
WHERE run_id = (SELECT run_id FROM quality_runs ORDER BY checked_at DESC, run_id DESC LIMIT 1)
ORDER BY suite"""


def latest_results(url: str) -> tuple[str | None, list[QualityResult]]:
    con = warehouse_for(url).reading_connection(["quality_runs"])  # read-only; else NothingStoredYet
    try:
        cursor = con.cursor()
        cursor.execute(LATEST_RUN)
        rows = cursor.fetchall()
    finally:
        con.close()
    results = [QualityResult(suite, bool(success), int(evaluated), int(failed),
                             details if isinstance(details, dict) else json.loads(details or "{}"))
               for _, suite, success, evaluated, failed, details in rows]
    return (rows[0][0] if rows else None), results


def quality_report(url: str, html_dir: str | None = None, console: Console | None = None) -> bool:
    """Prints the latest run's results; True when every suite and check passed."""
    console = console or Console()
    run_id, results = latest_results(url)
    if not run_id:
        raise NothingStoredYet(f"no quality results in {url} yet (`journeys run --warehouse {url}` stores them)")
    table = Table(title=f"Data quality, run {run_id}", title_justify="left")
    for column in ("suite", "result", "passed", "failed expectations"):
        table.add_column(column)
    for r in results:
        failed = [f"{e['key']} ({e['policy']})" for e in r.details.get("expectations", []) if not e["success"]]
        table.add_row(r.suite, "[green]passed[/]" if r.success else "[red]failed[/]",
                      f"{r.evaluated - r.failed}/{r.evaluated}", "\n".join(failed) or "-")
    console.print(table)
    if html_dir:
        console.print(f"saved {data_docs(html_dir, results, run_id=run_id)}")
        events = newest_stored_events(url, MAX_EVENTS)
        console.print(f"saved GX Data Docs {build_data_docs(html_dir, events, int(time.time() * 1000))}")
    return all(r.success for r in results)
