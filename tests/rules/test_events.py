"""The contract's input rules (section 4) on single records."""
import pytest

from journeys.core.config import ValidationConfig
from journeys.core.errors import InvalidEvent
from journeys.core.events import EventRules, event_to_record, parse_event_time

NOW_MS = 1_767_571_200_000  # 2026-01-05T00:00:00Z
DAY_MS = 86_400_000


@pytest.fixture
def rules():
    return EventRules(ValidationConfig(), now_ms=NOW_MS)


def record(**changes):
    base = {"event_id": "e1", "event_type": "page_view", "channel": "web", "event_time": NOW_MS,
            "anonymous_id": "a1"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def reason_of(rules, rec, **kwargs):
    with pytest.raises(InvalidEvent) as error:
        rules.event_from_record(rec, **kwargs)
    return error.value.reason


@pytest.mark.parametrize("text,millis", [
    ("2026-01-05T00:00:00Z", NOW_MS),
    ("2026-01-05T01:00:00+01:00", NOW_MS),
    ("2026-01-05T00:00:00.250Z", NOW_MS + 250),
    (NOW_MS, NOW_MS),
])
def test_event_time_forms(text, millis):
    assert parse_event_time(text) == millis


def test_naive_and_garbage_times_are_rejected(rules):
    assert reason_of(rules, record(event_time="2026-01-05T00:00:00")) == "invalid_event_time"
    assert reason_of(rules, record(event_time="yesterday")) == "invalid_event_time"
    assert reason_of(rules, record(event_time=True)) == "invalid_event_time"


def test_time_bounds_are_inclusive_at_the_edges(rules):
    assert rules.event_from_record(record(event_time="2000-01-01T00:00:00Z")).event_time == 946_684_800_000
    assert reason_of(rules, record(event_time="1999-12-31T23:59:59.999Z")) == "event_time_too_old"
    assert rules.event_from_record(record(event_time=NOW_MS + DAY_MS)).event_time == NOW_MS + DAY_MS
    assert reason_of(rules, record(event_time=NOW_MS + DAY_MS + 1)) == "event_time_in_future"


@pytest.mark.parametrize("field", ["event_id", "event_type", "channel", "event_time", "anonymous_id"])
def test_required_fields(rules, field):
    assert reason_of(rules, record(**{field: ...})) == "missing_field"
    assert reason_of(rules, record(**{field: ""})) == "missing_field"


def test_chat_needs_a_conversation(rules):
    assert reason_of(rules, record(channel="chat", event_type="message")) == "missing_field"
    event = rules.event_from_record(record(channel="chat", event_type="message", conversation_id="c1"))
    assert event.conversation_id == "c1"


def test_channel_must_be_known_and_match_the_topic(rules):
    assert reason_of(rules, record(channel="email")) == "invalid_channel"
    assert reason_of(rules, record(), channel="app") == "channel_mismatch"
    assert rules.event_from_record(record(), channel="web").channel == "web"


def test_strings_over_64_kib_are_dead_letters(rules):
    assert rules.event_from_record(record(page_title="x" * 65_536)).page_title
    assert reason_of(rules, record(page_title="x" * 65_537)) == "string_too_long"
    # 4-byte characters: 16_385 of them are 65_540 bytes.
    assert reason_of(rules, record(page_title="\U0001F600" * 16_385)) == "string_too_long"
    assert reason_of(rules, record(properties={"k": "x" * 70_000})) == "string_too_long"


def test_types_are_checked(rules):
    assert reason_of(rules, record(x="12")) == "invalid_type"
    assert reason_of(rules, record(x=True)) == "invalid_type"
    assert reason_of(rules, record(revenue="9.99")) == "invalid_type"
    assert reason_of(rules, record(properties=["a"])) == "invalid_type"
    assert reason_of(rules, record(properties={"k": {"nested": 1}})) == "invalid_type"
    assert reason_of(rules, "not a mapping") == "not_an_object"


def test_json_properties_become_strings_and_record_round_trips(rules):
    event = rules.event_from_record(record(properties={"n": 3, "ok": True}, revenue=5, x=1),
                                    source="f.jsonl", partition=0, offset=7)
    assert event.properties == {"n": "3", "ok": "true"} and event.revenue == 5.0
    assert event.position == ("f.jsonl", 0, 7)
    again = rules.event_from_record(event_to_record(event), source="f.jsonl", partition=0, offset=7)
    assert again == event
