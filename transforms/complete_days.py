"""CompleteDays: the customers whose journeys make up every day a run touches.

A bounded run rebuilds only the customers it touches, but a daily aggregate
needs every journey of its day. The touched days are the days of the rebuilt
customers' journeys, new and previously stored (a journey can move to another
day or disappear); the stored journeys of other customers on those days are
read back unchanged. Without a warehouse, a run's own days are complete.

Bounded runs into DuckDB or PostgreSQL use only TouchedDays: they record the
days as pending and recompute them once at the run's end
(pipelines/daily_settle.py), not in every chunk.
"""
from __future__ import annotations

import apache_beam as beam

from journeys.rules.daily import day_of
from journeys.transforms.history_reads import ReadsHistory, ReadsHistoryInBatches


def _new_days(customer):
    return {day_of(j.started_at) for j in customer.journeys}


class _StoredDaysFn(ReadsHistoryInBatches):
    def answer(self, customers):
        # The days only feed DistinctDays: the batch's days go out once, with its first customer's windowing.
        days = sorted(self.history.journey_days_of(c.customer_id for c in customers))
        return [days] + [[] for _ in customers[1:]]


class _StoredCustomersFn(ReadsHistory):
    def process(self, _, days, rebuilt):
        yield from self.history.customers_on_days(days, set(rebuilt))


class TouchedDays(beam.PTransform):
    """PCollection[CustomerJourneys] -> PCollection[str]: every day the rebuilt customers' journeys
    start on, new or stored (a journey can move to another day or disappear), each once.

    What a run whose daily rows are recomputed at its end (pipelines/daily_settle.py)
    records as pending; what CompleteDays completes otherwise.
    """

    def __init__(self, history_url: str | None):
        super().__init__()
        self._history_url = history_url

    def expand(self, customers):
        days = customers | "NewJourneyDays" >> beam.FlatMap(_new_days)
        if self._history_url:
            stored_days = customers | "StoredJourneyDays" >> beam.ParDo(_StoredDaysFn(self._history_url))
            days = (days, stored_days) | "AllDays" >> beam.Flatten()
        return days | "DistinctDays" >> beam.Distinct()


class CompleteDays(beam.PTransform):
    """PCollection[CustomerJourneys] -> (PCollection[CustomerJourneys], PCollection[str] days).

    The first output holds the rebuilt customers plus, for every touched day,
    the stored journeys (with views and friction) of the other customers;
    the second the touched days, each once (TouchedDays). Bounded runs only: it
    reads the warehouse once, after the rebuilt customers are known.
    """

    def __init__(self, history_url: str | None):
        super().__init__()
        self._history_url = history_url

    def expand(self, customers):
        days = customers | "TouchedDays" >> TouchedDays(self._history_url)
        if not self._history_url:
            return customers, days
        rebuilt = customers | "RebuiltCustomerIds" >> beam.Map(lambda c: c.customer_id)
        others = (customers.pipeline
                  | "Once" >> beam.Create([None])
                  | "StoredCustomersOnDays" >> beam.ParDo(_StoredCustomersFn(self._history_url),
                                                          beam.pvalue.AsList(days),
                                                          beam.pvalue.AsList(rebuilt)))
        return (customers, others) | "WholeDays" >> beam.Flatten(), days
