"""Journey outcome flags, engagement, bounce, friction score and effort score.

Friction score: the sum of the configured weight of each friction point.

Effort score, 1 (effortless) to 5 (very hard):
    1
    + floor(friction_score / friction_points_per_step)     friction
    + 1 if duration_s >= long_journey_s                      journey length
    + unmet_outcome_step if (escalated or an unresolved
      chat) and not converted                                outcome
clamped to [lowest, highest]. A clean, short journey scores 1; a journey
with a failed chat after 6 points of friction scores 4 or 5.
"""
from __future__ import annotations

from typing import Iterable, NamedTuple, Sequence

from journeys.core.config import EffortConfig, JourneyConfig
from journeys.core.events import Event
from journeys.core.model import PageView


class Outcome(NamedTuple):
    converted: bool
    escalated: bool
    resolved: bool
    unresolved: bool


def outcome(journey: Sequence[Event]) -> Outcome:
    types = {e.event_type for e in journey}
    ends = [e.resolution for e in journey if e.event_type == "conversation_end"]
    return Outcome(converted="purchase" in types, escalated="agent_joined" in types,
                   resolved="resolved" in ends, unresolved=any(r != "resolved" for r in ends))


def is_engaged(views: Sequence[PageView], converted: bool, config: JourneyConfig) -> bool:
    """GA4/Snowplow: 2+ page or screen views, or engaged time of 10 s or more, or a purchase."""
    return (len(views) >= config.engaged_min_page_views
            or sum(v.engaged_time_s for v in views) >= config.engaged_min_time_s
            or converted)


def is_bounce(views: Sequence[PageView], converted: bool, config: JourneyConfig) -> bool:
    """A journey with page or screen views that is not engaged (so chat-only never bounces)."""
    return bool(views) and not is_engaged(views, converted, config)


def friction_score(friction_types: Iterable[str], weights: dict) -> float:
    return float(sum(weights.get(t, 0.0) for t in friction_types))


def effort_score(score: float, duration_s: float, result: Outcome, config: EffortConfig) -> int:
    effort = config.lowest + int(score // config.friction_points_per_step)
    if duration_s >= config.long_journey_s:
        effort += 1
    if (result.escalated or result.unresolved) and not result.converted:
        effort += config.unmet_outcome_step
    return max(config.lowest, min(config.highest, effort))
