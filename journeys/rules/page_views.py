"""Page and screen views with time on page and engaged time (contract section 2).

Per device (anonymous_id) within a journey:
- Time on page runs to the device's next page or screen view. For the
  device's last view it runs to the device's last later event on that page
  (an event with no page of its own counts as on it); with none it is
  unknown (None), not zero.
- On app, time from an app_background to the device's next event (with or
  without app_foreground) is not counted.
- Engaged time follows Snowplow: heartbeat x (distinct heartbeat buckets of
  the view's pings - 1) + minimum visit length, 0 without pings. A ping
  belongs to its device's latest page view before it.
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

from journeys.core.config import JourneyConfig
from journeys.core.events import Event
from journeys.core.model import PAGE_VIEW_TYPES, PageView
from journeys.rules.pages import page_of

_MS = 1000.0


class _DeviceView(NamedTuple):
    view: Event
    page: str | None
    later: tuple[Event, ...]  # the device's events after the view, up to its next view (excluded)
    next_view: Event | None


def _device_views(device_events: Sequence[Event]) -> list[_DeviceView]:
    views = [i for i, e in enumerate(device_events) if e.event_type in PAGE_VIEW_TYPES]
    out = []
    for n, index in enumerate(views):
        stop = views[n + 1] if n + 1 < len(views) else len(device_events)
        next_view = device_events[stop] if stop < len(device_events) else None
        out.append(_DeviceView(device_events[index], page_of(device_events[index]),
                               tuple(device_events[index + 1:stop]), next_view))
    return out


def _background_ms(events: Sequence[Event], start: int, end: int) -> int:
    """Time in [start, end] from each app_background to the device's next event."""
    hidden = 0
    for event, following in zip(events, events[1:]):
        if event.event_type == "app_background":
            hidden += max(0, min(following.event_time, end) - max(event.event_time, start))
    return hidden


def time_on_page_ms(dv: _DeviceView, device_events: Sequence[Event]) -> int | None:
    if dv.next_view is not None:
        end = dv.next_view.event_time
    else:
        on_page = [e.event_time for e in dv.later if page_of(e) in (None, dv.page)]
        if not on_page:
            return None
        end = max(on_page)
    start = dv.view.event_time
    if dv.view.channel == "app":
        window = [e for e in device_events if start <= e.event_time <= end]
        return end - start - _background_ms(window, start, end)
    return end - start


def engaged_time_s(pings: Sequence[Event], config: JourneyConfig) -> float:
    if not pings:
        return 0.0
    heartbeat_ms = config.heartbeat_s * 1000
    buckets = {ping.event_time // heartbeat_ms for ping in pings}
    return float(config.heartbeat_s * (len(buckets) - 1) + config.min_visit_s)


def page_views(journey: Sequence[Event], journey_id: str, customer_id: str,
               config: JourneyConfig) -> list[PageView]:
    """The journey's views in event order, seq 1-based across devices."""
    by_device: dict[str, list[Event]] = {}
    for event in journey:
        by_device.setdefault(event.anonymous_id, []).append(event)
    measured: dict[str, tuple[int | None, float]] = {}
    for device_events in by_device.values():
        for dv in _device_views(device_events):
            pings = [e for e in dv.later if e.event_type == "page_ping"]
            measured[dv.view.event_id] = (time_on_page_ms(dv, device_events), engaged_time_s(pings, config))
    views = [e for e in journey if e.event_type in PAGE_VIEW_TYPES]
    out = []
    for seq, view in enumerate(views, start=1):
        millis, engaged = measured[view.event_id]
        out.append(PageView(journey_id=journey_id, customer_id=customer_id, channel=view.channel,
                            anonymous_id=view.anonymous_id, page=page_of(view), viewed_at=view.event_time,
                            seq=seq, time_on_page_s=None if millis is None else millis / _MS,
                            engaged_time_s=engaged, is_entry=seq == 1, is_exit=seq == len(views),
                            event_id=view.event_id))
    return out
