"""Identity stitching (contract section 2), Snowplow style.

A device (anonymous_id) belongs to the latest non-null user_id seen on it, in
event order, on any channel; a device never seen with a user_id is its own
customer. The link applies to all of the device's events, before the login
too, which is how a chat visitor or app device joins the web cookie's customer.
"""
from __future__ import annotations

from typing import Iterable

from journeys.core.events import Event
from journeys.rules.pages import event_order


def device_customer(device_events: Iterable[Event]) -> str | None:
    """The customer of one device's events: its latest user_id, else its anonymous_id."""
    latest = None
    anonymous_id = None
    for event in device_events:
        anonymous_id = event.anonymous_id
        if event.user_id and (latest is None or event_order(event) > event_order(latest)):
            latest = event
    return latest.user_id if latest is not None else anonymous_id


def stitch(events: Iterable[Event]) -> dict[str, str]:
    """anonymous_id -> customer_id for every device among ``events``."""
    by_device: dict[str, list[Event]] = {}
    for event in events:
        by_device.setdefault(event.anonymous_id, []).append(event)
    return {device: device_customer(device_events) for device, device_events in by_device.items()}
