"""From raw input (Kafka messages, JSON lines, Avro file records) to events.

Every input becomes exactly one ``Event`` or one ``DeadLetter``: nothing is
dropped and nothing raises. Pure: no Beam, no I/O.
"""
from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any, Mapping, NamedTuple

from journeys.core.errors import BadInput, InvalidEvent, WireError
from journeys.core.events import Event, EventRules
from journeys.rules.masking import mask_bytes, mask_text
from journeys.wire import framing as wire
from journeys.wire.schema_catalog import SchemaCatalog

AVRO = "avro"
JSON = "json"
UNREADABLE = "unreadable"  # a file that broke mid-read; ``value`` says why


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


def parse_json(value: bytes | str) -> dict[str, Any]:
    try:
        record = json.loads(value)
    except (UnicodeDecodeError, ValueError) as exc:
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


def dead_letter(item: RawMessage | RawRecord, reason: str, detail: str, run_started_ms: int) -> DeadLetter:
    if isinstance(item, RawRecord):
        raw = json.dumps(item.record, default=str, sort_keys=True).encode("utf-8")
    else:
        raw = item.value
    # The input's own time (Kafka timestamp, file modification time) keeps re-runs identical.
    received_ms = item.timestamp_ms if item.timestamp_ms is not None else run_started_ms
    return DeadLetter(
        source=item.source, partition=item.partition, offset=item.offset,
        received_at=datetime.fromtimestamp(received_ms / 1000, timezone.utc).isoformat(),
        reason=reason, detail=mask_text(detail[:500]) or "", payload=masked_payload(raw), raw=raw,
    )


def masked_payload(raw: bytes) -> str:
    """The raw line if it is UTF-8 text, else base64 of the bytes; masked either way."""
    try:
        return mask_text(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return base64.b64encode(mask_bytes(raw)).decode("ascii")
