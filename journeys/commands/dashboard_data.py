"""What `journeys report --html` embeds: the contract tables pre-aggregated per day (and channel).

Every query is portable SQL (DuckDB and PostgreSQL; BigQuery would need only
its DATE() for the UTC day) and returns aggregates, never journeys or events,
so a warehouse of a million events still gives a page of a few hundred rows
per day. The page re-aggregates these rows in the browser when a filter
changes, so each dataset keeps the finest grain a filter needs: day, and the
journey's acquisition channel where the table has one.

Distinct customers cannot be summed over days, so they travel as HyperLogLog
sketches per day and channel (merged in the browser by register-wise max).
Long tails (hundreds of product pages) are cut to the top pages or edges over
the whole warehouse, so the page's size does not grow with the catalogue.
"""
from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from itertools import pairwise
from typing import Any

from journeys.core.config import FunnelStep
from journeys.warehouses import warehouse_for

TOP_EDGES = 40
TOP_ENTRY_EXIT = 12
TOP_FRICTION_PAGES = 15
TOP_TIME_PAGES = 8
HLL_BITS = 10  # 1024 registers: about 3 % standard error, 1 KiB per day and channel
# Time-on-page histogram bins, seconds: [edge, next edge); the last is open.
TIME_BINS = (0, 5, 10, 20, 30, 60, 120, 300, 600)

# The UTC date of a TIMESTAMPTZ whatever the session's TimeZone (DuckDB and PostgreSQL both have timezone()).
DAY = "CAST(timezone('UTC', {}) AS DATE)"
JOURNEY_DAY = DAY.format("j.started_at")
# BigQuery has no timezone(); its DATE(timestamp) is the UTC date.
BIGQUERY_JOURNEY_DAY = "DATE(j.started_at)"

STATS = """
SELECT day, acquisition_channel, journeys, converted, escalated, bounced,
       avg_effort_score * journeys, avg_duration_s * journeys, avg_friction_score * journeys
FROM journey_stats_daily ORDER BY day, acquisition_channel"""
CUSTOMERS = f"SELECT DISTINCT {JOURNEY_DAY}, j.acquisition_channel, j.customer_id FROM journeys j"
CROSS_CHANNEL = f"""
SELECT {JOURNEY_DAY}, j.acquisition_channel, j.channels, count(*),
       sum(CASE WHEN j.converted THEN 1 ELSE 0 END), sum(CASE WHEN j.escalated THEN 1 ELSE 0 END)
FROM journeys j GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""
# Entry and exit pages of the top pages; the rest are one "(other)" node so the flows still add up.
ENDS = """
WITH top AS (SELECT {column} AS page FROM journeys WHERE {column} IS NOT NULL
             GROUP BY {column} ORDER BY count(*) DESC, {column} LIMIT {top})
SELECT {day}, j.acquisition_channel, CASE WHEN top.page IS NULL THEN '(other)' ELSE top.page END, count(*)
FROM journeys j LEFT JOIN top ON top.page = j.{column}
WHERE j.{column} IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""
# Reloads (a page to itself) are left out: a Sankey cannot draw a loop.
EDGES = """
WITH top AS (SELECT from_page, to_page FROM path_edges_daily WHERE from_page <> to_page
             GROUP BY from_page, to_page ORDER BY sum(transitions) DESC, from_page, to_page LIMIT {top})
SELECT e.day, e.from_page, e.to_page, e.transitions
FROM path_edges_daily e JOIN top ON top.from_page = e.from_page AND top.to_page = e.to_page
ORDER BY e.day, e.from_page, e.to_page"""
# A chat friction has no page ('' or NULL, by the table's version): one "(chat)" row either way.
FRICTION = """
WITH top AS (SELECT coalesce(page, '') AS page FROM friction_daily GROUP BY coalesce(page, '')
             ORDER BY sum(occurrences) DESC, 1 LIMIT {top})
SELECT f.day, f.friction_type, top.page, f.occurrences, f.journeys
FROM friction_daily f JOIN top ON top.page = coalesce(f.page, '') ORDER BY f.day, f.friction_type, top.page"""
# Conversion with a friction type: journeys that had it at least once, by day and channel; without = all - with.
FRICTION_IMPACT = f"""
SELECT {JOURNEY_DAY}, j.acquisition_channel, f.friction_type, count(*),
       sum(CASE WHEN j.converted THEN 1 ELSE 0 END)
FROM (SELECT DISTINCT journey_id, friction_type FROM friction_events) f
JOIN journeys j ON j.journey_id = f.journey_id GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"""
TIME_ON_PAGE = """
WITH top AS (SELECT page FROM page_views WHERE time_on_page_s IS NOT NULL
             GROUP BY page ORDER BY count(*) DESC, page LIMIT {top})
SELECT {day}, j.acquisition_channel, p.page, {bin}, count(*)
FROM page_views p JOIN top ON top.page = p.page JOIN journeys j ON j.journey_id = p.journey_id
WHERE p.time_on_page_s IS NOT NULL GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"""
TASKS = """
SELECT day, task, attempts, completions, friction_rate * attempts, avg_effort_score * attempts,
       median_duration_s
FROM task_effort_daily ORDER BY day, task"""
CHAT = """
SELECT day, conversations, bot_contained, escalated, resolved, median_wait_s, median_first_response_s, avg_csat
FROM chat_stats_daily ORDER BY day"""


def time_bin_sql(column: str, edges: tuple = TIME_BINS) -> str:
    """A CASE giving each value the index of its histogram bin (TIME_BINS)."""
    cases = " ".join(f"WHEN {column} < {edge} THEN {n - 1}" for n, edge in enumerate(edges) if n)
    return f"CASE {cases} ELSE {len(edges) - 1} END"


def time_bin_labels(edges: tuple = TIME_BINS) -> list[str]:
    return [f"{a}-{b} s" for a, b in pairwise(edges)] + [f"{edges[-1]}+ s"]


def _step_match(step: FunnelStep, mark: str) -> tuple[str, list]:
    """SQL condition on page_views ``p`` for a page or screen step, with its parameters."""
    parts, params = [], []
    for page in step.pages:
        if page.endswith("*"):
            # substr, not LIKE: a prefix may hold % or _, and BigQuery has no LIKE ... ESCAPE.
            parts.append(f"(p.channel = 'web' AND substr(p.page, 1, {len(page) - 1}) = {mark})")
            params.append(page[:-1])
        else:
            parts.append(f"(p.channel = 'web' AND p.page = {mark})")
            params.append(page)
    for screen in step.screens:
        parts.append(f"(p.channel = 'app' AND p.page = {mark})")
        params.append(screen)
    return " OR ".join(parts), params


def funnel_sql(steps: tuple[FunnelStep, ...], mark: str = "?") -> tuple[str, list]:
    """Per day and channel, how many journeys got as far as each step (0 = not even the first).

    A step counts when the journey reaches it strictly after it reached the
    previous one (a closed, ordered funnel like GA4's). Page and screen steps
    come from page_views; event steps from the events of the journey's
    customer (customer_devices) within the journey's start and end, which is
    exactly the journey's events since a customer's journeys never overlap.
    """
    hits, params = [], []
    for n, step in enumerate(steps, 1):
        condition, values = _step_match(step, mark)
        if condition:
            hits.append(f"SELECT p.journey_id, {n} AS step, p.viewed_at AS hit_at FROM page_views p WHERE {condition}")
            params += values
        if step.events:
            marks = ", ".join([mark] * len(step.events))
            hits.append(f"SELECT j.journey_id, {n} AS step, e.event_time AS hit_at FROM events e "
                        "JOIN customer_devices d ON d.anonymous_id = e.anonymous_id "
                        "JOIN journeys j ON j.customer_id = d.customer_id "
                        "AND e.event_time >= j.started_at AND e.event_time <= j.ended_at "
                        f"WHERE e.event_type IN ({marks})")
            params += list(step.events)
    if not hits:
        raise ValueError("dashboard.funnel_steps: every step needs pages, screens or events")
    ctes = ["hits AS (" + " UNION ALL ".join(hits) + ")",
            "s1 AS (SELECT journey_id, min(hit_at) AS hit_at FROM hits WHERE step = 1 GROUP BY journey_id)"]
    for n in range(2, len(steps) + 1):
        ctes.append(f"s{n} AS (SELECT h.journey_id, min(h.hit_at) AS hit_at FROM hits h JOIN s{n - 1} prev "
                    f"ON prev.journey_id = h.journey_id AND h.hit_at > prev.hit_at WHERE h.step = {n} GROUP BY h.journey_id)")
    furthest = " ".join(f"WHEN s{n}.journey_id IS NOT NULL THEN {n}" for n in range(len(steps), 0, -1))
    joins = " ".join(f"LEFT JOIN s{n} ON s{n}.journey_id = j.journey_id" for n in range(1, len(steps) + 1))
    sql = (f"WITH {', '.join(ctes)} SELECT {JOURNEY_DAY}, j.acquisition_channel, "
           f"CASE {furthest} ELSE 0 END AS furthest, count(*) FROM journeys j {joins} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")
    return sql, params


def hll_sketch(ids: Iterable[str], bits: int = HLL_BITS) -> bytearray:
    """HyperLogLog registers of ``ids``: per bucket, the highest leading-zero rank seen."""
    registers = bytearray(1 << bits)
    for value in ids:
        word = int.from_bytes(hashlib.blake2b(value.encode("utf-8"), digest_size=8).digest(), "big")
        bucket, rest = word >> (64 - bits), word & ((1 << (64 - bits)) - 1)
        rank = (64 - bits) - rest.bit_length() + 1
        registers[bucket] = max(registers[bucket], rank)
    return registers


def _plain(value: Any) -> Any:
    """JSON-ready: dates as ISO strings, decimals and numpy-ish numbers as floats, rounded."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    return round(float(value), 3)


def _table(columns: list[str], rows: Iterable[tuple]) -> dict:
    return {"columns": columns, "rows": [[_plain(v) for v in row] for row in rows]}


def collect(con, steps: tuple[FunnelStep, ...], mark: str = "?", dialect: str = "portable") -> dict:
    """Every dataset of the dashboard, from an open read-only connection (``dialect``: the warehouse's)."""
    cursor = con.cursor()

    def spelled(sql: str) -> str:
        return sql.replace(JOURNEY_DAY, BIGQUERY_JOURNEY_DAY) if dialect == "bigquery" else sql

    def fetch(sql: str, params: list | None = None) -> list[tuple]:
        cursor.execute(spelled(sql), params) if params else cursor.execute(spelled(sql))
        return cursor.fetchall()

    data = {
        "stats": _table(["day", "channel", "journeys", "converted", "escalated", "bounced", "effort_sum",
                         "duration_sum", "friction_sum"], fetch(STATS)),
        "cross": _table(["day", "channel", "path", "journeys", "converted", "escalated"], fetch(CROSS_CHANNEL)),
        "entries": _table(["day", "channel", "page", "journeys"],
                          fetch(ENDS.format(column="entry_page", top=TOP_ENTRY_EXIT, day=JOURNEY_DAY))),
        "exits": _table(["day", "channel", "page", "journeys"],
                        fetch(ENDS.format(column="exit_page", top=TOP_ENTRY_EXIT, day=JOURNEY_DAY))),
        "edges": _table(["day", "from", "to", "transitions"], fetch(EDGES.format(top=TOP_EDGES))),
        "friction": _table(["day", "type", "page", "occurrences", "journeys"],
                           fetch(FRICTION.format(top=TOP_FRICTION_PAGES))),
        "impact": _table(["day", "channel", "type", "journeys", "converted"], fetch(FRICTION_IMPACT)),
        "time_on_page": _table(["day", "channel", "page", "bin", "views"], fetch(TIME_ON_PAGE.format(
            top=TOP_TIME_PAGES, day=JOURNEY_DAY, bin=time_bin_sql("p.time_on_page_s")))),
        "time_bins": time_bin_labels(),
        "tasks": _table(["day", "task", "attempts", "completions", "friction_sum", "effort_sum", "median_s"],
                        fetch(TASKS)),
        "chat": _table(["day", "conversations", "bot_contained", "escalated", "resolved", "median_wait_s",
                        "median_first_response_s", "avg_csat"], fetch(CHAT)),
        "funnel_steps": [step.name for step in steps],
    }
    funnel, params = funnel_sql(steps, mark)
    data["funnel"] = _table(["day", "channel", "furthest", "journeys"], fetch(funnel, params))
    data["customers"] = _customer_sketches(cursor, spelled(CUSTOMERS))
    return data


def _customer_sketches(cursor, query: str = CUSTOMERS, batch: int = 10_000) -> dict:
    """{"bits", "sketches": [[day, channel, base64 registers]]}: distinct customers, mergeable in the page."""
    ids: dict[tuple, list[str]] = {}
    cursor.execute(query)
    while rows := cursor.fetchmany(batch):
        for day, channel, customer in rows:
            ids.setdefault((_plain(day), channel), []).append(customer)
    sketches = [[day, channel, base64.b64encode(bytes(hll_sketch(values))).decode("ascii")]
                for (day, channel), values in sorted(ids.items())]
    return {"bits": HLL_BITS, "sketches": sketches}


def collect_from(url: str, steps: tuple[FunnelStep, ...]) -> dict:
    """Open ``url`` read-only, collect, close."""

    warehouse = warehouse_for(url)
    con = warehouse.read_only_connection()
    try:
        return collect(con, steps, warehouse.placeholder, warehouse.dialect)
    finally:
        con.close()
