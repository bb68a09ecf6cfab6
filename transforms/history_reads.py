"""A DoFn base for steps that read what earlier runs stored in the warehouse."""
from __future__ import annotations

import apache_beam as beam

from journeys.warehouses.history import History


class ReadsHistory(beam.DoFn):
    """Opens the warehouse per bundle: DuckDB allows no writer while a reader is
    open, and the run lands its results right after the pipeline."""

    def __init__(self, history_url: str | None):
        self._history_url = history_url
        self.history: History | None = None

    def start_bundle(self):
        if self._history_url:
            self.history = History(self._history_url)

    def finish_bundle(self):
        if self.history:
            self.history.close()
            self.history = None
