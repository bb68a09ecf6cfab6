"""The contract's event_time in JSON: epoch milliseconds, or ISO-8601 with an offset or Z."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from journeys.core.errors import InvalidEvent

AVRO_LONG = (-2**63, 2**63 - 1)  # timestamp-millis is an Avro long
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MILLISECOND = timedelta(milliseconds=1)


def parse_event_time(value: Any) -> int:
    """Epoch milliseconds from epoch ms, an aware datetime or ISO-8601 with offset."""
    if isinstance(value, bool):
        raise InvalidEvent("invalid_event_time", f"{value!r} is not a time")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        if not AVRO_LONG[0] <= value <= AVRO_LONG[1]:
            raise InvalidEvent("number_out_of_range", "event_time is outside the Avro long range")
        return value
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise InvalidEvent("invalid_event_time", f"{value[:64]!r} is not ISO-8601 or epoch ms") from None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidEvent("invalid_event_time", f"{value.isoformat()} has no UTC offset")
        return (value - _EPOCH) // _MILLISECOND
    raise InvalidEvent("invalid_event_time", f"{value!r} is not a time")
