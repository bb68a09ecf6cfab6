"""Events for the quality tests: one visitor, one web topic, offsets as times."""
from pathlib import Path

from journeys import quality
from journeys.core.events import Event

T0 = 1_700_000_000_000  # 2023-11-14T22:13:20Z
DAY = "2023-11-14"
# The events suite's expectations quarantine (event types only report): for tests of quarantine itself.
# The default policy (schemas/quality/policy.json) quarantines only contract section 4's bad input.
STRICT_POLICY = Path(__file__).with_name("quality_policy_strict.json")


def event(offset, event_type="page_view", channel="web", **fields):
    fields.setdefault("event_id", f"e{offset}")
    if channel == "chat":
        fields.setdefault("conversation_id", "c1")
    return Event(event_type=event_type, channel=channel, event_time=fields.pop("event_time", T0 + offset),
                 anonymous_id="anon-1", source="web.events", partition=0, offset=offset, **fields)


def params(**over):
    return {**quality.event_parameters(run_started_ms=T0 + 3_600_000), **over}
