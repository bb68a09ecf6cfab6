"""StitchIdentities and SessioniseJourneys: events to per-customer journeys.

Two shuffles, each moving batches rather than single events: events grouped
by device, which decides the device's customer; device batches grouped by
customer, whose journeys are built in one pass by a pure function.

With ``history`` (a warehouse URL), a bounded run that sees only new events
rebuilds every customer it touches from all of that customer's stored events
too, and a device that moved to another customer (a login) also rebuilds the
customer it left.
"""
from __future__ import annotations

from typing import NamedTuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from journeys.core.config import Config
from journeys.core.events import Event
from journeys.rules import masking
from journeys.rules.identity import device_customer
from journeys.rules.journey_builder import build_customer_journeys
from journeys.transforms.history_reads import ReadsHistory

NAMESPACE = "journeys"


class DeviceBatch(NamedTuple):
    anonymous_id: str
    events: tuple[Event, ...]


class DeviceMoved(NamedTuple):
    """Sent to the customer a device belonged to before this run."""
    anonymous_id: str


class _LinkDeviceFn(ReadsHistory):
    def process(self, keyed):
        device, events = keyed
        events = list(events)
        previous = None
        if self.history:
            events += self.history.device_events([device])
            previous = self.history.customers_of([device]).get(device)
        customer = device_customer(events)
        yield (customer, DeviceBatch(device, tuple(events)))
        if previous and previous != customer:
            yield (previous, DeviceMoved(device))


class StitchIdentities(beam.PTransform):
    """PCollection[Event] -> PCollection[(customer_id, DeviceBatch | DeviceMoved)].

    Groups by anonymous_id in the input's windowing; a device's customer is
    its latest user_id (any channel), else its anonymous_id. Emits when the
    device group fires (once per window in a bounded run).
    """

    def __init__(self, history_url: str | None = None):
        super().__init__()
        self._history_url = history_url

    def expand(self, events):
        return (events
                | "KeyByDevice" >> beam.Map(lambda e: (e.anonymous_id, e))
                | "GroupByDevice" >> beam.GroupByKey()
                | "LinkDeviceToCustomer" >> beam.ParDo(_LinkDeviceFn(self._history_url)))


class _BuildFn(ReadsHistory):
    def __init__(self, config: Config, history_url: str | None):
        super().__init__(history_url)
        self._config = config
        self._journeys = Metrics.counter(NAMESPACE, "journeys")
        self._views = Metrics.counter(NAMESPACE, "page_views")
        self._friction = Metrics.counter(NAMESPACE, "friction_points")

    def setup(self):
        # A worker process starts with the default masking settings: friction details and pages are masked here.
        masking.configure(self._config.masking)

    def process(self, keyed):
        customer_id, items = keyed
        batches = [i for i in items if isinstance(i, DeviceBatch)]
        moved = {i.anonymous_id for i in items if isinstance(i, DeviceMoved)}
        events = [event for batch in batches for event in batch.events]
        if self.history:
            present = {b.anonymous_id for b in batches}
            others = set(self.history.devices_of(customer_id)) - present - moved
            events += self.history.device_events(others)
        built = build_customer_journeys(customer_id, events, self._config)
        self._journeys.inc(len(built.journeys))
        self._views.inc(len(built.page_views))
        self._friction.inc(len(built.friction))
        yield built


class SessioniseJourneys(beam.PTransform):
    """PCollection[(customer_id, DeviceBatch | DeviceMoved)] -> PCollection[CustomerJourneys], one per customer.

    Groups by customer and builds every journey, page view and friction point
    of the customer at once, in event time: arrival order does not matter,
    and a late event that bridges two journeys gives one merged journey when
    the group fires again (accumulating panes re-emit the whole customer; the
    warehouse replaces the customer's overlapping rows). A customer left with
    no events (all its devices moved) is emitted empty, so its rows go.
    """

    def __init__(self, config: Config, history_url: str | None = None):
        super().__init__()
        self._config = config
        self._history_url = history_url

    def expand(self, device_batches):
        return (device_batches
                | "GroupByCustomer" >> beam.GroupByKey()
                | "BuildCustomerJourneys" >> beam.ParDo(_BuildFn(self._config, self._history_url)))
