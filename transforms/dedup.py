"""DropDuplicateEvents: one event per event_id, the first read wins."""
from __future__ import annotations

from typing import Iterable

import apache_beam as beam
from apache_beam.metrics import Metrics

from journeys.core.events import Event

NAMESPACE = "journeys"


def first_event(events: Iterable[Event]) -> Event:
    """The event read first: lowest (source, partition, offset)."""
    return min(events, key=lambda e: e.position)


class _FirstEventFn(beam.CombineFn):
    """Accumulator: (first event so far or None, how many seen)."""

    def create_accumulator(self):
        return (None, 0)

    def add_input(self, acc, event):
        first, seen = acc
        return (event if first is None or event.position < first.position else first, seen + 1)

    def merge_accumulators(self, accs):
        firsts = [a[0] for a in accs if a[0] is not None]
        return (first_event(firsts) if firsts else None, sum(a[1] for a in accs))

    def extract_output(self, acc):
        return acc


class _EmitFirstFn(beam.DoFn):
    def __init__(self):
        self._duplicates = Metrics.counter(NAMESPACE, "duplicates")
        self._processed = Metrics.counter(NAMESPACE, "processed")

    def process(self, keyed):
        _, (first, seen) = keyed
        self._duplicates.inc(seen - 1)
        self._processed.inc()
        yield first


class DropDuplicateEvents(beam.PTransform):
    """PCollection[Event] -> PCollection[Event] with unique event_ids.

    One shuffle keyed by event_id, combined before it (combiner lifting), so
    duplicates cost little. Per window: a bounded run emits once at the end.
    Counters ``duplicates`` and ``processed`` make the run's arithmetic.
    """

    def expand(self, events):
        return (events
                | "KeyByEventId" >> beam.Map(lambda e: (e.event_id, e))
                | "FirstPerEventId" >> beam.CombinePerKey(_FirstEventFn())
                | "CountDuplicates" >> beam.ParDo(_EmitFirstFn()))
