"""The journey model's records: what the pure rules produce and the warehouse keeps.

Times are epoch milliseconds (UTC) inside the pipeline; durations are seconds.
"""
from __future__ import annotations

from typing import NamedTuple

PAGE_VIEW_TYPES = frozenset({"page_view", "screen_view"})


class PageView(NamedTuple):
    """One web page view or app screen view (contract section 3 ``page_views``)."""
    journey_id: str
    customer_id: str
    channel: str
    anonymous_id: str
    page: str | None  # web: URL path without query string; app: screen name; None when the event has none
    viewed_at: int
    seq: int  # 1-based in the journey, across devices
    time_on_page_s: float | None  # None when unknown (the device's last view with nothing after)
    engaged_time_s: float
    is_entry: bool
    is_exit: bool
    event_id: str


class FrictionPoint(NamedTuple):
    """One friction occurrence (contract section 3 ``friction_events``)."""
    journey_id: str
    customer_id: str
    friction_type: str
    channel: str
    page: str | None  # chat frictions: None, with the conversation_id in detail
    occurred_at: int
    detail: str | None
    event_id: str  # the event that completes the pattern


class Journey(NamedTuple):
    """One journey (contract section 3 ``journeys``)."""
    journey_id: str
    customer_id: str
    started_at: int
    ended_at: int
    duration_s: float
    channels: str  # comma-separated, in order of first appearance
    event_count: int
    page_view_count: int
    entry_page: str | None
    exit_page: str | None
    acquisition_channel: str
    converted: bool
    escalated: bool
    resolved: bool
    bounced: bool
    friction_count: int
    friction_score: float
    effort_score: int
    engaged_time_s: float
    first_event_id: str


class ConversationSummary(NamedTuple):
    journey_id: str
    customer_id: str
    conversation_id: str
    started_at: int  # epoch ms
    bot_messages: int
    handoff_at: int | None
    agent_joined_at: int | None
    first_response_s: float | None
    wait_s: float | None
    resolution: str | None
    csat: float | None


class TaskAttempt(NamedTuple):
    journey_id: str
    customer_id: str
    task: str
    started_at: int  # epoch ms
    completed: bool
    duration_s: float | None
    had_friction: bool
    effort_score: int


class CustomerJourneys(NamedTuple):
    journeys: list[Journey]
    page_views: list[PageView]
    friction: list[FrictionPoint]
    customer_id: str = ""
    devices: tuple[str, ...] = ()  # the anonymous_ids that make up the customer
    conversations: list[ConversationSummary] = []
    task_attempts: list[TaskAttempt] = []
    # None: rebuilt from the customer's whole history; else only its journeys starting at or
    # after this time (ms) were rebuilt, and its stored journeys before stay (rules/partial_rebuild.py)
    rebuilt_since: int | None = None
