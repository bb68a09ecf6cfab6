"""All of one customer's journeys, page views and friction points, in one pass.

``build_customer_journeys`` is the whole journey model for one customer: the
Beam pipeline calls it once per customer, tests call it directly.
"""
from __future__ import annotations

from typing import Iterable

from journeys.core.config import Config
from journeys.core.events import Event
from journeys.core.model import CustomerJourneys, FrictionPoint, Journey
from journeys.rules.acquisition import acquisition_channel
from journeys.rules.conversations import summarise_conversations
from journeys.rules.friction import Detected, detect_friction, detect_repeat_contacts
from journeys.rules.masking import mask_text
from journeys.rules.page_views import page_views
from journeys.rules.scores import effort_score, friction_score, is_bounce, outcome
from journeys.rules.sessionise import journey_id, split_journeys, unique_events
from journeys.rules.tasks import task_attempts

_MS = 1000.0




def _channels(journey: list[Event]) -> str:
    return ",".join(dict.fromkeys(e.channel for e in journey))


def _friction_point(found: Detected, jid: str, customer_id: str) -> FrictionPoint:
    return FrictionPoint(journey_id=jid, customer_id=customer_id, friction_type=found.friction_type,
                         channel=found.channel, page=found.page, occurred_at=found.occurred_at,
                         detail=mask_text(found.detail), event_id=found.event_id)


def build_customer_journeys(customer_id: str, events: Iterable[Event], config: Config,
                            earlier_contact: Event | None = None) -> CustomerJourneys:
    """``events``: all of the customer's events, or all from a journey's start on (rules/partial_rebuild.py),
    then with ``earlier_contact``, the customer's latest chat conversation_start before them."""
    ordered = unique_events(events)
    repeat_by_event = {d.event_id: d for d in detect_repeat_contacts(ordered, config.friction, earlier_contact)}
    devices = tuple(sorted({e.anonymous_id for e in ordered}))
    out = CustomerJourneys([], [], [], customer_id, devices, [], [])
    for journey in split_journeys(ordered, config.journey):
        jid = journey_id(customer_id, journey[0])
        views = page_views(journey, jid, customer_id, config.journey)
        found = detect_friction(journey, views, config.friction)
        found += [repeat_by_event[e.event_id] for e in journey if e.event_id in repeat_by_event]
        points = [_friction_point(d, jid, customer_id) for d in found]
        result = outcome(journey)
        duration_s = (journey[-1].event_time - journey[0].event_time) / _MS
        score = friction_score((p.friction_type for p in points), config.friction.weights)
        first_web_view = next((e for e in journey if e.channel == "web" and e.event_type == "page_view"), None)
        out.journeys.append(Journey(
            journey_id=jid, customer_id=customer_id, started_at=journey[0].event_time,
            ended_at=journey[-1].event_time, duration_s=duration_s, channels=_channels(journey),
            event_count=len(journey), page_view_count=len(views),
            entry_page=views[0].page if views else None, exit_page=views[-1].page if views else None,
            acquisition_channel=acquisition_channel(journey[0], first_web_view, config.acquisition),
            converted=result.converted, escalated=result.escalated, resolved=result.resolved,
            bounced=is_bounce(views, result.converted, config.journey), friction_count=len(points),
            friction_score=score, effort_score=effort_score(score, duration_s, result, config.effort),
            engaged_time_s=sum(v.engaged_time_s for v in views), first_event_id=journey[0].event_id))
        out.conversations.extend(summarise_conversations(journey, jid, customer_id))
        out.task_attempts.extend(task_attempts(journey, out.journeys[-1], points, config.tasks.rules))
        out.page_views.extend(views)
        out.friction.extend(sorted(points, key=lambda p: (p.occurred_at, p.event_id, p.friction_type)))
    return out
