"""Daily rows recomputed once per run, for every day the warehouse holds as pending.

A daily row needs every journey of its day, and a chunk of a bounded run (or a
streaming micro-batch) rebuilds only the customers it touches. Recomputing the
touched days inside every chunk read back every stored journey of those days
each time, so a run's time and memory grew with the warehouse. Instead each
chunk lands its journeys with the days it touched marked pending
(``pending_days``, in the same transaction), and ``settle_pending_days`` runs
after the last one:

1. read the pending days' stored journeys, with their views, friction rows,
   conversations and task attempts, a batch of customers at a time
   (``History.whole_days``), folding each customer into the daily partials
   (``rules.daily.aggregate_many``): memory holds one accumulator per row,
   not the journeys;
2. check the daily rows with the aggregates suite's daily expectations (the
   per-day totals against the journeys and page views stored on that day);
3. land them: each settled day loses its old daily rows and its pending mark,
   and gets the new rows, in one transaction.

The rows are those the pipeline would compute over the whole days (the same
pure functions), so the tables do not depend on how a run was cut into
chunks. A run that dies before it settles leaves its days pending, and the
next run, whatever its input, settles them; a failed ``fail`` check leaves
them pending too.
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from journeys import quality
from journeys.core.config import Config
from journeys.rules.daily import JOURNEY_DAILY, aggregate_many, day_of
from journeys.rules.daily_chat_tasks import CHAT_TASK_DAILY
from journeys.warehouses import warehouse_for
from journeys.warehouses.history import History

# Customers read per warehouse round trip: memory follows this, not the days' size.
CUSTOMERS_PER_READ = 2_000
CHECKS_FILE = "quality_runs-checks.jsonl"
SETTLED_DAYS = "touched_days"  # the landing's name for the days whose daily rows it replaces


class DayTotals:
    """Journeys and page views per day of the customers folded: what the daily rows must add up to."""

    def __init__(self):
        self.by_day: dict[str, list[int]] = defaultdict(lambda: [0, 0])

    def counted(self, customers):
        for customer in customers:
            started = {j.journey_id: day_of(j.started_at) for j in customer.journeys}
            for day in started.values():
                self.by_day[day][0] += 1
            for view in customer.page_views:
                self.by_day[started[view.journey_id]][1] += 1
            yield customer

    def stored(self) -> dict[str, tuple[int, int]]:
        return {day: (journeys, views) for day, (journeys, views) in self.by_day.items()}


def settle_pending_days(warehouse_url: str, config: Config, settle_dir: Path, run_id: str,
                        run_started_ms: int, earlier: quality.QualityResult | None = None) -> list[str]:
    """Recomputes and lands the daily rows of every pending day; returns the days settled.

    ``settle_dir``: a new directory where the rows are written for the landing
    (and kept, as a run's files are). ``run_id`` and ``earlier``: the run (or
    last chunk) whose aggregates result the daily checks complete; its
    quality_runs row is replaced by the two together, so the run's row holds
    the whole suite. Raises QualityFailure, landing nothing, when a ``fail``
    expectation fails.
    """
    history = History(warehouse_url)
    try:
        days = history.pending_days()
        if not days:
            return []
        totals = DayTotals()
        daily = aggregate_many((JOURNEY_DAILY, CHAT_TASK_DAILY),
                               totals.counted(history.whole_days(days, CUSTOMERS_PER_READ)))
    finally:
        history.close()
    settle_dir.mkdir(parents=True)
    for table, rows in daily.items():
        (settle_dir / f"{table}-settle.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    (settle_dir / f"{SETTLED_DAYS}-settle.jsonl").write_text("".join(json.dumps({"day": d}) + "\n" for d in days))
    if config.quality.enabled:
        check_days(daily, totals.stored(), config, settle_dir, run_id, run_started_ms, earlier)
    warehouse_for(warehouse_url).land(settle_dir)
    return days


def check_days(daily: dict[str, list[dict]], stored: dict[str, tuple[int, int]], config: Config,
               settle_dir: Path, run_id: str, run_started_ms: int, earlier: quality.QualityResult | None) -> None:
    """The aggregates suite's daily expectations over the settled rows; the run's aggregates row,
    completed with them, lands with the rows."""
    result = quality.check_aggregates(daily, stored, suite=config.quality.aggregates_suite,
                                      policy=quality.Policy.load(config.quality.policy_path),
                                      journey_config=config.journey, raise_on_fail=False, days=True)
    whole = completed(earlier, result)
    row = quality.quality_run_row(run_id, whole.suite, whole, run_started_ms)
    (settle_dir / CHECKS_FILE).write_text(json.dumps(row) + "\n")
    if config.quality.html_dir:
        quality.data_docs(config.quality.html_dir, [whole], run_id=run_id)
    quality.enforce([result])


def completed(earlier: quality.QualityResult | None, days: quality.QualityResult) -> quality.QualityResult:
    """One aggregates result from the row-table part checked before landing and the daily part."""
    if earlier is None:
        return days
    expectations = earlier.details.get("expectations", []) + days.details.get("expectations", [])
    failed = sum(not e["success"] for e in expectations)
    rows = {**earlier.details.get("rows", {}), **days.details.get("rows", {})}
    return quality.QualityResult(days.suite, failed == 0, len(expectations), failed,
                                 {**earlier.details, **days.details, "rows": rows, "expectations": expectations})
