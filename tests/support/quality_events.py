"""Events for the quality tests: one visitor, one web topic, offsets as times."""
from journeys import quality
from journeys.core.events import Event

T0 = 1_700_000_000_000  # 2023-11-14T22:13:20Z
DAY = "2023-11-14"


def event(offset, event_type="page_view", channel="web", **fields):
    fields.setdefault("event_id", f"e{offset}")
    if channel == "chat":
        fields.setdefault("conversation_id", "c1")
    return Event(event_type=event_type, channel=channel, event_time=fields.pop("event_time", T0 + offset),
                 anonymous_id="anon-1", source="web.events", partition=0, offset=offset, **fields)


def params(**over):
    return {**quality.event_parameters(run_started_ms=T0 + 3_600_000), **over}
