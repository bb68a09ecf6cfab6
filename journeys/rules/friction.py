"""Friction points (contract section 2): pure rules over one journey's events.

``detect_friction`` finds every friction type of ONE journey except
``repeat_contact``, which spans journeys and is found by
``detect_repeat_contacts`` over one customer's events. Both return
``Detected`` rows; the caller adds journey_id and customer_id.

Thresholds come from ``FrictionConfig``; strict comparisons follow the
contract ("less than 1 s", "under 10 s", "more than 60 s", "less than 24
hours"). "Later", "next" and "previous" follow ``event_order`` (event_time,
then event_id), so two events at the same millisecond are still ordered.

Interpretations where the contract is silent:

- Consecutive (rage_click, search_refine): consecutive among that kind of
  event from that device (anonymous_id). Other event types in between, and
  other devices' clicks or searches, do not break a burst; only a gap that is
  too long, or for clicks a click elsewhere, does.
- rage_click counts web ``click`` and app ``tap`` events. Each click is
  compared with the PREVIOUS click of the burst (not the first), so a burst
  may drift across a screen in steps under the radius. Equal non-null
  element_ids continue a burst whatever the coordinates. The row is at the
  ``rage_click_min_clicks``-th click; detail names the element (element_id,
  else "@x,y") and the burst's full length, e.g. "buy (5 clicks)".
- search_refine: searches of any result count; detail "N searches" (the full
  burst length). Search text is never copied into a row.
- search_no_results: search_results == 0 only; a null count is unknown, not
  zero. Detail "0 results".
- error: detail "error_type:error_code" (whichever are present).
  form_error: detail "form_id:error_code" (or error_type).
- form_abandon is journey-wide (any device, any channel): the same form_id
  started on one device and submitted on another is not abandoned. A
  form_submit with no form_start before it is ignored; form events without a
  form_id are ignored. Detail: the form_id.
- quick_back: A -> B -> A over one device's consecutive page/screen views,
  keyed by (channel, page); B's time_on_page_s must be known (null is
  unknown, never quick). Overlapping patterns each count: A B A B A is up to
  three rows. Detail: the page B.
- page_loop: views from every device count, keyed by (channel, page), and
  reloads (A -> A) are views too. Detail: "N views", the page's total views in
  the journey.
- Chat rules group by conversation_id. bot_escalation: a "bot message" is a
  ``message`` event with sender "bot"; at most one row per conversation.
  long_wait: a handoff with no agent_joined after it (queue abandoned) is not
  a long_wait; unresolved_chat covers it if the conversation ends.
- unresolved_chat: a conversation_end whose resolution is not exactly
  "resolved"; a null resolution counts as not resolved. A conversation with
  no conversation_end gives no row.
- channel_switch and repeat_contact count chat ``conversation_start`` events
  only. repeat_contact compares each start with the customer's previous start
  (whatever its conversation_id or journey), so three starts an hour apart
  give two rows.
- Page of a row: page_of(completing event); when that is null on web or app
  (a click without page_url, an app error without screen_name), the page of
  that device's latest page/screen view at or before it in event order. Chat
  rows have no page; their detail is the conversation_id.
"""
from __future__ import annotations

import bisect
from collections import Counter
from typing import Callable, Iterable, Iterator, NamedTuple, Sequence

from journeys.core.config import FrictionConfig
from journeys.core.events import Event
from journeys.core.model import PageView
from journeys.rules.pages import event_order, event_order_key, page_of

SITE_CHANNELS = frozenset({"web", "app"})
_CLICKS = frozenset({("web", "click"), ("app", "tap")})


class Detected(NamedTuple):
    friction_type: str  # one of the 13 contract types
    channel: str  # the completing event's channel
    page: str | None  # web path / app screen; None for chat frictions
    occurred_at: int  # the completing event's event_time (epoch ms)
    detail: str | None  # chat: conversation_id; others: a short label, never raw text
    event_id: str  # the completing event


# A rule yields (friction_type, completing event, detail); rows are built once, in _row.
Hit = tuple[str, Event, str | None]


def detect_friction(events: Sequence[Event], page_views: Sequence[PageView],
                    config: FrictionConfig) -> list[Detected]:
    """All friction of ONE journey except repeat_contact.

    ``events``: the journey's events (all devices) in event_order;
    ``page_views``: its page/screen views with time_on_page_s, by seq.
    Result sorted by (occurred_at, event_id, friction_type).
    """
    # Re-sorting already sorted input is linear (timsort) and guards the rules.
    events = sorted(events, key=event_order_key)
    page_views = sorted(page_views, key=lambda v: v.seq)
    pages = _DevicePages(page_views)
    hits: list[Hit] = [
        *_rage_clicks(events, config), *_errors(events), *_form_errors(events),
        *_form_abandons(events), *_searches_without_results(events), *_search_refines(events, config),
        *_bot_escalations(events), *_long_waits(events, config), *_unresolved_chats(events),
        *_channel_switch(events),
    ]
    rows = [_row(kind, event, detail, pages) for kind, event, detail in hits]
    rows += _quick_backs(page_views, config)
    rows += _page_loops(page_views, config)
    return sorted(rows, key=_row_order)


def detect_repeat_contacts(events: Sequence[Event], config: FrictionConfig,
                           earlier_start: Event | None = None) -> list[Detected]:
    """repeat_contact over ONE CUSTOMER's events across all journeys.

    Each chat conversation_start strictly less than repeat_contact_window_s
    after the customer's previous conversation_start is one row.
    ``earlier_start``: the customer's latest conversation_start before ``events``
    (when they are only the later part of its history); it is no row itself.
    """
    window_ms = config.repeat_contact_window_s * 1000
    starts = [e for e in sorted(events, key=event_order_key) if is_conversation_start(e)]
    if earlier_start is not None:
        starts.insert(0, earlier_start)
    rows = [_row("repeat_contact", cur, None, None)
            for prev, cur in zip(starts, starts[1:]) if cur.event_time - prev.event_time < window_ms]
    return sorted(rows, key=_row_order)


# -- building rows -------------------------------------------------------------

class _DevicePages:
    """Each device's page/screen views, to find "the page" of a page-less event."""

    def __init__(self, page_views: Iterable[PageView]):
        by_device = _by_key(sorted(page_views, key=lambda v: (v.viewed_at, v.event_id)), lambda v: v.anonymous_id)
        self._keys = {device: [(v.viewed_at, v.event_id) for v in views] for device, views in by_device.items()}
        self._pages = {device: [v.page for v in views] for device, views in by_device.items()}

    def latest(self, event: Event) -> str | None:
        """The page of the device's latest view at or before ``event`` in event order."""
        i = bisect.bisect_right(self._keys.get(event.anonymous_id, []), event_order(event))
        return self._pages[event.anonymous_id][i - 1] if i else None


def _row(kind: str, event: Event, detail: str | None, pages: _DevicePages | None) -> Detected:
    if event.channel not in SITE_CHANNELS:
        # Chat frictions: no page; the conversation is the useful detail.
        return Detected(kind, event.channel, None, event.event_time, event.conversation_id, event.event_id)
    page = page_of(event)
    if page is None and pages is not None:
        page = pages.latest(event)
    return Detected(kind, event.channel, page, event.event_time, detail, event.event_id)


def _row_order(row: Detected) -> tuple[int, str, str]:
    return (row.occurred_at, row.event_id, row.friction_type)


def _join(*parts: str | None) -> str | None:
    present = [p for p in parts if p]
    return ":".join(present) if present else None


def _is_chat(event: Event, event_type: str) -> bool:
    return event.channel == "chat" and event.event_type == event_type


def is_conversation_start(event: Event) -> bool:
    """What repeat_contact counts: a chat conversation_start."""
    return _is_chat(event, "conversation_start")


def _by_key(items: Iterable, key: Callable) -> dict:
    """Group preserving order (dicts keep insertion order, lists keep event order)."""
    groups: dict = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups


def _bursts(events: Sequence[Event], continues: Callable[[Event, Event], bool]) -> Iterator[list[Event]]:
    """Maximal runs in which each event continues the one before it."""
    burst: list[Event] = []
    for event in events:
        if burst and not continues(burst[-1], event):
            yield burst
            burst = []
        burst.append(event)
    if burst:
        yield burst


# -- web and app rules -----------------------------------------------------------

def _rage_clicks(events: Sequence[Event], config: FrictionConfig) -> Iterator[Hit]:
    def continues(prev: Event, cur: Event) -> bool:
        if cur.event_time - prev.event_time >= config.rage_click_max_interval_ms:
            return False
        if prev.element_id is not None and prev.element_id == cur.element_id:
            return True
        if None in (prev.x, prev.y, cur.x, cur.y):
            return False  # no shared element and no position: a click elsewhere
        return abs(cur.x - prev.x) + abs(cur.y - prev.y) < config.rage_click_radius_px

    clicks = [e for e in events if (e.channel, e.event_type) in _CLICKS]
    for device_clicks in _by_key(clicks, lambda e: e.anonymous_id).values():
        for burst in _bursts(device_clicks, continues):
            if len(burst) >= config.rage_click_min_clicks:
                done = burst[config.rage_click_min_clicks - 1]  # one row per burst, at the completing click
                target = done.element_id or (f"@{done.x},{done.y}" if None not in (done.x, done.y) else "?")
                noun = "taps" if done.channel == "app" else "clicks"
                yield "rage_click", done, f"{target} ({len(burst)} {noun})"


def _errors(events: Sequence[Event]) -> Iterator[Hit]:
    for e in events:
        if e.event_type == "error" and e.channel in SITE_CHANNELS:
            yield "error", e, _join(e.error_type, e.error_code)


def _form_errors(events: Sequence[Event]) -> Iterator[Hit]:
    for e in events:
        if e.event_type == "form_error" and e.channel in SITE_CHANNELS:
            yield "form_error", e, _join(e.form_id, e.error_code or e.error_type)


def _form_abandons(events: Sequence[Event]) -> Iterator[Hit]:
    last_start: dict[str, Event] = {}
    open_forms: dict[str, bool] = {}  # form_id -> its last start has no submit after it
    for e in events:
        if e.form_id is None or e.channel not in SITE_CHANNELS:
            continue
        if e.event_type == "form_start":
            last_start[e.form_id] = e
            open_forms[e.form_id] = True
        elif e.event_type == "form_submit" and e.form_id in last_start:
            open_forms[e.form_id] = False
    for form_id, is_open in open_forms.items():
        if is_open:
            yield "form_abandon", last_start[form_id], form_id


def _searches(events: Sequence[Event]) -> list[Event]:
    return [e for e in events if e.event_type == "search" and e.channel in SITE_CHANNELS]


def _searches_without_results(events: Sequence[Event]) -> Iterator[Hit]:
    for e in _searches(events):
        if e.search_results == 0:  # None is "unknown", not zero
            yield "search_no_results", e, "0 results"


def _search_refines(events: Sequence[Event], config: FrictionConfig) -> Iterator[Hit]:
    window_ms = config.search_refine_window_s * 1000
    def continues(prev: Event, cur: Event) -> bool:
        return cur.event_time - prev.event_time < window_ms

    for device_searches in _by_key(_searches(events), lambda e: e.anonymous_id).values():
        for burst in _bursts(device_searches, continues):
            if len(burst) >= config.search_refine_min_searches:
                yield "search_refine", burst[config.search_refine_min_searches - 1], f"{len(burst)} searches"


def _quick_backs(page_views: Sequence[PageView], config: FrictionConfig) -> Iterator[Detected]:
    for views in _by_key(page_views, lambda v: v.anonymous_id).values():
        for a, b, back in zip(views, views[1:], views[2:]):
            same_a = (a.channel, a.page) == (back.channel, back.page)
            b_differs = (b.channel, b.page) != (a.channel, a.page)  # A -> A -> A is reloading, not going back
            quick = b.time_on_page_s is not None and b.time_on_page_s < config.quick_back_max_s
            if same_a and b_differs and quick:
                yield Detected("quick_back", back.channel, back.page, back.viewed_at, b.page, back.event_id)


def _page_loops(page_views: Sequence[PageView], config: FrictionConfig) -> Iterator[Detected]:
    totals = Counter((v.channel, v.page) for v in page_views)
    seen: Counter = Counter()
    for v in page_views:  # journey-wide, in seq order
        key = (v.channel, v.page)
        seen[key] += 1
        if seen[key] == config.page_loop_min_views:
            yield Detected("page_loop", v.channel, v.page, v.viewed_at, f"{totals[key]} views", v.event_id)


# -- chat rules ------------------------------------------------------------------

def _conversations(events: Sequence[Event]) -> dict[str, list[Event]]:
    return _by_key((e for e in events if e.channel == "chat"), lambda e: e.conversation_id)


def _bot_escalations(events: Sequence[Event]) -> Iterator[Hit]:
    for conversation in _conversations(events).values():
        bot_spoke = False
        handoff = joined = None
        for e in conversation:
            if e.event_type == "message" and e.sender == "bot":
                bot_spoke = True
            elif bot_spoke and e.event_type == "handoff_requested":
                handoff = e
                break  # the first handoff after a bot message wins over any agent_joined
            elif bot_spoke and e.event_type == "agent_joined" and joined is None:
                joined = e
        if handoff or joined:
            yield "bot_escalation", handoff or joined, None


def _long_waits(events: Sequence[Event], config: FrictionConfig) -> Iterator[Hit]:
    limit_ms = config.long_wait_s * 1000
    for conversation in _conversations(events).values():
        handoff = None  # only the conversation's FIRST handoff_requested starts the wait
        for e in conversation:
            if e.event_type == "handoff_requested" and handoff is None:
                handoff = e
            elif e.event_type == "agent_joined" and handoff is not None:
                if e.event_time - handoff.event_time > limit_ms:
                    yield "long_wait", e, None
                break  # the first agent_joined after it ends the wait


def _unresolved_chats(events: Sequence[Event]) -> Iterator[Hit]:
    for e in events:
        if _is_chat(e, "conversation_end") and e.resolution != "resolved":
            yield "unresolved_chat", e, None


def _channel_switch(events: Sequence[Event]) -> Iterator[Hit]:
    seen_site = False
    for e in events:
        if e.channel in SITE_CHANNELS:
            seen_site = True
        elif seen_site and _is_chat(e, "conversation_start"):
            yield "channel_switch", e, None
            return  # at most one per journey
