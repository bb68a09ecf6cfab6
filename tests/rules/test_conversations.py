"""summarise_conversations: hand-worked events, one definition at a time."""
from support.model_helpers import SECOND, T0, ev, view

from journeys.core.model import ConversationSummary
from journeys.rules.conversations import summarise_conversations


def one(events, conversation_id="conv-1"):
    found = {c.conversation_id: c for c in summarise_conversations(events, "j1", "cust")}
    return found[conversation_id]


def test_a_full_conversation():
    events = [ev("c1", "conversation_start", 0, "chat-1", sender="customer"),
              ev("c2", "message", 2 * SECOND, "chat-1", sender="bot"),  # greeting: before the question
              ev("c3", "message", 5 * SECOND, "chat-1", sender="customer", intent="returns"),
              ev("c4", "message", 9 * SECOND, "chat-1", sender="bot"),  # first response: 4 s
              ev("c5", "message", 12 * SECOND, "chat-1", sender="customer", intent="agent_request"),
              ev("c6", "handoff_requested", 14 * SECOND, "chat-1", sender="bot"),
              ev("c7", "agent_joined", 94 * SECOND, "chat-1", sender="agent"),  # wait 80 s
              ev("c8", "message", 100 * SECOND, "chat-1", sender="agent"),
              ev("c9", "conversation_end", 120 * SECOND, "chat-1", sender="system", resolution="resolved"),
              ev("c10", "csat", 130 * SECOND, "chat-1", sender="customer", csat_score=4)]
    assert summarise_conversations(list(reversed(events)), "j1", "cust") == [ConversationSummary(
        journey_id="j1", customer_id="cust", conversation_id="conv-1", started_at=T0, bot_messages=2,
        handoff_at=T0 + 14 * SECOND, agent_joined_at=T0 + 94 * SECOND, first_response_s=4.0, wait_s=80.0,
        resolution="resolved", csat=4.0)]


def test_no_start_event_starts_at_the_first_event_and_first_response_from_the_customer():
    events = [ev("a", "message", 10 * SECOND, sender="bot"), ev("b", "message", 15 * SECOND, sender="customer"),
              ev("c", "message", 18 * SECOND, sender="agent")]
    c = one(events)
    assert (c.started_at, c.bot_messages, c.first_response_s) == (T0 + 10 * SECOND, 1, 3.0)


def test_first_response_from_the_start_without_a_customer_message_and_agent_joined_is_no_message():
    events = [ev("a", "conversation_start", 0), ev("b", "agent_joined", 5 * SECOND, sender="agent"),
              ev("c", "message", 7 * SECOND, sender="agent")]
    c = one(events)
    assert (c.first_response_s, c.wait_s, c.agent_joined_at, c.handoff_at) == (7.0, None, T0 + 5 * SECOND, None)


def test_no_response_is_none():
    c = one([ev("a", "conversation_start", 0), ev("b", "message", SECOND, sender="customer"),
             ev("c", "message", 2 * SECOND, sender="system")])
    assert c.first_response_s is None and c.bot_messages == 0 and c.resolution is None and c.csat is None


def test_handoff_without_agent_has_no_wait():
    c = one([ev("a", "conversation_start", 0), ev("b", "message", SECOND, sender="bot"),
             ev("c", "handoff_requested", 5 * SECOND), ev("d", "conversation_end", 99 * SECOND, resolution="abandoned")])
    assert (c.handoff_at, c.agent_joined_at, c.wait_s, c.resolution) == (T0 + 5 * SECOND, None, None, "abandoned")


def test_wait_runs_from_the_first_handoff_to_the_first_agent_after_it():
    c = one([ev("a", "agent_joined", 0), ev("b", "handoff_requested", 10 * SECOND),
             ev("c", "handoff_requested", 20 * SECOND), ev("d", "agent_joined", 70 * SECOND),
             ev("e", "agent_joined", 80 * SECOND)])
    assert (c.wait_s, c.agent_joined_at, c.handoff_at) == (60.0, T0, T0 + 10 * SECOND)


def test_last_end_and_last_csat_win():
    c = one([ev("a", "conversation_start", 0), ev("b", "conversation_end", SECOND, resolution="unresolved"),
             ev("c", "csat", 2 * SECOND, csat_score=2), ev("d", "conversation_end", 3 * SECOND, resolution="resolved"),
             ev("e", "csat", 4 * SECOND, csat_score=5), ev("f", "csat", 5 * SECOND)])  # no score: ignored
    assert (c.resolution, c.csat) == ("resolved", 5.0)


def test_ties_in_time_go_by_event_id_and_conversations_are_separate():
    events = [view("w", "/help", 0), ev("b2", "message", 5 * SECOND, sender="bot"),
              ev("b1", "message", 5 * SECOND, sender="customer"),  # same ms: b1 first
              ev("x1", "conversation_start", 6 * SECOND, conversation_id="conv-2"),
              ev("x2", "message", 8 * SECOND, conversation_id="conv-2", sender="bot")]
    found = summarise_conversations(events, "j1", "cust")
    assert [c.conversation_id for c in found] == ["conv-1", "conv-2"]
    assert found[0].first_response_s == 0.0 and found[1].first_response_s == 2.0
    assert found[1].started_at == T0 + 6 * SECOND
