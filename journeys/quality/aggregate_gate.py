"""The aggregates gate: the aggregates suite over a run's output rows, before landing.

The suite's expectations name their table in ``meta.table``; besides the
run's own tables it reads two derived ones (``day_totals``, ``run_totals``)
that compare row counts across tables.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from journeys.core.tables import DAILY_TABLES
from journeys.core.config import JourneyConfig
from journeys.quality.gx_validation import Validator, import_gx, load_suite, merge_results, validate_frame
from journeys.quality.policy import AGGREGATES_SUITE, Policy, QualityResult


def _day_of_ms(value) -> str:
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000, timezone.utc).date().isoformat()
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(timezone.utc).date().isoformat()


def aggregate_frames(tables: Mapping[str, list[dict]], stored: Mapping[str, tuple[int, int]] | None = None
                     ) -> dict[str, pd.DataFrame]:
    """The frames the aggregates suite reads: the run's tables plus derived ones.

    - ``page_views`` gains ``engaged_minus_time_on_page_s`` (null where time
      on page is unknown);
    - ``day_totals``: per day of the run's daily rows, journeys and page view
      rows after landing (this run's + ``stored``) against the daily sums;
    - ``run_totals``: sum of journeys.page_view_count against page_views rows.
    """
    frames = {name: pd.DataFrame(list(rows)) for name, rows in tables.items()}
    views = frames.get("page_views")
    if views is not None and not views.empty:
        views["engaged_minus_time_on_page_s"] = (pd.to_numeric(views["engaged_time_s"])
                                                 - pd.to_numeric(views["time_on_page_s"]))
    journeys = tables.get("journeys", [])
    journey_day = {j["journey_id"]: _day_of_ms(j["started_at"]) for j in journeys}
    rows_by_day: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for day, (j, v) in (stored or {}).items():
        rows_by_day[day][0] += j
        rows_by_day[day][1] += v
    for day in journey_day.values():
        rows_by_day[day][0] += 1
    for view in tables.get("page_views", []):
        rows_by_day[journey_day.get(view["journey_id"], "?")][1] += 1
    daily: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in tables.get("journey_stats_daily", []):
        daily[row["day"]][0] += row["journeys"]
    for row in tables.get("page_stats_daily", []):
        daily[row["day"]][1] += row["views"]
    days = sorted(set(daily) | set(rows_by_day))
    frames["day_totals"] = pd.DataFrame(
        {"day": days, "journeys_rows": [rows_by_day[d][0] if d in rows_by_day else 0 for d in days],
         "journeys_daily": [daily[d][0] if d in daily else 0 for d in days],
         "page_view_rows": [rows_by_day[d][1] if d in rows_by_day else 0 for d in days],
         "page_views_daily": [daily[d][1] if d in daily else 0 for d in days]},
        columns=["day", "journeys_rows", "journeys_daily", "page_view_rows", "page_views_daily"])
    frames["run_totals"] = pd.DataFrame({"page_view_count_sum": [sum(j["page_view_count"] for j in journeys)],
                                         "page_view_rows": [len(tables.get("page_views", []))]})
    return frames


# The daily tables and the per-day totals that compare them with the stored rows.
DAY_CHECKS = frozenset({t.name for t in DAILY_TABLES} | {"day_totals"})


def _column_names(kwargs: Mapping[str, Any]) -> list[str]:
    names = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    return names + list(kwargs.get("column_list", []))


def split_suite(suite) -> dict[str, Any]:
    """The aggregates suite split by each expectation's ``meta.table``: {table: sub-suite}."""
    gx = import_gx()
    data = suite.to_json_dict()
    by_table: dict[str, list[dict]] = defaultdict(list)
    for e in data["expectations"]:
        spec = {"type": e["type"], "kwargs": e["kwargs"], "meta": e.get("meta") or {}}
        by_table[spec["meta"]["table"]].append(spec)
    return {table: gx.ExpectationSuite(name=f"{data['name']}.{table}", expectations=specs)
            for table, specs in by_table.items()}


def check_aggregates(tables: Mapping[str, list[dict]], stored: Mapping[str, tuple[int, int]] | None = None,
                     suite=AGGREGATES_SUITE, policy: Policy | None = None, journey_config: JourneyConfig | None = None,
                     validator: Validator | None = None, raise_on_fail: bool = True,
                     days: bool | None = None) -> QualityResult:
    """The aggregates suite over a run's output rows (lists of dicts per table), before landing.

    ``stored``: per touched day, (journeys, page views) already stored for
    customers the run does not rebuild (``warehouses.history.stored_day_counts``).
    Raises ``QualityFailure`` when an expectation whose policy is ``fail``
    fails (unless ``raise_on_fail`` is false), so nothing gets landed.
    ``days``: None runs every expectation; True only those on the daily tables
    and ``day_totals`` (``DAY_CHECKS``: the recomputation of pending days,
    pipelines/daily_settle.py); False the others (a chunk whose daily rows come later).
    """
    policy = policy or Policy.load()
    journey_config = journey_config or JourneyConfig()
    if isinstance(suite, (str, Path)):
        suite = load_suite(suite)
    parameters = {"engaged_tolerance_s": journey_config.heartbeat_s + journey_config.min_visit_s}
    frames = aggregate_frames(tables, stored)
    results = []
    for table, sub in split_suite(suite).items():
        if days is not None and (table in DAY_CHECKS) != days:
            continue
        frame = frames.get(table)
        columns = sorted({c for e in sub.expectations for c in _column_names(e.configuration.kwargs)})
        if frame is None or frame.empty:
            frame = pd.DataFrame({c: pd.Series([], dtype="float64") for c in columns})
        else:
            for c in columns:
                if c not in frame:
                    frame[c] = None
        one = validate_frame(frame, sub, policy, parameters, validator, policy_suite=suite.name)
        for e in one.details["expectations"]:
            e["table"] = table
        results.append(replace(one, suite=suite.name))
    merged = merge_results(results, suite.name)
    merged.details["rows"] = {t: len(r) for t, r in tables.items() if t not in ("customers", "events")}
    merged.details.pop("batches", None)
    return merged.raise_on_fail() if raise_on_fail else merged
