"""Great Expectations Data Docs: events (the stored ones, read by the caller) validated with the events suite.

A file-backed GX project under the output folder holds the suite, a
checkpoint and its results; GX renders them as its Data Docs site
(``gx/uncommitted/data_docs/local_site/index.html``).

GX writes sample values (``partial_unexpected_list``) into its pages
unescaped, so an event whose ``event_type`` is ``<script>...`` would run in
the reader's browser (stored XSS). Every text cell is HTML-escaped before GX
sees it (``inert_text``): escaping is injective, so uniqueness, null and
value-set expectations judge the same rows, and the page shows the value as
text.

(Not named ``data_docs``: ``journeys.quality.data_docs`` is journeys' own
results page, ``results_page.data_docs``.)
"""
from __future__ import annotations

import html
from pathlib import Path
from typing import Sequence

import pandas as pd

from journeys.core.config import ValidationConfig
from journeys.quality.event_gate import event_parameters, events_frame
from journeys.quality.gx_validation import import_gx, load_suite
from journeys.quality.policy import EVENTS_SUITE

MAX_EVENTS = 100_000  # the newest events; Data Docs is a sample view, not a full scan
SITE = Path("gx") / "uncommitted" / "data_docs" / "local_site" / "index.html"


def build_data_docs(html_dir: str | Path, events: Sequence, now_ms: int, suite_name: str = EVENTS_SUITE) -> Path:
    """Validates ``events`` and renders GX Data Docs under ``html_dir``; returns its index page."""
    gx = import_gx()
    context = gx.get_context(mode="file", project_root_dir=str(html_dir))
    source = context.data_sources.add_or_update_pandas("journeys")
    asset = next((a for a in source.assets if a.name == "events"), None) or source.add_dataframe_asset("events")
    batch = next((b for b in asset.batch_definitions if b.name == "stored"), None) or \
        asset.add_batch_definition_whole_dataframe("stored")
    suite = load_suite(suite_name)
    suite = context.suites.add_or_update(gx.ExpectationSuite(name=suite.name, expectations=list(suite.expectations)))
    validation = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=f"{suite.name}-stored", data=batch, suite=suite))
    checkpoint = context.checkpoints.add_or_update(gx.Checkpoint(
        name="journeys", validation_definitions=[validation],
        actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs")]))
    checkpoint.run(batch_parameters={"dataframe": inert_text(events_frame(list(events)))},
                   expectation_parameters=event_parameters(ValidationConfig(), now_ms))
    return Path(html_dir) / SITE


def inert_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every string cell HTML-escaped (quotes too), other cells as they are."""
    frame = frame.copy()
    for name in frame.columns:
        if frame[name].dtype == object or pd.api.types.is_string_dtype(frame[name].dtype):
            frame[name] = frame[name].map(lambda v: html.escape(v, quote=True) if isinstance(v, str) else v)
    return frame
