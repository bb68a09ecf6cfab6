"""`journeys quality`: the latest run's quality results from a warehouse, and an HTML page.

The exit code follows the policy, as dbt's test severities do: a failed
expectation or check whose policy is ``fail`` is an error (exit 4); one whose
policy is ``report`` or ``quarantine`` is a warning (exit 0).
"""
from __future__ import annotations

import json
import time

from rich.console import Console
from rich.table import Table

from journeys.quality import FAIL, FRESHNESS, REPORT, VOLUME, Policy, QualityResult, build_data_docs, data_docs
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


def failed_with_policy(result: QualityResult, policy: Policy | None = None) -> list[tuple[str, str]]:
    """(key, policy) of each failed expectation or check of ``result``.

    The policy is the one stored with the result (what the run applied), or,
    given ``policy``, what that policy says now. An expectation that could not
    run (``error``) is ``fail`` whatever the policy, as in the run; a failed
    result without failed entries is ``fail`` too (nothing says otherwise).
    """
    failed = []
    for entry in result.details.get("expectations", []):
        if entry.get("success"):
            continue
        judged = entry.get("policy", FAIL)
        if entry.get("error"):
            judged = FAIL
        elif policy is not None and result.suite in (VOLUME, FRESHNESS):
            judged = policy.check(result.suite).get("policy", REPORT)
        elif policy is not None:
            judged = policy.for_key(result.suite, entry["key"])
        failed.append((entry["key"], judged))
    if not result.success and not failed:
        failed.append((result.suite, FAIL))
    return failed


def quality_report(url: str, html_dir: str | None = None, console: Console | None = None,
                   policy: Policy | None = None) -> bool:
    """Prints the latest run's results; True unless a failed expectation or check has policy ``fail``.

    Failures with policy ``report`` or ``quarantine`` print as warnings, those
    with ``fail`` as errors. ``policy``: judge the stored results by this
    policy instead of the one stored with them.
    """
    console = console or Console()
    run_id, results = latest_results(url)
    if not run_id:
        raise NothingStoredYet(f"no quality results in {url} yet (`journeys run --warehouse {url}` stores them)")
    table = Table(title=f"Data quality, run {run_id}", title_justify="left")
    for column in ("suite", "result", "passed", "failed expectations"):
        table.add_column(column)
    judged = {r.suite: failed_with_policy(r, policy) for r in results}
    for r in results:
        fatal = any(p == FAIL for _, p in judged[r.suite])
        table.add_row(r.suite, "[green]passed[/]" if r.success else "[red]failed[/]" if fatal else "[yellow]warning[/]",
                      f"{r.evaluated - r.failed}/{r.evaluated}",
                      "\n".join(f"{key} ({p})" for key, p in judged[r.suite]) or "-")
    console.print(table)
    errors = 0
    for suite, failed in judged.items():
        for key, p in failed:
            errors += p == FAIL
            console.print(f"{'error' if p == FAIL else 'warning'}: {suite}: {key} failed (policy {p})",
                          markup=False, highlight=False, soft_wrap=True)
    if html_dir:
        console.print(f"saved {data_docs(html_dir, results, run_id=run_id)}")
        events = newest_stored_events(url, MAX_EVENTS)
        console.print(f"saved GX Data Docs {build_data_docs(html_dir, events, int(time.time() * 1000))}")
    return errors == 0
