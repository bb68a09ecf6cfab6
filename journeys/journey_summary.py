"""A short text summary of the journeys in a DuckDB warehouse: what `journeys demo` prints."""
from __future__ import annotations

from pathlib import Path

import duckdb

TOP_N = 5


def summary_lines(db_path: str | Path, top: int = TOP_N) -> list[str]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        (journeys, customers, converted, escalated, bounced, avg_s, avg_effort) = con.execute("""
            SELECT count(*), count(DISTINCT customer_id), count_if(converted), count_if(escalated),
                   count_if(bounced), coalesce(avg(duration_s), 0), coalesce(avg(effort_score), 0)
            FROM journeys""").fetchone()
        lines = [f"journeys {journeys} of {customers} customers: {_pct(converted, journeys)} converted, "
                 f"{_pct(escalated, journeys)} escalated to an agent, {_pct(bounced, journeys)} bounced; "
                 f"average {avg_s / 60:.1f} min, effort {avg_effort:.2f} of 5"]
        lines.append("top friction points:")
        for kind, page, count in con.execute("""
                SELECT friction_type, coalesce(page, '(chat)'), count(*) AS n FROM friction_events
                GROUP BY ALL ORDER BY n DESC, 1, 2 LIMIT ?""", [top]).fetchall():
            lines.append(f"  {count:6d}  {kind:<18} {page}")
        lines.append("time on page by page (median s, views):")
        for channel, page, median_s, views in con.execute("""
                SELECT channel, page, median(time_on_page_s), count(*) AS n FROM page_views
                GROUP BY ALL ORDER BY n DESC, 1, 2 LIMIT ?""", [top]).fetchall():
            shown = "unknown" if median_s is None else f"{median_s:.1f}"
            lines.append(f"  {views:6d}  {channel:<4} {page:<28} {shown}")
        return lines
    finally:
        con.close()


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "0%"
