"""EventStats: what the run-level volume and freshness checks need of a run's events, combined in the pipeline.

The checks run in the driver after the pipeline; reading the whole events
output back for two numbers per channel cost more than the checks, so the
pipeline folds the events into one small row as they pass.
"""
from __future__ import annotations

import apache_beam as beam


class _EventStatsFn(beam.CombineFn):
    """Accumulator: (events per channel, newest event_time in ms or None)."""

    def create_accumulator(self):
        return {}, None

    def add_input(self, accumulator, batch):
        channels, newest = accumulator
        for event in batch:
            channels[event.channel] = channels.get(event.channel, 0) + 1
            if newest is None or event.event_time > newest:
                newest = event.event_time
        return channels, newest

    def merge_accumulators(self, accumulators):
        channels, newest = {}, None
        for other, time in accumulators:
            for channel, n in other.items():
                channels[channel] = channels.get(channel, 0) + n
            if time is not None and (newest is None or time > newest):
                newest = time
        return channels, newest

    def extract_output(self, accumulator):
        channels, newest = accumulator
        return {"channels": dict(sorted(channels.items())), "newest_event_ms": newest}


class EventStats(beam.PTransform):
    """PCollection[list[Event]] -> one {"channels": {channel: events}, "newest_event_ms": int | None}
    (a bounded run's global window; no events gives empty channels and None)."""

    def expand(self, batches):
        return batches | "CombineEventStats" >> beam.CombineGlobally(_EventStatsFn())
