"""Great Expectations Data Docs: events (the stored ones, read by the caller) validated with the events suite.

A file-backed GX project under the output folder holds the suite, a
checkpoint and its results; GX renders them as its Data Docs site
(``gx/uncommitted/data_docs/local_site/index.html``).

(Not named ``data_docs``: ``journeys.quality.data_docs`` is journeys' own
results page, ``results_page.data_docs``.)
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

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
    checkpoint.run(batch_parameters={"dataframe": events_frame(list(events))},
                   expectation_parameters=event_parameters(ValidationConfig(), now_ms))
    return Path(html_dir) / SITE
