"""StitchIdentities and SessioniseJourneys: events to per-customer journeys.

Two shuffles, each moving batches rather than single events: events grouped
by device, which decides the device's customer; device batches grouped by
customer, whose journeys are built in one pass by a pure function.
"""
from __future__ import annotations

import apache_beam as beam
from apache_beam.metrics import Metrics

from journeys.config import Config
from journeys.identity import device_customer
from journeys.journey_builder import build_customer_journeys

NAMESPACE = "journeys"


def _device_batch(keyed):
    _, events = keyed
    events = tuple(events)
    return (device_customer(events), events)


class StitchIdentities(beam.PTransform):
    """PCollection[Event] -> PCollection[(customer_id, tuple[Event])], one per device.

    Groups by anonymous_id in the input's windowing; a device's customer is
    its latest user_id (any channel), else its anonymous_id. Emits when the
    device group fires (once per window in a bounded run).
    """

    def expand(self, events):
        return (events
                | "KeyByDevice" >> beam.Map(lambda e: (e.anonymous_id, e))
                | "GroupByDevice" >> beam.GroupByKey()
                | "LinkDeviceToCustomer" >> beam.Map(_device_batch))


class _BuildFn(beam.DoFn):
    def __init__(self, config: Config):
        self._config = config
        self._journeys = Metrics.counter(NAMESPACE, "journeys")
        self._views = Metrics.counter(NAMESPACE, "page_views")
        self._friction = Metrics.counter(NAMESPACE, "friction_points")

    def process(self, keyed):
        customer_id, device_batches = keyed
        events = [event for batch in device_batches for event in batch]
        built = build_customer_journeys(customer_id, events, self._config)
        self._journeys.inc(len(built.journeys))
        self._views.inc(len(built.page_views))
        self._friction.inc(len(built.friction))
        yield built


class SessioniseJourneys(beam.PTransform):
    """PCollection[(customer_id, tuple[Event])] -> PCollection[CustomerJourneys], one per customer.

    Groups device batches by customer and builds every journey, page view and
    friction point of the customer at once, in event time: arrival order does
    not matter, and a late event that bridges two journeys gives one merged
    journey when the group fires again (accumulating panes re-emit the whole
    customer; the warehouse replaces the customer's overlapping rows).
    """

    def __init__(self, config: Config):
        super().__init__()
        self._config = config

    def expand(self, device_batches):
        return (device_batches
                | "GroupByCustomer" >> beam.GroupByKey()
                | "BuildCustomerJourneys" >> beam.ParDo(_BuildFn(self._config)))
