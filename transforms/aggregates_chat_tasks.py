"""AggregateChatAndTasks: per-customer chat summaries and task attempts to two daily tables.

Same design as ``transforms/aggregates.py``: one CustomerChatTasks holds a
customer's journeys (for the journey-start day), conversations and task
attempts, so a ParDo folds it into one partial per (table, key) and a
CombinePerKey per table merges partials (lifted: partial merges before the
shuffle); no GroupByKey of rows.
"""
from __future__ import annotations

from functools import partial
from typing import NamedTuple

import apache_beam as beam
from apache_beam.metrics import Metrics
from journeys.transforms.journeys import NAMESPACE

from journeys.rules import daily_chat_tasks as chat_tasks
from journeys.rules.daily import merge

_LABELS = {chat_tasks.CHAT_STATS: "ChatStats", chat_tasks.TASK_EFFORT: "TaskEffort"}


class ChatTaskAggregates(NamedTuple):
    """One PCollection of row dicts per table; the field names are the table names."""
    chat_stats_daily: beam.PCollection
    task_effort_daily: beam.PCollection


class _PartialsFn(beam.DoFn):
    def __init__(self):
        self._partials = Metrics.counter(NAMESPACE, "chat_task_partials")

    def process(self, customer):
        found = chat_tasks.partials(customer)
        self._partials.inc(len(found))
        for table, key, part in found:
            yield beam.pvalue.TaggedOutput(table, (key, part))


class _ChatTaskCombineFn(beam.CombineFn):
    """Merges one table's partials; the accumulator is a partial (journeys/daily_chat_tasks.py)."""

    def __init__(self, table: str):
        super().__init__()
        self._table = table

    def create_accumulator(self):
        return chat_tasks.empty(self._table)

    def add_input(self, accumulator, part):
        return merge(accumulator, part)

    def merge_accumulators(self, accumulators):
        accumulators = iter(accumulators)  # Beam allows mutating (only) the first accumulator
        merged = next(accumulators, None)
        if merged is None:
            return self.create_accumulator()
        for other in accumulators:
            merge(merged, other)
        return merged

    def extract_output(self, accumulator):
        return accumulator  # finished with its key by a Map after the combine


class AggregateChatAndTasks(beam.PTransform):
    """PCollection[CustomerChatTasks] -> ChatTaskAggregates of two PCollection[dict].

    Rows have exactly the table's columns (``daily_chat_tasks.COLUMNS``): ``day``
    an ISO date 'YYYY-MM-DD' (UTC date of the journey's start), counts int,
    rates, medians and averages float or None. Labels: PerCustomerPartials,
    then Combine<Table> and Finish<Table> for ChatStats and TaskEffort.
    Windowing as ``AggregateDaily``: each customer once per window.
    """

    def expand(self, customers):
        parts = customers | "PerCustomerPartials" >> beam.ParDo(_PartialsFn()).with_outputs(*chat_tasks.TABLES)
        tables = {}
        for table in chat_tasks.TABLES:
            label = _LABELS[table]
            tables[table] = (parts[table]
                             | f"Combine{label}" >> beam.CombinePerKey(_ChatTaskCombineFn(table))
                             | f"Finish{label}" >> beam.MapTuple(partial(chat_tasks.finish, table)))
        return ChatTaskAggregates(**tables)
