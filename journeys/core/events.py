"""One typed event record for every channel, and the contract's input rules.

``event_from_record`` turns a decoded Avro record or a JSON object into an
``Event``, or raises ``InvalidEvent`` with the reason the record is a dead
letter (contract section 4). It is pure: the clock is passed in.
"""
from __future__ import annotations

import math
import operator
from typing import Any, Callable, Mapping, NamedTuple

from journeys.core.config import ValidationConfig
from journeys.core.errors import InvalidEvent
from journeys.core.event_time import AVRO_LONG, parse_event_time  # both part of this module's API too
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
# event_from_record builds the Event's tuple in field order: the required fields, the optional ones, the
# origin. Positions in that row of each kind of field:
assert REQUIRED + _OPTIONAL_FIELDS + ("source", "partition", "offset") == Event._fields
_EVENT_TIME, _CHANNEL = REQUIRED.index("event_time"), REQUIRED.index("channel")
_USER_ID, _PROPERTIES, _REVENUE, _CONVERSATION_ID = (
    Event._fields.index(f) for f in ("user_id", "properties", "revenue", "conversation_id"))
_REQUIRED_STRINGS = tuple(i for i, f in enumerate(REQUIRED) if f != "event_time")
_STRINGS_AT = operator.itemgetter(*(i for i, f in enumerate(Event._fields) if f in _STRING_FIELDS))
_INTS_AT = tuple(i for i, f in enumerate(Event._fields) if f in _INT_FIELDS)
_RECORD_FIELDS = REQUIRED + _OPTIONAL_FIELDS
_new_event = tuple.__new__
_NO_PROPERTIES = Event._field_defaults["properties"]


class EventRules:
    """The contract's input rules, bound to a clock for the future bound."""

    def __init__(self, config: ValidationConfig, now_ms: int,
                 user_id_map: Callable[[str], str] | None = None):
        """``user_id_map``: applied to every user_id (a pseudonymiser), or None."""
        self.user_id_map = user_id_map
        self.min_ms = parse_event_time(config.min_event_time)
        self.max_ms = now_ms + config.max_future_s * 1000
        self.max_string_bytes = config.max_string_bytes
        # No string of at most this many characters can be over max_string_bytes (4 bytes a character).
        self._quarter = config.max_string_bytes // 4
        # An int event_time in this range passes parse_event_time and both bounds as it is.
        self._plain_ms = (max(self.min_ms, AVRO_LONG[0]), min(self.max_ms, AVRO_LONG[1]))

    def event_from_record(self, record: Mapping[str, Any], *, channel: str | None = None,
                          source: str = "", partition: int = 0, offset: int = 0) -> Event:
        """``channel``: the channel the transport implies (a topic), if any.

        The rules are checked in this order, which decides the reason when a
        record breaks several: missing fields, event_time, channel, the
        required strings, then each optional field in ``Event`` field order.
        """
        if type(record) is dict:
            row = list(map(record.get, _RECORD_FIELDS))  # a dict's get has no side effects: read all at once
            required = row[:len(REQUIRED)]
        elif isinstance(record, Mapping):
            row, required = None, [record.get(f) for f in REQUIRED]
        else:
            raise InvalidEvent("not_an_object", f"expected an object, got {type(record).__name__}")
        if None in required or "" in required:
            missing = [f for f in REQUIRED if record.get(f) in (None, "")]
            if missing:
                raise InvalidEvent("missing_field", ",".join(missing))
        millis = required[_EVENT_TIME]
        if not (type(millis) is int and self._plain_ms[0] <= millis <= self._plain_ms[1]):
            millis = self._event_time(millis)
        event_channel = required[_CHANNEL]
        if event_channel not in CHANNELS:
            raise InvalidEvent("invalid_channel", f"{str(event_channel)[:64]!r} is not one of {CHANNELS}")
        if channel and channel != event_channel:
            raise InvalidEvent("channel_mismatch", f"a {event_channel} event on the {channel} topic")
        is_chat = event_channel == "chat"
        if row is None:
            if is_chat and record.get("conversation_id") in (None, ""):
                raise InvalidEvent("missing_field", "conversation_id")
            row = required + list(map(record.get, _OPTIONAL_FIELDS))
        elif is_chat and row[_CONVERSATION_ID] in (None, ""):
            raise InvalidEvent("missing_field", "conversation_id")
        row[_EVENT_TIME] = millis
        if self._plainly_valid(row):
            # Nothing to strip or reject but, perhaps, in the properties.
            properties = row[_PROPERTIES]
            if properties is None:
                row[_PROPERTIES] = _NO_PROPERTIES
            elif type(properties) is not dict or properties:
                row[_PROPERTIES] = self._properties(properties)
            else:
                row[_PROPERTIES] = {}
        else:
            row = self._checked(row)
        if is_chat and not row[_CONVERSATION_ID]:
            raise InvalidEvent("missing_field", "conversation_id")
        if self.user_id_map is not None and row[_USER_ID]:
            row[_USER_ID] = self.user_id_map(row[_USER_ID])
        # A file name that is not UTF-8 reaches here with surrogate escapes: keep it storable too.
        row += (storable(source), partition, offset)
        return _new_event(Event, row)

    def _plainly_valid(self, row: list) -> bool:
        """Every string printable (no control, no surrogate) and short enough, every number in range.

        Such values pass every rule unchanged; any other row goes through ``_checked``.
        """
        strings = _STRINGS_AT(row)
        present = list(filter(None, strings))
        if len(present) + strings.count(None) + strings.count("") != len(strings):
            return False  # a false value that is neither None nor "" (0, False, [], {}): not a string
        try:
            joined = "".join(present)
        except TypeError:  # a value that is not a string
            return False
        # All of them together no longer than the limit, so each one is not (else each is measured).
        if not joined.isprintable() or (len(joined) > self._quarter and max(map(len, present)) > self._quarter):
            return False
        for index in _INTS_AT:
            value = row[index]
            if value is not None and not (type(value) is int and AVRO_INT[0] <= value <= AVRO_INT[1]):
                return False
        revenue = row[_REVENUE]
        return revenue is None or (type(revenue) is float and math.isfinite(revenue))

    def _checked(self, row: list) -> list:
        """The row with every rule applied, one field after another (the order gives the reason)."""
        for index in _REQUIRED_STRINGS:
            row[index] = self._string(REQUIRED[index], row[index])
        # Control characters are stripped, so a value of nothing but them is missing too.
        emptied = [f for f, value in zip(REQUIRED, row) if value == ""]
        if emptied:
            raise InvalidEvent("missing_field", ",".join(emptied))
        for index, name in enumerate(_OPTIONAL_FIELDS, start=len(REQUIRED)):
            value = row[index]
            row[index] = Event._field_defaults.get(name) if value is None else self._typed(name, value)
        return row

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
        if type(value) is not dict and not isinstance(value, Mapping):
            raise InvalidEvent("invalid_type", "properties must be a map of strings")
        out: dict[str, str] = {}
        if not value:
            return out
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
