"""CompleteDays: the customers whose journeys make up every day a run touches.

A bounded run rebuilds only the customers it touches, but a daily aggregate
needs every journey of its day. The touched days are the days of the rebuilt
customers' journeys, new and previously stored (a journey can move to another
day or disappear); the stored journeys of other customers on those days are
read back unchanged. Without a warehouse, a run's own days are complete.
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


class CompleteDays(beam.PTransform):
    """PCollection[CustomerJourneys] -> (PCollection[CustomerJourneys], PCollection[str] days).

    The first output holds the rebuilt customers plus, for every touched day,
    the stored journeys (with views and friction) of the other customers;
    the second the touched days, each once. Bounded runs only: it reads the
    warehouse once, after the rebuilt customers are known.
    """

    def __init__(self, history_url: str | None):
        super().__init__()
        self._history_url = history_url

    def expand(self, customers):
        new_days = customers | "NewJourneyDays" >> beam.FlatMap(_new_days)
        if not self._history_url:
            return customers, new_days | "DistinctDays" >> beam.Distinct()
        stored_days = customers | "StoredJourneyDays" >> beam.ParDo(_StoredDaysFn(self._history_url))
        days = (new_days, stored_days) | "AllDays" >> beam.Flatten() | "DistinctDays" >> beam.Distinct()
        rebuilt = customers | "RebuiltCustomerIds" >> beam.Map(lambda c: c.customer_id)
        others = (customers.pipeline
                  | "Once" >> beam.Create([None])
                  | "StoredCustomersOnDays" >> beam.ParDo(_StoredCustomersFn(self._history_url),
                                                          beam.pvalue.AsList(days),
                                                          beam.pvalue.AsList(rebuilt)))
        return (customers, others) | "WholeDays" >> beam.Flatten(), days
