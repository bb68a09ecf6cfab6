"""StitchIdentities and SessioniseJourneys: events to per-customer journeys.

Two shuffles, each moving lists by a shard of their key rather than single
events (transforms/batches.py): events grouped by device, which decides the
device's customer; device batches grouped by customer, whose journeys are
built in one pass by a pure function. Warehouse look-ups are made for up to
BATCH_SIZE devices or customers at once.

With ``history`` (a warehouse URL), a bounded run that sees only new events
rebuilds every customer it touches with that customer's stored events too,
and a device that moved to another customer (a login) also rebuilds the
customer it left. A device's stored events are read only when its new events
name a user it was not linked to; otherwise its stored link stands. With
``partial``, a customer whose devices neither joined nor left is rebuilt only
from the journey its new events can change on (rules/partial_rebuild.py);
else, and always without ``partial``, from its whole history.
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
from journeys.rules.partial_rebuild import latest_conversation_start, rebuild_since
from journeys.transforms.batches import by_shard, chunked, unpacked
from journeys.transforms.history_reads import BATCH_SIZE, ReadsHistory

NAMESPACE = "journeys"


class DeviceBatch(NamedTuple):
    anonymous_id: str
    events: tuple[Event, ...]
    with_history: bool = False  # the device's stored events are among ``events``


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
        previous = self.history.customers_of(device for device, _ in devices) if self.history else {}
        # A device's customer is its latest user: its stored link stands unless a new event names another user.
        relinked = {device for device, events in devices if _names_another_user(events, previous.get(device))}
        stored = self.history.device_events_by_device(relinked) if relinked else {}
        out = []
        for device, events in devices:
            if device in relinked:
                events = events + stored.get(device, [])
            customer = device_customer(events) if device in relinked or device not in previous else previous[device]
            out.append((customer, DeviceBatch(device, tuple(events), device in relinked)))
            if previous.get(device) and previous[device] != customer:
                out.append((previous[device], DeviceMoved(device)))
        return out


def _names_another_user(events: list[Event], linked: str | None) -> bool:
    """Whether a stored device (linked to ``linked``) must be re-stitched from all its events."""
    return linked is not None and any(e.user_id and e.user_id != linked for e in events)


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
    def __init__(self, config: Config, history_url: str | None, partial: bool = False):
        super().__init__(history_url)
        self._config = config
        self._partial = partial
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
        if not self.history:
            for customer_id, batches in customers:
                yield self._built(customer_id, [e for batch in batches for e in batch.events])
            return
        devices = self.history.devices_of_customers([customer_id for customer_id, _ in customers])
        since = self._rebuild_points(customers, moved) if self._partial else {}
        # Whole customers: every linked device's stored events, but for those read with the device's batch.
        others = {customer_id: set(devices.get(customer_id, ())) - moved.get(customer_id, set())
                  - {b.anonymous_id for b in batches if b.with_history}
                  for customer_id, batches in customers if customer_id not in since}
        stored = self.history.device_events_by_device(set().union(*others.values()))
        later = self.history.customer_events_since(since)
        earlier = self.history.conversation_starts_before(since, self._config.friction.repeat_contact_window_s * 1000)
        for customer_id, batches in customers:
            events = [event for batch in batches for event in batch.events]
            if customer_id not in since:
                for device in sorted(others[customer_id]):
                    events += stored.get(device, [])
                yield self._built(customer_id, events)
                continue
            start = since[customer_id]
            built = self._built(customer_id, events + later.get(customer_id, []),
                                latest_conversation_start(earlier.get(customer_id, ()), start))
            linked = {*devices.get(customer_id, ()), *(b.anonymous_id for b in batches)}
            yield built._replace(devices=tuple(sorted(linked)), rebuilt_since=start)

    def _rebuild_points(self, customers, moved) -> dict[str, int]:
        """customer_id -> the time its journeys are rebuilt from, for the customers rebuilt in part:
        no device joined or left them (every device's link stood), and a stored journey starts early enough."""
        steady = [(customer_id, batches) for customer_id, batches in customers
                  if customer_id not in moved and not any(b.with_history for b in batches)]
        starts = self.history.journey_starts_of(customer_id for customer_id, _ in steady)
        points = {customer_id: rebuild_since(starts.get(customer_id, ()),
                                             (e for batch in batches for e in batch.events))
                  for customer_id, batches in steady}
        return {customer_id: point for customer_id, point in points.items() if point is not None}

    def _built(self, customer_id, events, earlier_contact=None):
        built = build_customer_journeys(customer_id, events, self._config, earlier_contact)
        self._journeys.inc(len(built.journeys))
        self._views.inc(len(built.page_views))
        self._friction.inc(len(built.friction))
        return built


class SessioniseJourneys(beam.PTransform):
    """StitchIdentities' output -> PCollection[CustomerJourneys], one per customer.

    Groups by the shard of the customer and builds every journey, page view and friction point
    of the customer at once, in event time: arrival order does not matter,
    and a late event that bridges two journeys gives one merged journey when
    the group fires again (accumulating panes re-emit the whole customer; the
    warehouse replaces the customer's overlapping rows). A customer left with
    no events (all its devices moved) is emitted empty, so its rows go.
    """

    def __init__(self, config: Config, history_url: str | None = None, partial: bool = False):
        super().__init__()
        self._config = config
        self._history_url = history_url
        self._partial = partial

    def expand(self, device_batches):
        return (device_batches
                | "GroupByCustomerShard" >> beam.GroupByKey()
                | "BuildCustomerJourneys" >> beam.ParDo(_BuildFn(self._config, self._history_url, self._partial)))
