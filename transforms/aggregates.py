"""AggregateDaily: per-customer journeys to a family of daily aggregate tables.

Each CustomerJourneys already holds every journey, page view, friction row,
conversation and task attempt of one customer, so the journey start that
decides a row's ``day`` is known where the rows are: one ParDo folds a
customer into one partial per (table, key), and a CombinePerKey per table
merges the partials. Beam lifts those combiners (partial merges before the
shuffle, in every bundle), so what crosses the shuffle is one accumulator per
key and bundle, never the row-level views or friction rows, and there is no
shuffle to look journeys up. Which tables, and how a customer folds into
them, is a ``DailyAggregate`` of pure functions (``journeys/rules/daily.py``,
``journeys/rules/daily_chat_tasks.py``).
"""
from __future__ import annotations

from collections import namedtuple
from functools import partial

import apache_beam as beam
from apache_beam.metrics import Metrics

from journeys.rules import daily
from journeys.rules.daily import DailyAggregate
from journeys.transforms.journeys import NAMESPACE


class _PartialsFn(beam.DoFn):
    """CustomerJourneys -> (key, partial) on the output tagged with the partial's table."""

    def __init__(self, aggregate: DailyAggregate):
        self._aggregate = aggregate
        self._partials = Metrics.counter(NAMESPACE, "daily_partials")

    def process(self, customer):
        found = self._aggregate.partials(customer)
        self._partials.inc(len(found))
        for table, key, part in found:
            yield beam.pvalue.TaggedOutput(table, (key, part))


class _DailyCombineFn(beam.CombineFn):
    """Merges one table's partials; the accumulator is a partial (see journeys/rules/daily.py)."""

    def __init__(self, aggregate: DailyAggregate, table: str):
        super().__init__()
        self._empty = partial(aggregate.empty, table)

    def create_accumulator(self):
        return self._empty()

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
    """PCollection[CustomerJourneys] -> one PCollection[dict] per table of ``aggregate``.

    The output is a named tuple whose field names are the table names
    (``out.page_stats_daily``). Rows are dicts whose keys are exactly the
    table's columns (``journeys.core.tables``): ``day`` an ISO date string
    'YYYY-MM-DD' (UTC date of the journey's start), counts int, averages,
    rates and percentiles float or None. Labels: PerCustomerPartials, then
    Combine<Label> and Finish<Label> per table (``aggregate.labels``). The
    default is the four journey tables (page_stats, friction, journey_stats,
    path_edges); ``daily_chat_tasks.CHAT_TASK_DAILY`` gives chat_stats and
    task_effort.

    Windowing: the combines run per key in the input's windows and triggers.
    In a bounded run (global window, default trigger) each key emits one row
    after all input is read. The input must hold each customer once per window
    (what SessioniseJourneys gives in a bounded run): a customer re-emitted by
    an accumulating trigger would be counted again, so streaming runs should
    recompute a day's rows from the warehouse or feed this from discarding panes.
    """

    def __init__(self, aggregate: DailyAggregate = daily.JOURNEY_DAILY):
        super().__init__()
        self._aggregate = aggregate
        self._output = namedtuple("DailyTables", aggregate.tables)

    def expand(self, customers):
        spec = self._aggregate
        parts = customers | "PerCustomerPartials" >> beam.ParDo(_PartialsFn(spec)).with_outputs(*spec.tables)
        return self._output(*(
            parts[table]
            | f"Combine{label}" >> beam.CombinePerKey(_DailyCombineFn(spec, table))
            | f"Finish{label}" >> beam.MapTuple(partial(spec.finish, table))
            for table, label in zip(spec.tables, spec.labels)))
