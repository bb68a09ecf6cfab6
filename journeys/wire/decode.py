"""From raw input (Kafka messages, JSON lines, Avro file records) to events.

Every input becomes exactly one ``Event`` or one ``DeadLetter``: nothing is
dropped and nothing raises. Pure: no Beam, no I/O. A dead letter's detail
and payload are storable text too (no NUL, no lone surrogate: see
journeys/core/text.py), since they keep what arrived.
"""
from __future__ import annotations

import base64
import json
import re
from datetime import datetime, timezone
from typing import Any, Mapping, NamedTuple

import orjson

from journeys.core.errors import BadInput, InvalidEvent, WireError
from journeys.core.events import Event, EventRules
from journeys.core.text import storable
from journeys.rules.masking import looks_like_json, mask_bytes, mask_json_text, mask_text
from journeys.wire import framing as wire
from journeys.wire.schema_catalog import SchemaCatalog

AVRO = "avro"
JSON = "json"
UNREADABLE = "unreadable"  # a file that broke mid-read; ``value`` says why
# An input that broke decoding in a way no rule names: a bug to fix, but never a stopped run.
DECODE_FAILURE = "decode_failure"


class RawMessage(NamedTuple):
    """One input as read; ``framing`` is AVRO (Kafka wire bytes), JSON or UNREADABLE."""
    source: str
    partition: int
    offset: int
    value: bytes
    framing: str = AVRO
    key: bytes | None = None
    timestamp_ms: int | None = None
    channel: str | None = None


class RawRecord(NamedTuple):
    """A record already decoded by its container (an Avro object container file)."""
    source: str
    partition: int
    offset: int
    record: Mapping[str, Any]
    timestamp_ms: int | None = None


class DeadLetter(NamedTuple):
    """Contract section 3 ``dead_letters`` row; ``raw`` goes only to the dead-letter topic."""
    source: str
    partition: int
    offset: int
    received_at: str
    reason: str
    detail: str
    payload: str
    raw: bytes


def decode_message(message: RawMessage, catalog: SchemaCatalog, rules: EventRules) -> Event:
    """Raises ``BadInput`` (a ``WireError`` or ``InvalidEvent``) with its reason."""
    if message.framing == JSON:
        record = parse_json(message.value)
    elif message.framing == UNREADABLE:
        raise WireError("unreadable_file", message.value.decode("utf-8", "replace"))
    else:
        record = wire.decode(message.value, catalog)
    return rules.event_from_record(record, channel=message.channel, source=message.source,
                                   partition=message.partition, offset=message.offset)


_LONG_DIGITS = re.compile(rb"[0-9]{19}")
_LONG_DIGITS_TEXT = re.compile(r"[0-9]{19}")


def parse_json(value: bytes | str) -> dict[str, Any]:
    try:
        # orjson parses in a fraction of json's time; whatever it refuses (NaN, escaped lone surrogates,
        # UTF-16, deep nesting) json decides, so the outcome is json's. orjson reads an integer beyond
        # 64 bits as a float, so text with 19 digits in a row goes to json too.
        long_digits = (_LONG_DIGITS if isinstance(value, bytes) else _LONG_DIGITS_TEXT).search(value)
        record = None if long_digits else orjson.loads(value)
    except orjson.JSONDecodeError:
        record = None
    try:
        if record is None:
            record = json.loads(value)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # RecursionError: "[[[[..." nested too deep
        raise InvalidEvent("invalid_json", str(exc)[:200]) from None
    if not isinstance(record, dict):
        raise InvalidEvent("not_an_object", f"expected a JSON object, got {type(record).__name__}")
    return record


def to_event_or_dead_letter(item: RawMessage | RawRecord, catalog: SchemaCatalog,
                            rules: EventRules, run_started_ms: int) -> Event | DeadLetter:
    try:
        if isinstance(item, RawRecord):
            return rules.event_from_record(item.record, source=item.source,
                                           partition=item.partition, offset=item.offset)
        return decode_message(item, catalog, rules)
    except BadInput as error:
        return dead_letter(item, error.reason, error.detail, run_started_ms)
    except Exception as error:  # noqa: BLE001 - a forged value must not stop the run (contract section 4)
        return dead_letter(item, DECODE_FAILURE, f"{type(error).__name__}: {error}", run_started_ms)


def dead_letter(item: RawMessage | RawRecord, reason: str, detail: str, run_started_ms: int) -> DeadLetter:
    if isinstance(item, RawRecord):
        raw = _record_bytes(item.record)
    else:
        raw = item.value
    # The input's own time (Kafka timestamp, file modification time) keeps re-runs identical.
    received_ms = item.timestamp_ms if item.timestamp_ms is not None else run_started_ms
    return DeadLetter(
        source=storable(item.source), partition=item.partition, offset=item.offset,
        received_at=datetime.fromtimestamp(received_ms / 1000, timezone.utc).isoformat(),
        reason=reason, detail=storable(mask_text(detail[:500]) or ""), payload=masked_payload(raw), raw=raw,
    )


def _record_bytes(record: Any) -> bytes:
    try:
        return json.dumps(record, default=str, sort_keys=True).encode("utf-8")
    except (TypeError, ValueError, RecursionError):  # keys of mixed types, a cycle
        return repr(record).encode("utf-8", "backslashreplace")


def masked_payload(raw: bytes) -> str:
    """The raw line if it is UTF-8 text, else base64 of the bytes; masked either way.

    A JSON line is masked in its strings only (its numbers, such as
    ``event_time``, are not personal data even when they pass the Luhn check).
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(mask_bytes(raw)).decode("ascii")
    return storable(mask_json_text(text) if looks_like_json(text) else mask_text(text))
