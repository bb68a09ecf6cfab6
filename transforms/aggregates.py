"""AggregateDaily: per-customer journeys to the four daily aggregate tables.

Each CustomerJourneys already holds every journey, page view and friction row
of one customer, so the journey start that decides a row's ``day`` is known
where the rows are: one ParDo folds a customer into one partial per
(table, key), and a CombinePerKey per table merges the partials. Beam lifts
those combiners (partial merges before the shuffle, in every bundle), so
what crosses the shuffle is one accumulator per key and bundle, never the
row-level views or friction rows, and there is no shuffle to look journeys up.
"""
from __future__ import annotations

from functools import partial
from typing import NamedTuple

import apache_beam as beam
from apache_beam.metrics import Metrics
from journeys.transforms.journeys import NAMESPACE

from journeys.rules import daily

_LABELS = {daily.PAGE_STATS: "PageStats", daily.FRICTION: "Friction",
           daily.JOURNEY_STATS: "JourneyStats", daily.PATH_EDGES: "PathEdges"}


class DailyAggregates(NamedTuple):
    """One PCollection of row dicts per table; the field names are the table names."""
    page_stats_daily: beam.PCollection
    friction_daily: beam.PCollection
    journey_stats_daily: beam.PCollection
    path_edges_daily: beam.PCollection


class _PartialsFn(beam.DoFn):
    """CustomerJourneys -> (key, partial) on the output tagged with the partial's table."""

    def __init__(self):
        self._partials = Metrics.counter(NAMESPACE, "daily_partials")

    def process(self, customer):
        found = daily.partials(customer)
        self._partials.inc(len(found))
        for table, key, part in found:
            yield beam.pvalue.TaggedOutput(table, (key, part))


class _DailyCombineFn(beam.CombineFn):
    """Merges one table's partials; the accumulator is a partial (see journeys/daily.py)."""

    def __init__(self, table: str):
        super().__init__()
        self._table = table

    def create_accumulator(self):
        return daily.empty(self._table)

    def add_input(self, accumulator, part):
        return daily.merge(accumulator, part)

    def merge_accumulators(self, accumulators):
        # Beam allows mutating (only) the first accumulator.
        accumulators = iter(accumulators)
        merged = next(accumulators, None)
        if merged is None:
            return self.create_accumulator()
        for other in accumulators:
            daily.merge(merged, other)
        return merged

    def extract_output(self, accumulator):
        return accumulator  # the row needs the key: finished by a Map after the combine


class AggregateDaily(beam.PTransform):
    """PCollection[CustomerJourneys] -> DailyAggregates of four PCollection[dict].

    Rows are dicts whose keys are exactly the table's columns (``daily.COLUMNS``):
    ``day`` an ISO date string 'YYYY-MM-DD' (UTC date of the journey's start),
    counts int, averages and percentiles float or None. Labels: PerCustomerPartials,
    then Combine<Table> and Finish<Table> for PageStats, Friction, JourneyStats,
    PathEdges.

    Windowing: the combines run per key in the input's windows and triggers.
    In a bounded run (global window, default trigger) each key emits one row
    after all input is read. The input must hold each customer once per window
    (what SessioniseJourneys gives in a bounded run): a customer re-emitted by
    an accumulating trigger would be counted again, so streaming runs should
    recompute a day's rows from the warehouse or feed this from discarding panes.
    """

    def expand(self, customers):
        parts = customers | "PerCustomerPartials" >> beam.ParDo(_PartialsFn()).with_outputs(*daily.TABLES)
        tables = {}
        for table in daily.TABLES:
            label = _LABELS[table]
            tables[table] = (parts[table]
                             | f"Combine{label}" >> beam.CombinePerKey(_DailyCombineFn(table))
                             | f"Finish{label}" >> beam.MapTuple(partial(daily.finish, table)))
        return DailyAggregates(**tables)
