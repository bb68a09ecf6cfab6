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
from journeys.transforms.history_reads import ReadsHistoryInBatches

NAMESPACE = "journeys"


class DeviceBatch(NamedTuple):
    anonymous_id: str
    events: tuple[Event, ...]


class DeviceMoved(NamedTuple):
    """Sent to the customer a device belonged to before this run."""
    anonymous_id: str


class _LinkDeviceFn(ReadsHistoryInBatches):
    def keep(self, keyed):
        device, events = keyed
        return device, list(events)

    def answer(self, devices):
        stored, previous = {}, {}
        if self.history:
            ids = [device for device, _ in devices]
            stored = self.history.device_events_by_device(ids)
            previous = self.history.customers_of(ids)
        out = []
        for device, events in devices:
            events = events + stored.get(device, [])
            customer = device_customer(events)
            produced = [(customer, DeviceBatch(device, tuple(events)))]
            if previous.get(device) and previous[device] != customer:
                produced.append((previous[device], DeviceMoved(device)))
            out.append(produced)
        return out


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


class _BuildFn(ReadsHistoryInBatches):
    def __init__(self, config: Config, history_url: str | None):
        super().__init__(history_url)
        self._config = config
        self._journeys = Metrics.counter(NAMESPACE, "journeys")
        self._views = Metrics.counter(NAMESPACE, "page_views")
        self._friction = Metrics.counter(NAMESPACE, "friction_points")

    def setup(self):
        # A worker process starts with the default masking settings: friction details and pages are masked here.
        masking.configure(self._config.masking)

    def keep(self, keyed):
        customer_id, items = keyed
        items = list(items)
        batches = [i for i in items if isinstance(i, DeviceBatch)]
        moved = {i.anonymous_id for i in items if isinstance(i, DeviceMoved)}
        return customer_id, batches, moved

    def answer(self, customers):
        others: dict[str, set[str]] = {}
        stored: dict[str, list[Event]] = {}
        if self.history:
            devices = self.history.devices_of_customers([customer_id for customer_id, _, _ in customers])
            for customer_id, batches, moved in customers:
                present = {b.anonymous_id for b in batches}
                others[customer_id] = set(devices.get(customer_id, ())) - present - moved
            stored = self.history.device_events_by_device(set().union(*others.values()))
        out = []
        for customer_id, batches, _ in customers:
            events = [event for batch in batches for event in batch.events]
            for device in sorted(others.get(customer_id, ())):
                events += stored.get(device, [])
            built = build_customer_journeys(customer_id, events, self._config)
            self._journeys.inc(len(built.journeys))
            self._views.inc(len(built.page_views))
            self._friction.inc(len(built.friction))
            out.append([built])
        return out


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
