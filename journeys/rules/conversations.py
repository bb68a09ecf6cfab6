"""Chat conversations of one journey, summarised (input of ``chat_stats_daily``); no Beam here.

``summarise_conversations`` reads ONE journey's events in the contract's event
order (event_time, ties by event_id; the events are sorted here, so any order
in is fine) and gives one ``ConversationSummary`` per conversation_id seen on a
chat event of the journey, in order of the conversation's first event. A
conversation that a 30-minute gap splits over two journeys gives one summary
in each, each from its own journey's events only. Definitions:

- ``started_at``: the conversation's first ``conversation_start``, else (no
  start event in the journey) its first event.
- ``bot_messages``: ``message`` events with sender ``bot``.
- ``handoff_at``: the first ``handoff_requested``; ``agent_joined_at``: the
  first ``agent_joined`` (wherever it is); None when there is none.
- ``first_response_s``: from the first ``message`` with sender ``customer``
  (else from the start event, or the first event when there is no start) to
  the first LATER (in event order) ``message`` whose sender is ``bot`` or
  ``agent``; None when nothing answers. ``agent_joined`` is not a message and
  does not count as a response.
- ``wait_s``: from the first ``handoff_requested`` to the first
  ``agent_joined`` after it in event order; None without a handoff or without
  an agent after it (the contract's long_wait interval).
- ``resolution``: the ``resolution`` of the LAST ``conversation_end`` (None if
  there is none, or if that last end carries none).
- ``csat``: the last non-null ``csat_score`` of the conversation's ``csat``
  events, as a float; None when there is none.
"""
from __future__ import annotations

from typing import Sequence

from journeys.core.events import Event
from journeys.core.model import ConversationSummary
from journeys.rules.pages import event_order_key

_MS = 1000.0
_RESPONDERS = frozenset({"bot", "agent"})



def _first(events: list[Event], event_type: str, after: int = -1) -> int | None:
    """Index of the first event of ``event_type`` after index ``after``."""
    return next((i for i in range(after + 1, len(events)) if events[i].event_type == event_type), None)


def _summary(events: list[Event], journey_id: str, customer_id: str) -> ConversationSummary:
    start = _first(events, "conversation_start")
    start = 0 if start is None else start
    asked = next((i for i, e in enumerate(events) if e.event_type == "message" and e.sender == "customer"), start)
    answer = next((e for e in events[asked + 1:] if e.event_type == "message" and e.sender in _RESPONDERS), None)
    handoff = _first(events, "handoff_requested")
    agent = _first(events, "agent_joined")
    agent_after = None if handoff is None else _first(events, "agent_joined", handoff)
    ends = [e for e in events if e.event_type == "conversation_end"]
    scores = [e.csat_score for e in events if e.event_type == "csat" and e.csat_score is not None]
    return ConversationSummary(
        journey_id=journey_id, customer_id=customer_id, conversation_id=events[0].conversation_id,
        started_at=events[start].event_time,
        bot_messages=sum(e.event_type == "message" and e.sender == "bot" for e in events),
        handoff_at=None if handoff is None else events[handoff].event_time,
        agent_joined_at=None if agent is None else events[agent].event_time,
        first_response_s=None if answer is None else (answer.event_time - events[asked].event_time) / _MS,
        wait_s=None if agent_after is None else (events[agent_after].event_time - events[handoff].event_time) / _MS,
        resolution=ends[-1].resolution if ends else None,
        csat=float(scores[-1]) if scores else None)


def summarise_conversations(journey_events: Sequence[Event], journey_id: str,
                            customer_id: str) -> list[ConversationSummary]:
    """One summary per conversation_id of the journey's chat events (see the module docstring)."""
    by_conversation: dict[str, list[Event]] = {}
    for event in sorted(journey_events, key=event_order_key):
        if event.channel == "chat" and event.conversation_id:
            by_conversation.setdefault(event.conversation_id, []).append(event)
    return [_summary(events, journey_id, customer_id) for events in by_conversation.values()]
