"""`journeys report`: what a product analyst asks first, from any warehouse.

Portable SQL (DuckDB, PostgreSQL and BigQuery: conditional counts as
``count(CASE WHEN ... THEN 1 END)``, not ``FILTER``; BigQuery has percentiles
only as window functions, so SLOWEST_PAGES has a BigQuery spelling), rendered
with rich in the terminal; with ``--html`` also an offline dashboard page (dashboard_page).
"""
from __future__ import annotations

from typing import Callable

from rich.console import Console
from rich.table import Table

from journeys.core.text import terminal_text
from journeys.warehouses import warehouse_for

TOP_N = 8
MIN_VIEWS_FOR_SLOWEST = 5

HEADLINE = """
SELECT count(*), count(DISTINCT customer_id),
       count(CASE WHEN converted THEN 1 END), count(CASE WHEN escalated THEN 1 END),
       count(CASE WHEN bounced THEN 1 END), coalesce(avg(duration_s), 0), coalesce(avg(effort_score), 0),
       coalesce(sum(friction_count), 0)
FROM journeys"""
BY_CHANNEL = """
SELECT acquisition_channel, count(*), count(CASE WHEN converted THEN 1 END), count(CASE WHEN bounced THEN 1 END),
       avg(effort_score)
FROM journeys GROUP BY acquisition_channel ORDER BY count(*) DESC, acquisition_channel"""
TOP_FRICTION = """
SELECT friction_type, coalesce(page, '(chat)'), count(*), count(DISTINCT journey_id)
FROM friction_events GROUP BY friction_type, page ORDER BY count(*) DESC, friction_type, 2 LIMIT {top}"""
SLOWEST_PAGES = """
SELECT channel, page, count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY time_on_page_s),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY time_on_page_s), count(CASE WHEN is_exit THEN 1 END)
FROM page_views WHERE time_on_page_s IS NOT NULL
GROUP BY channel, page HAVING count(*) >= {min_views}
ORDER BY 4 DESC, channel, page LIMIT {top}"""
SLOWEST_PAGES_BIGQUERY = """
SELECT channel, page, count(*), any_value(p50), any_value(p90), countif(is_exit)
FROM (SELECT channel, page, is_exit,
             PERCENTILE_CONT(time_on_page_s, 0.5) OVER (PARTITION BY channel, page) AS p50,
             PERCENTILE_CONT(time_on_page_s, 0.9) OVER (PARTITION BY channel, page) AS p90
      FROM page_views WHERE time_on_page_s IS NOT NULL)
GROUP BY channel, page HAVING count(*) >= {min_views}
ORDER BY 4 DESC, channel, page LIMIT {top}"""
DEAD_LETTERS = "SELECT reason, count(*) FROM dead_letters GROUP BY reason ORDER BY count(*) DESC, reason"
REPORT_TABLES = ("journeys", "friction_events", "page_views", "dead_letters")


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _table(title: str, columns: list[str], rows: list[tuple], formats: list[Callable]) -> Table:
    table = Table(title=title, title_justify="left")
    for n, column in enumerate(columns):
        table.add_column(column, justify="left" if n == 0 or column == "page" else "right")
    for row in rows:
        # Values come from the warehouse, so from events: never markup, never terminal controls.
        table.add_row(*(terminal_text(fmt(value)) for fmt, value in zip(formats, row)))
    return table


def render(url: str, console: Console, top: int = TOP_N) -> None:
    warehouse = warehouse_for(url)
    con = warehouse.reading_connection(REPORT_TABLES)  # read-only: a missing warehouse is NothingStoredYet
    try:
        cursor = con.cursor()

        def fetch(sql: str) -> list[tuple]:
            cursor.execute(sql)  # BigQuery's DB-API cursor.execute returns None: fetch separately
            return cursor.fetchall()

        slowest = SLOWEST_PAGES_BIGQUERY if warehouse.dialect == "bigquery" else SLOWEST_PAGES
        journeys, customers, converted, escalated, bounced, avg_s, effort, friction = fetch(HEADLINE)[0]
        console.print(f"[bold]{journeys}[/] journeys of [bold]{customers}[/] customers: "
                      f"{_pct(converted, journeys)} converted, {_pct(escalated, journeys)} escalated to an "
                      f"agent, {_pct(bounced, journeys)} bounced; {float(avg_s) / 60:.1f} min on average, "
                      f"effort {float(effort):.2f} of 5, {friction} friction points")
        text, whole = str, (lambda v: f"{int(v):,}")
        console.print(_table("By acquisition channel", ["channel", "journeys", "converted", "bounced", "effort"],
                             [(c, n, _pct(conv, n), _pct(b, n), e) for c, n, conv, b, e in fetch(BY_CHANNEL)],
                             [text, whole, text, text, lambda v: f"{float(v):.2f}"]))
        console.print(_table("Top friction points", ["friction", "page", "occurrences", "journeys"],
                             fetch(TOP_FRICTION.format(top=top)), [text, text, whole, whole]))
        seconds = lambda v: "-" if v is None else f"{float(v):.1f}"  # noqa: E731
        console.print(_table(f"Slowest pages (median time on page, {MIN_VIEWS_FOR_SLOWEST}+ timed views)",
                             ["channel", "page", "views", "median s", "p90 s", "exits"],
                             fetch(slowest.format(min_views=MIN_VIEWS_FOR_SLOWEST, top=top)),
                             [text, text, whole, seconds, seconds, whole]))
        dead = fetch(DEAD_LETTERS)
        if dead:
            console.print(_table("Dead letters", ["reason", "count"], dead, [text, whole]))
    finally:
        con.close()


def report(url: str, html: str | None = None, console: Console | None = None, funnel_steps: tuple = ()) -> None:
    console = console or Console()
    render(url, console)
    if html:
        # --html is the interactive dashboard (dashboard_page), not a copy of the terminal text;
        # imported only here so the terminal report does not load plotly.
        from journeys.commands.dashboard_page import write_dashboard
        from journeys.core.config import DEFAULT_FUNNEL

        write_dashboard(url, html, funnel_steps or DEFAULT_FUNNEL)
