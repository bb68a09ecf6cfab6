"""How much of a returning customer's history new events can change (contract section 2).

A customer's events split into journeys in event order, each journey
starting where the one before ended (rules/sessionise.py). New events at or
after time t leave every journey that ends before the latest stored journey
starting at or before t as it is: events that share a time share a journey,
so that journey's first event starts a journey again whatever comes later,
and the split from there on needs only the events from there on. Only the
repeat-contact rule looks further back, and only at the latest chat
conversation_start before that point.

So the pipeline rebuilds such a customer from ``rebuild_since`` on, with the
stored events from then and that one earlier conversation start, and keeps
its journeys before. A device that joins or leaves the customer changes
every journey, and rebuilds the whole customer (transforms/journeys.py).
"""
from __future__ import annotations

from typing import Iterable

from journeys.core.events import Event
from journeys.rules.friction import is_conversation_start
from journeys.rules.pages import event_order


def rebuild_since(stored_starts: Iterable[int], new_events: Iterable[Event]) -> int | None:
    """The started_at (ms) of the latest stored journey starting at or before the earliest new
    event: the customer's journeys from that time on are rebuilt. None: no stored journey starts
    that early (or no event is new), so the whole history is rebuilt."""
    earliest = min((event.event_time for event in new_events), default=None)
    if earliest is None:
        return None
    return max((start for start in stored_starts if start <= earliest), default=None)


def latest_conversation_start(events: Iterable[Event], before_ms: int) -> Event | None:
    """The latest (in event order) chat conversation_start among ``events`` earlier than ``before_ms``."""
    starts = [e for e in events if is_conversation_start(e) and e.event_time < before_ms]
    return max(starts, key=event_order, default=None)
