"""Great Expectations Data Docs for a warehouse: the stored events validated with the events suite.

A file-backed GX project under the output folder holds the suite, a
checkpoint and its results; GX renders them as its Data Docs site
(``gx/uncommitted/data_docs/local_site/index.html``).
"""
from __future__ import annotations

from pathlib import Path

from journeys.core.config import ValidationConfig
from journeys.quality import (
    EVENTS_SUITE,
    _gx,
    event_parameters,
    events_frame,
    load_suite,
)
from journeys.warehouses import warehouse_for
from journeys.warehouses.history import event_from_stored

MAX_EVENTS = 100_000  # the newest events; Data Docs is a sample view, not a full scan
SITE = Path("gx") / "uncommitted" / "data_docs" / "local_site" / "index.html"


def stored_events(url: str, limit: int = MAX_EVENTS) -> list:
    con = warehouse_for(url).read_only_connection()
    try:
        cursor = con.cursor()
        cursor.execute(f"SELECT record FROM events ORDER BY event_time DESC LIMIT {int(limit)}")
        return [event_from_stored(row[0]) for row in cursor.fetchall()]
    finally:
        con.close()


def build_data_docs(html_dir: str | Path, url: str, now_ms: int, suite_name: str = EVENTS_SUITE) -> Path:
    """Validates the stored events and renders GX Data Docs under ``html_dir``; returns its index page."""
    gx = _gx()
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
    checkpoint.run(batch_parameters={"dataframe": events_frame(stored_events(url))},
                   expectation_parameters=event_parameters(ValidationConfig(), now_ms))
    return Path(html_dir) / SITE
