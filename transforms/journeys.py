"""StitchIdentities and SessioniseJourneys: events to per-customer journeys.

Two shuffles, each moving lists by a shard of their key rather than single
events (transforms/batches.py): events grouped by device, which decides the
device's customer; device batches grouped by customer, whose journeys are
built in one pass by a pure function. Warehouse look-ups are made for up to
BATCH_SIZE devices or customers at once.

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
from journeys.transforms.batches import by_shard, chunked, unpacked
from journeys.transforms.history_reads import BATCH_SIZE, ReadsHistory

NAMESPACE = "journeys"


class DeviceBatch(NamedTuple):
    anonymous_id: str
    events: tuple[Event, ...]


class DeviceMoved(NamedTuple):
    """Sent to the customer a device belonged to before this run."""
    anonymous_id: str


class _LinkDevicesFn(ReadsHistory):
    def process(self, keyed):
        _, packed = keyed
        by_device: dict[str, list[Event]] = {}
        for event in unpacked(packed):
            by_device.setdefault(event.anonymous_id, []).append(event)
        produced = []
        for devices in chunked(by_device.items(), BATCH_SIZE):
            produced += self._link(devices)
        yield from by_shard(produced, key=_customer_of)

    def _link(self, devices):
        stored, previous = {}, {}
        if self.history:
            ids = [device for device, _ in devices]
            stored = self.history.device_events_by_device(ids)
            previous = self.history.customers_of(ids)
        out = []
        for device, events in devices:
            events = events + stored.get(device, [])
            customer = device_customer(events)
            out.append((customer, DeviceBatch(device, tuple(events))))
            if previous.get(device) and previous[device] != customer:
                out.append((previous[device], DeviceMoved(device)))
        return out


def _customer_of(item: tuple[str, DeviceBatch | DeviceMoved]) -> str:
    return item[0]


class StitchIdentities(beam.PTransform):
    """PCollection[list[Event]] -> PCollection[(shard, packed list[(customer_id, DeviceBatch | DeviceMoved)])].

    Groups by a shard of anonymous_id (transforms/batches.py) in the input's
    windowing; a device's customer is its latest user_id (any channel), else
    its anonymous_id. Emits, per device shard, its devices grouped by the
    shard of their customer, when the group fires (once per window in a
    bounded run).
    """

    def __init__(self, history_url: str | None = None):
        super().__init__()
        self._history_url = history_url

    def expand(self, events):
        return (events
                | "ShardByDevice" >> beam.FlatMap(by_shard, key=_device_of)
                | "GroupByDevice" >> beam.GroupByKey()
                | "LinkDeviceToCustomer" >> beam.ParDo(_LinkDevicesFn(self._history_url)))


def _device_of(event: Event) -> str:
    return event.anonymous_id


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
        _, packed = keyed
        batches: dict[str, list[DeviceBatch]] = {}
        moved: dict[str, set[str]] = {}
        for customer_id, item in unpacked(packed):
            batches.setdefault(customer_id, [])
            if isinstance(item, DeviceBatch):
                batches[customer_id].append(item)
            else:
                moved.setdefault(customer_id, set()).add(item.anonymous_id)
        for customers in chunked(batches.items(), BATCH_SIZE):
            yield from self._build(customers, moved)

    def _build(self, customers, moved):
        others: dict[str, set[str]] = {}
        stored: dict[str, list[Event]] = {}
        if self.history:
            devices = self.history.devices_of_customers([customer_id for customer_id, _ in customers])
            for customer_id, batches in customers:
                present = {b.anonymous_id for b in batches}
                others[customer_id] = set(devices.get(customer_id, ())) - present - moved.get(customer_id, set())
            stored = self.history.device_events_by_device(set().union(*others.values()))
        for customer_id, batches in customers:
            events = [event for batch in batches for event in batch.events]
            for device in sorted(others.get(customer_id, ())):
                events += stored.get(device, [])
            built = build_customer_journeys(customer_id, events, self._config)
            self._journeys.inc(len(built.journeys))
            self._views.inc(len(built.page_views))
            self._friction.inc(len(built.friction))
            yield built


class SessioniseJourneys(beam.PTransform):
    """StitchIdentities' output -> PCollection[CustomerJourneys], one per customer.

    Groups by the shard of the customer and builds every journey, page view and friction point
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
                | "GroupByCustomerShard" >> beam.GroupByKey()
                | "BuildCustomerJourneys" >> beam.ParDo(_BuildFn(self._config, self._history_url)))
