"""journeys' own HTML page of a run's quality results (``index.html``)."""
from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Mapping, Sequence

from journeys.quality.policy import QualityResult


def data_docs(html_dir: str | Path, results: Mapping[str, QualityResult] | Sequence[QualityResult],
              run_id: str = "") -> Path:
    """Writes ``index.html`` under ``html_dir``: one table per suite or check of the latest run.

    A self-made page, not GX Data Docs: a run's results are merged across
    batches and include checks GX does not run (volume, freshness), which GX
    Data Docs (rendered from GX validation results in a file-backed context's
    stores) cannot show. GX's own Data Docs are ``gx_data_docs.build_data_docs``.
    """
    if isinstance(results, Mapping):
        results = list(results.values())
    out = Path(html_dir)
    out.mkdir(parents=True, exist_ok=True)
    esc = html.escape
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>journeys quality</title><style>",
             "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}"
             "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:13px}"
             ".ok{color:#176d2c}.bad{color:#b00020;font-weight:bold}</style></head><body>",
             f"<h1>Data quality{(' — run ' + esc(run_id)) if run_id else ''}</h1>"]
    for r in results:
        cls = "ok" if r.success else "bad"
        parts.append(f"<h2>{esc(r.suite)}: <span class='{cls}'>{'passed' if r.success else 'FAILED'}</span> "
                     f"({r.evaluated - r.failed}/{r.evaluated} passed)</h2>")
        parts.append("<table><tr><th>expectation</th><th>table / condition</th><th>policy</th><th>result</th>"
                     "<th>unexpected / elements</th><th>sample / observed</th></tr>")
        for e in r.details.get("expectations", []):
            ok = e["success"]
            where = e.get("table") or e.get("row_condition") or ""
            counts = (f"{e.get('unexpected_count', '')} / {e.get('element_count', '')}"
                      if "element_count" in e else "")
            observed = {k: v for k, v in e.items() if k in ("sample", "observed_value", "count", "mean", "ratio",
                                                            "age_s", "max_age_s", "newest_event_at", "error")}
            parts.append(f"<tr><td>{esc(e['key'])}</td><td>{esc(str(where))}</td><td>{esc(e['policy'])}</td>"
                         f"<td class='{'ok' if ok else 'bad'}'>{'ok' if ok else 'failed'}</td>"
                         f"<td>{esc(counts)}</td><td><code>{esc(json.dumps(observed, default=str))}</code></td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    index = out / "index.html"
    index.write_text("\n".join(parts), encoding="utf-8")
    return index
