"""Splitting one customer's events into journeys (contract section 2).

Events are ordered by (event_time, event_id). A journey ends where the next
event is more than ``inactivity_gap_s`` after the previous one (exactly the
gap stays in the journey), or is ``max_journey_s`` or more after the
journey's first event. Journey ids hash the customer and the journey's first
event, so the same events give the same id on every run.
"""
from __future__ import annotations

import hashlib
from typing import Iterable, Sequence

from journeys.core.config import JourneyConfig
from journeys.core.events import Event
from journeys.rules.pages import event_order_key

_ID_BYTES = 16


def unique_events(events: Iterable[Event]) -> list[Event]:
    """Sorted by event order, one per event_id (the first read wins)."""
    first: dict[str, Event] = {}
    for event in events:
        kept = first.get(event.event_id)
        if kept is None or event.position < kept.position:
            first[event.event_id] = event
    return sorted(first.values(), key=event_order_key)


def split_journeys(events: Sequence[Event], config: JourneyConfig) -> list[list[Event]]:
    """``events`` sorted by event order -> journeys, each a non-empty list."""
    gap_ms = config.inactivity_gap_s * 1000
    cap_ms = config.max_journey_s * 1000
    journeys: list[list[Event]] = []
    for event in events:
        current = journeys[-1] if journeys else None
        if (current is None or event.event_time - current[-1].event_time > gap_ms
                or event.event_time - current[0].event_time >= cap_ms):
            journeys.append([event])
        else:
            current.append(event)
    return journeys


def journey_id(customer_id: str, first: Event) -> str:
    key = f"{customer_id}\x1f{first.event_time}\x1f{first.event_id}".encode("utf-8")
    return hashlib.blake2b(key, digest_size=_ID_BYTES).hexdigest()
