"""A DoFn base for steps that read what earlier runs stored in the warehouse."""
from __future__ import annotations

import apache_beam as beam
from apache_beam.utils.windowed_value import WindowedValue

from journeys.warehouses.history import History

# Elements answered by one warehouse query: bounds the buffer and the query's IN list.
BATCH_SIZE = 500


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


class ReadsHistoryInBatches(ReadsHistory):
    """Asks the warehouse once per batch of elements (up to BATCH_SIZE, flushed by the bundle's end), not once
    per element. Subclasses implement ``answer(elements)``: the outputs of those elements, from one look-up.
    Each output keeps the window, timestamp and pane of the element it came from."""

    def start_bundle(self):
        super().start_bundle()
        self._pending: list[tuple] = []

    def process(self, element, window=beam.DoFn.WindowParam, timestamp=beam.DoFn.TimestampParam,
                pane=beam.DoFn.PaneInfoParam):
        element = self.keep(element)
        if not self.history:
            yield from self.answer([element])[0]
            return
        self._pending.append((element, window, timestamp, pane))
        if len(self._pending) >= BATCH_SIZE:
            yield from self._flush()

    def finish_bundle(self):
        yield from self._flush()
        super().finish_bundle()

    def _flush(self):
        pending, self._pending = self._pending, []
        if not pending:
            return
        outputs = self.answer([element for element, _, _, _ in pending])
        for (_, window, timestamp, pane), produced in zip(pending, outputs):
            for value in produced:
                yield WindowedValue(value, timestamp, (window,), pane)

    def keep(self, element):
        """The element as buffered: a grouped value's iterable is read now, while its bundle step runs."""
        return element

    def answer(self, elements: list) -> list[list]:
        """For each element, the list of its outputs."""
        raise NotImplementedError
