"""Hypothesis strategies for hostile input, and the checks that every decoded result must pass.

Shared by the property tests (tests/rules/test_hostile_*.py) and the fuzz
target (tests/fuzz/fuzz_decode.py).
"""
from __future__ import annotations

import json

from hypothesis import strategies as st

from journeys.core.config import ValidationConfig
from journeys.core.events import CHANNELS, EVENT_TYPES, Event, EventRules
from journeys.warehouses.rows import dead_letter_row, event_row, stored_event
from journeys.wire.decode import DECODE_FAILURE, DeadLetter

NOW_MS = 1_767_571_200_000  # 2026-01-05T00:00:00Z
RULES = EventRules(ValidationConfig(), now_ms=NOW_MS)

# Every character, lone surrogates included (Hypothesis leaves them out by default).
any_char = st.characters(exclude_categories=())
POISON = ["\ud800", "\udfff", "\x00", "\x01", "\x1f", "\x0b", "\u2028", "\ufeff", "\U0001F600", "%00",
          "%ED%A0%80", "\\u0000"]
hostile_text = st.one_of(st.text(any_char, max_size=40), st.sampled_from(POISON),
                         st.lists(st.one_of(st.sampled_from(POISON), st.text(max_size=5)), max_size=6).map("".join))
hostile_number = st.one_of(
    st.integers(), st.integers(min_value=-2**31, max_value=2**31 - 1),
    st.sampled_from([2**31, -2**31 - 1, 2**63, -2**63 - 1, 10**30, float("nan"), float("inf"), float("-inf")]),
    st.floats(allow_nan=True, allow_infinity=True))
json_scalar = st.one_of(st.none(), st.booleans(), hostile_number, hostile_text)
json_value = st.recursive(json_scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(hostile_text, inner, max_size=3)), max_leaves=8)

FIELDS = [f for f in Event._fields if f not in ("source", "partition", "offset")]


@st.composite
def event_like_records(draw) -> dict:
    """Mostly valid events with some fields hostile, so decoding goes deep."""
    channel = draw(st.sampled_from(CHANNELS))
    record = {
        "event_id": draw(st.one_of(st.text(min_size=1, max_size=8), hostile_text)),
        "event_type": draw(st.sampled_from(sorted(EVENT_TYPES[channel]))),
        "channel": channel,
        "event_time": draw(st.one_of(st.integers(NOW_MS - 10 * 86_400_000, NOW_MS), json_scalar,
                                     st.sampled_from(["2026-01-04T10:00:00Z", "0001-01-01T00:00:00+14:00",
                                                      "9999-12-31T23:59:59-14:00"]))),
        "anonymous_id": draw(st.one_of(st.sampled_from(["a1", "a2"]), hostile_text)),
    }
    if channel == "chat":
        record["conversation_id"] = draw(st.one_of(st.just("c1"), hostile_text))
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=6)):
        record[name] = draw(json_value if name != "properties"
                            else st.dictionaries(hostile_text, json_scalar, max_size=4))
    return record


def json_lines(record) -> list[bytes]:
    """The ways a tracker may write the record as a JSON line (ASCII escapes, raw UTF-8, surrogatepass)."""
    text = json.dumps(record)
    lines = [text.encode("ascii")]
    raw = json.dumps(record, ensure_ascii=False)
    lines.append(raw.encode("utf-8", "surrogatepass"))
    return lines


def assert_storable(result) -> None:
    """One Event or one DeadLetter, and what the warehouse keeps of it encodes as UTF-8 JSON without NUL."""
    assert isinstance(result, (Event, DeadLetter)), type(result)
    if isinstance(result, DeadLetter):
        assert result.reason != DECODE_FAILURE, result.detail
        row = dead_letter_row(result)
        texts = [result.payload, result.detail, result.source, result.reason]
    else:
        row = event_row(result)
        stored = stored_event(result)
        text = json.dumps(stored, ensure_ascii=False, allow_nan=False)
        texts = [text]
        assert all(isinstance(v, str) for v in result.properties.values())
    for text in texts + [row]:
        text.encode("utf-8")  # no lone surrogate
        assert "\x00" not in text
    json.loads(row)
