"""`journeys report --html FILE`: one self-contained, offline dashboard page.

The page holds plotly.js inline (no CDN: it opens on a machine without a
network), the pre-aggregated datasets of ``dashboard_data`` as one JSON
script element, and ``dashboard.js``, which draws every chart from that JSON
and redraws on a filter change. Python builds no figures: one code path (the
script) draws both the first view and every filtered one.

Data from events (page names, task names, channels) is escaped twice over:
the JSON is safe inside ``<script>`` (no ``</``, ``<!--`` or line separators
can end it early), and the script escapes every label for Plotly and sets
tiles with textContent.
"""
from __future__ import annotations

import html
import json
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

from journeys.commands.dashboard_data import collect_from
from journeys.core.config import FunnelStep

# json.dumps escapes every non-ASCII character (ensure_ascii), U+2028/2029 included; these
# three would otherwise let a string close the script element or open an HTML comment.
_SCRIPT_SAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}

TILES = (("journeys", "Journeys"), ("customers", "Customers"), ("conversion", "Conversion"),
         ("bounce", "Bounce rate"), ("escalation", "Escalation"), ("effort", "Average effort"))
CHAT_TILES = (("conversations", "Conversations"), ("containment", "Bot containment"),
              ("chat-escalation", "Escalation rate"), ("wait", "Wait for an agent (median)"),
              ("first-response", "First response (median)"), ("csat", "CSAT"))
# (section title, note, chart ids)
SECTIONS = (
    ("Over time", "journey_stats_daily, by acquisition channel",
     ("trend-journeys", "trend-conversion", "trend-bounce", "trend-escalation")),
    ("Paths", ("path_edges_daily (top transitions; dates only) with entry and exit pages; channel paths from "
               "journeys.channels"), ("paths", "cross")),
    ("Funnel", "configured in [dashboard] funnel_steps; by acquisition channel", ("funnel", "funnel-channels")),
    ("Friction", "hotspots from friction_daily (dates only, top pages); impact from journeys", ("friction", "impact")),
    ("Time on page and tasks", ("time on page of the top pages from page_views; tasks from task_effort_daily "
                                "(dates only)"), ("time-on-page", "tasks")),
)
WIDE = frozenset({"paths", "cross", "friction", "impact"})

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f4f5f7;color:#222}
header{background:#1f2d3d;color:#fff;padding:12px 24px;display:flex;flex-wrap:wrap;gap:16px;align-items:center}
header h1{font-size:20px;margin:0 24px 0 0}
header label{font-size:13px}
header input,header select,header button{margin-left:4px;font-size:13px}
#selection{font-size:13px;opacity:.8}
main{padding:16px 24px}
h2{font-size:16px;margin:24px 0 4px}
p.note{font-size:12px;color:#666;margin:0 0 8px}
.tiles{display:grid;grid-template-columns:repeat(6,1fr);gap:12px}
.tile{background:#fff;border-radius:6px;padding:12px;box-shadow:0 1px 2px rgba(0,0,0,.1)}
.tile .label{font-size:12px;color:#666}
.tile .value{font-size:24px;font-weight:600;margin:4px 0}
.delta{font-size:12px;color:#666}.delta.good{color:#2e7d32}.delta.bad{color:#c62828}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:12px}
.chart{background:#fff;border-radius:6px;box-shadow:0 1px 2px rgba(0,0,0,.1);min-height:320px}
.chart.wide{grid-column:1 / span 2}
footer{font-size:12px;color:#666;padding:8px 24px 24px}
"""


def script_json(data) -> str:
    """JSON that cannot end or comment out the <script> element holding it."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    for raw, escaped in _SCRIPT_SAFE.items():
        text = text.replace(raw, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _tiles(tiles, prefix: str, with_delta: bool) -> str:
    cells = []
    for key, label in tiles:
        delta = f'<div class="delta" id="{prefix}{key}-delta"></div>' if with_delta else ""
        value_id = f"{prefix}{key}-value" if with_delta else f"{prefix}{key}"
        cells.append(f'<div class="tile"><div class="label">{html.escape(label)}</div>'
                     f'<div class="value" id="{value_id}">-</div>{delta}</div>')
    return '<div class="tiles">' + "".join(cells) + "</div>"


def _sections() -> str:
    parts = []
    for title, note, charts in SECTIONS:
        divs = "".join(f'<div class="chart{" wide" if chart in WIDE else ""}" id="{chart}"></div>' for chart in charts)
        parts.append(f"<h2>{html.escape(title)}</h2><p class=\"note\">{html.escape(note)}</p>"
                     f'<div class="grid">{divs}</div>')
    return "".join(parts)


def page(data: dict, plotly_js: str, generated_at: str) -> str:
    """The whole HTML document (pure: data and plotly.js in, text out)."""
    script = resources.files("journeys.commands").joinpath("dashboard.js").read_text(encoding="utf-8")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Customer journeys dashboard</title>
<style>{STYLE}</style>
<script>{plotly_js}</script>
</head><body>
<header><h1>Customer journeys</h1>
<label>From <input type="date" id="filter-from"></label>
<label>To <input type="date" id="filter-to"></label>
<label>Acquisition channel <select id="filter-channel"><option value="">all channels</option></select></label>
<button type="button" id="filter-reset">Reset</button>
<span id="selection"></span></header>
<main>
<p class="note">Change against the previous period: the same number of days just before the selected range.
Customers are a HyperLogLog estimate (about 3 % error) so that any range and channel can be counted offline.</p>
{_tiles(TILES, "tile-", True)}
{_sections()}
<h2>Chat</h2><p class="note">chat_stats_daily (dates only); medians and CSAT over several days are
conversation-weighted means of the daily values</p>
{_tiles(CHAT_TILES, "chat-", False)}
<div class="grid" style="margin-top:12px"><div class="chart wide" id="chat"></div></div>
</main>
<footer>Generated {html.escape(generated_at)} by journeys report --html; every number is pre-aggregated per day
from the warehouse tables, and the page makes no network request.</footer>
<script type="application/json" id="dashboard-data">{script_json(data)}</script>
<script>{script}</script>
</body></html>
"""


def write_dashboard(url: str, path: str | Path, steps: tuple[FunnelStep, ...]) -> Path:
    """Query ``url``, write the page to ``path``; return the path."""
    from plotly.offline import get_plotlyjs  # lazy: plotly loads its 4.6 MB bundle only when a page is written

    data = collect_from(url, steps)
    generated_at = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page(data, get_plotlyjs(), generated_at), encoding="utf-8")
    return target
