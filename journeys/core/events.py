"""One typed event record for every channel, and the contract's input rules.

``event_from_record`` turns a decoded Avro record or a JSON object into an
``Event``, or raises ``InvalidEvent`` with the reason the record is a dead
letter (contract section 4). It is pure: the clock is passed in.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping, NamedTuple

from journeys.core.config import ValidationConfig
from journeys.core.errors import InvalidEvent
from journeys.core.event_time import AVRO_LONG, parse_event_time  # noqa: F401  (part of this module's API)
from journeys.core.text import has_lone_surrogate, storable, strip_controls

CHANNELS = ("web", "app", "chat")
EVENT_TYPES = {
    "web": frozenset({"page_view", "page_ping", "click", "form_start", "form_submit", "form_error",
                      "search", "error", "login", "purchase"}),
    "app": frozenset({"app_open", "screen_view", "tap", "app_background", "app_foreground", "form_start",
                      "form_submit", "form_error", "search", "error", "login", "purchase"}),
    "chat": frozenset({"conversation_start", "message", "handoff_requested", "agent_joined",
                       "conversation_end", "csat"}),
}
# The Avro types of the schemas: a JSON number outside them could not be re-encoded or stored.
AVRO_INT = (-2**31, 2**31 - 1)


class Event(NamedTuple):
    """A decoded, validated event. ``event_time`` is epoch milliseconds, UTC.

    The trailing ``source``, ``partition`` and ``offset`` say where it was read
    (topic or file; file line or record number), so "first wins" is defined.
    """
    event_id: str
    event_type: str
    channel: str
    event_time: int
    anonymous_id: str
    user_id: str | None = None
    properties: Mapping[str, str] = {}
    page_url: str | None = None
    page_title: str | None = None
    referrer: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    screen_name: str | None = None
    app_version: str | None = None
    os: str | None = None
    element_id: str | None = None
    x: int | None = None
    y: int | None = None
    form_id: str | None = None
    search_query: str | None = None
    search_results: int | None = None
    error_type: str | None = None
    error_code: str | None = None
    order_id: str | None = None
    revenue: float | None = None
    conversation_id: str | None = None
    sender: str | None = None
    message_text: str | None = None
    intent: str | None = None
    resolution: str | None = None
    csat_score: int | None = None
    user_agent: str | None = None
    source: str = ""
    partition: int = 0
    offset: int = 0

    @property
    def position(self) -> tuple[str, int, int]:
        return (self.source, self.partition, self.offset)


REQUIRED = ("event_id", "event_type", "channel", "event_time", "anonymous_id")
_INT_FIELDS = frozenset({"x", "y", "search_results", "csat_score"})
_FLOAT_FIELDS = frozenset({"revenue"})
_ORIGIN_FIELDS = frozenset({"source", "partition", "offset"})
_STRING_FIELDS = frozenset(Event._fields) - _INT_FIELDS - _FLOAT_FIELDS - _ORIGIN_FIELDS - {"event_time", "properties"}
_OPTIONAL_FIELDS = tuple(f for f in Event._fields if f not in REQUIRED and f not in _ORIGIN_FIELDS)


class EventRules:
    """The contract's input rules, bound to a clock for the future bound."""

    def __init__(self, config: ValidationConfig, now_ms: int,
                 user_id_map: Callable[[str], str] | None = None):
        """``user_id_map``: applied to every user_id (a pseudonymiser), or None."""
        self.user_id_map = user_id_map
        self.min_ms = parse_event_time(config.min_event_time)
        self.max_ms = now_ms + config.max_future_s * 1000
        self.max_string_bytes = config.max_string_bytes

    def event_from_record(self, record: Mapping[str, Any], *, channel: str | None = None,
                          source: str = "", partition: int = 0, offset: int = 0) -> Event:
        """``channel``: the channel the transport implies (a topic), if any."""
        if not isinstance(record, Mapping):
            raise InvalidEvent("not_an_object", f"expected an object, got {type(record).__name__}")
        missing = [f for f in REQUIRED if record.get(f) in (None, "")]
        if missing:
            raise InvalidEvent("missing_field", ",".join(missing))
        values = {"event_time": self._event_time(record["event_time"])}
        event_channel = record["channel"]
        if event_channel not in CHANNELS:
            raise InvalidEvent("invalid_channel", f"{str(event_channel)[:64]!r} is not one of {CHANNELS}")
        if channel and channel != event_channel:
            raise InvalidEvent("channel_mismatch", f"a {event_channel} event on the {channel} topic")
        if event_channel == "chat" and record.get("conversation_id") in (None, ""):
            raise InvalidEvent("missing_field", "conversation_id")
        for name in REQUIRED:
            if name != "event_time":
                values[name] = self._string(name, record[name])
        # Control characters are stripped, so a value of nothing but them is missing too.
        emptied = [f for f in REQUIRED if values[f] == ""]
        if emptied:
            raise InvalidEvent("missing_field", ",".join(emptied))
        for name in _OPTIONAL_FIELDS:
            value = record.get(name)
            if value is not None:
                values[name] = self._typed(name, value)
        if event_channel == "chat" and not values.get("conversation_id"):
            raise InvalidEvent("missing_field", "conversation_id")
        if self.user_id_map is not None and values.get("user_id"):
            values["user_id"] = self.user_id_map(values["user_id"])
        # A file name that is not UTF-8 reaches here with surrogate escapes: keep it storable too.
        return Event(**values, source=storable(source), partition=partition, offset=offset)

    def _event_time(self, value: Any) -> int:
        millis = parse_event_time(value)
        if millis < self.min_ms:
            raise InvalidEvent("event_time_too_old", f"{millis} ms is before {self.min_ms} ms")
        if millis > self.max_ms:
            raise InvalidEvent("event_time_in_future", f"{millis} ms is after {self.max_ms} ms")
        return millis

    def _typed(self, name: str, value: Any) -> Any:
        if name == "properties":
            return self._properties(value)
        if name in _INT_FIELDS:
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidEvent("invalid_type", f"{name} must be an integer")
            if not AVRO_INT[0] <= value <= AVRO_INT[1]:
                raise InvalidEvent("number_out_of_range", f"{name} is outside the Avro int range")
            return value
        if name in _FLOAT_FIELDS:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise InvalidEvent("invalid_type", f"{name} must be a number")
            return _finite(name, value)
        return self._string(name, value)

    def _string(self, name: str, value: Any) -> str:
        """A storable string: lone surrogates rejected, control characters (but tab, LF, CR) stripped."""
        if not isinstance(value, str):
            raise InvalidEvent("invalid_type", f"{name} must be a string")
        if has_lone_surrogate(value):
            raise InvalidEvent("invalid_string", f"{name} holds a lone UTF-16 surrogate")
        value = strip_controls(value)
        if len(value) > self.max_string_bytes // 4 and len(value.encode("utf-8")) > self.max_string_bytes:
            raise InvalidEvent("string_too_long", f"{name} is over {self.max_string_bytes} bytes")
        return value

    def _properties(self, value: Any) -> dict[str, str]:
        if not isinstance(value, Mapping):
            raise InvalidEvent("invalid_type", "properties must be a map of strings")
        out = {}
        for key, item in value.items():
            # JSON backfills carry numbers and booleans; the Avro map holds strings.
            if isinstance(item, bool):
                item = "true" if item else "false"
            elif isinstance(item, float):
                item = str(_finite(f"properties.{key}", item))
            elif isinstance(item, int):
                item = str(item)
            out[self._string(f"properties.{key}", key)] = self._string(f"properties.{key}", item)
        return out


def _finite(name: str, value: int | float) -> float:
    """A double that JSON and PostgreSQL can hold: NaN and infinities are dead letters."""
    try:
        number = float(value)
    except OverflowError:  # an int beyond the double range
        raise InvalidEvent("number_out_of_range", f"{name} is outside the double range") from None
    if not math.isfinite(number):
        raise InvalidEvent("invalid_number", f"{name} is {number!r}, not a finite number")
    return number


def event_to_record(event: Event) -> dict[str, Any]:
    """The contract's JSON form of an event (origin fields dropped)."""
    record = event._asdict()
    for name in _ORIGIN_FIELDS:
        record.pop(name)
    record["properties"] = dict(event.properties)
    return record
