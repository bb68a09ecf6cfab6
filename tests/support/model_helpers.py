"""Hand-built events for the journey model tests."""
from journeys.core.events import Event

T0 = 1_767_571_200_000  # 2026-01-05T00:00:00Z
SECOND = 1_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE


def ev(event_id, event_type, at_ms, anonymous_id="cookie-1", channel=None, **fields):
    if channel is None:
        channel = ("app" if event_type in {"screen_view", "tap", "app_open", "app_background", "app_foreground"}
                   else "chat" if event_type in {"conversation_start", "message", "handoff_requested",
                                                 "agent_joined", "conversation_end", "csat"}
                   else "web")
    if channel == "chat":
        fields.setdefault("conversation_id", "conv-1")
    return Event(event_id, event_type, channel, T0 + at_ms, anonymous_id, **fields)


def view(event_id, path, at_ms, anonymous_id="cookie-1", **fields):
    return ev(event_id, "page_view", at_ms, anonymous_id, page_url=f"https://shop.example.com{path}", **fields)


def ping(event_id, path, at_ms, anonymous_id="cookie-1"):
    return ev(event_id, "page_ping", at_ms, anonymous_id, page_url=f"https://shop.example.com{path}")


def screen(event_id, name, at_ms, anonymous_id="device-1"):
    return ev(event_id, "screen_view", at_ms, anonymous_id, screen_name=name)


def synthetic_events_by_customer(n, seed):
    """Synthetic events, validated as the pipeline would, grouped by stitched customer, sorted."""
    from journeys.core.config import ValidationConfig
    from journeys.core.events import EventRules
    from journeys.generators.synthetic import generate_events
    from journeys.rules.identity import stitch

    rules = EventRules(ValidationConfig(), now_ms=T0 + 30 * 24 * HOUR)
    events = [rules.event_from_record(r, source="synthetic", offset=k) for k, r in enumerate(generate_events(n, seed))]
    customer_of = stitch(events)
    by_customer = {}
    for event in events:
        by_customer.setdefault(customer_of[event.anonymous_id], []).append(event)
    return sorted(by_customer.items())
