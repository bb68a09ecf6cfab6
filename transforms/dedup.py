"""DropDuplicateEvents: one event per event_id, the first read wins."""
from __future__ import annotations

from collections.abc import Iterable

import apache_beam as beam
from apache_beam.metrics import Metrics

from journeys.core.events import Event
from journeys.transforms.batches import Batch, by_shard, unpacked

NAMESPACE = "journeys"


def first_events(batches: Iterable[Iterable[Event]]) -> tuple[list[Event], int]:
    """Per event_id the event read first (lowest (source, partition, offset)), and how many events were seen."""
    first: dict[str, Event] = {}
    seen = 0
    for batch in batches:
        for event in batch:
            seen += 1
            kept = first.get(event.event_id)
            if kept is None or event.position < kept.position:
                first[event.event_id] = event
    return list(first.values()), seen


class _FirstPerEventIdFn(beam.DoFn):
    def __init__(self):
        self._duplicates = Metrics.counter(NAMESPACE, "duplicates")
        self._processed = Metrics.counter(NAMESPACE, "processed")

    def process(self, keyed):
        _, packed = keyed
        events, seen = first_events([unpacked(packed)])
        self._duplicates.inc(seen - len(events))
        self._processed.inc(len(events))
        if events:
            yield events


class DropDuplicateEvents(beam.PTransform):
    """PCollection[list[Event]] -> PCollection[list[Event]] with unique event_ids.

    One shuffle of lists, keyed by a shard of event_id (transforms/batches.py):
    every copy of an event_id meets in one shard's group. Per window: a
    bounded run emits once at the end. Counters ``duplicates`` and
    ``processed`` make the run's arithmetic.
    """

    def expand(self, batches):
        return (batches
                | "ShardByEventId" >> beam.FlatMap(by_shard, key=_event_id)
                | "GroupShards" >> beam.GroupByKey()
                | "FirstPerEventId" >> beam.ParDo(_FirstPerEventIdFn()).with_output_types(Batch))


def _event_id(event: Event) -> str:
    return event.event_id
