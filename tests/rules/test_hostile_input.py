"""Poison pills (issue 10): every value is decoded into a storable event or a dead letter with a reason."""
import io
import json

import fastavro
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.hostile import NOW_MS, RULES, assert_storable, event_like_records, json_lines, json_value

from journeys.core.errors import InvalidEvent
from journeys.core.text import storable
from journeys.wire import framing as wire
from journeys.wire.decode import JSON, DeadLetter, RawMessage, RawRecord, parse_json, to_event_or_dead_letter
from journeys.wire.schema_catalog import SchemaCatalog

CATALOG = SchemaCatalog()
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def web(**changes):
    base = {"event_id": "e1", "event_type": "page_view", "channel": "web", "event_time": NOW_MS,
            "anonymous_id": "a1"}
    return {**base, **changes}


def reason_of(record):
    with pytest.raises(InvalidEvent) as error:
        RULES.event_from_record(record)
    return error.value.reason


def decoded_line(line: bytes):
    return to_event_or_dead_letter(RawMessage("t.jsonl", 0, 1, line, JSON), CATALOG, RULES, NOW_MS)


@pytest.mark.parametrize("record", [
    web(page_title="\ud800"), web(anonymous_id="a\udfff"), web(properties={"\ud800": "x"}),
    web(properties={"k": "x\udc00y"})])
def test_lone_surrogates_are_invalid_strings(record):
    assert reason_of(record) == "invalid_string"


def test_a_lone_surrogate_in_a_json_line_is_a_storable_dead_letter():
    for line in (b'{"event_id": "e1", "event_type": "page_view", "channel": "web", "event_time": 1767571200000, '
                 b'"anonymous_id": "a1", "page_title": "\\ud800"}',
                 b'{"event_id": "e1", "page_title": "\xed\xa0\x80"}'):  # raw surrogate bytes, read surrogatepass
        dead = decoded_line(line)
        assert isinstance(dead, DeadLetter) and dead.reason in ("invalid_string", "missing_field")
        assert_storable(dead)


def test_control_characters_are_stripped_but_tab_and_newlines_stay():
    event = RULES.event_from_record(web(page_title="a\x00b\x07c\td\ne\rf", properties={"k\x00": "v\x1f"}))
    assert event.page_title == "abc\td\ne\rf"
    assert event.properties == {"k": "v"}
    assert_storable(event)


def test_a_required_field_of_control_characters_only_is_missing():
    assert reason_of(web(event_id="\x00\x01")) == "missing_field"
    assert reason_of(web(channel="chat", event_type="message", conversation_id="\x00")) == "missing_field"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinity_are_invalid_numbers(value):
    assert reason_of(web(event_type="purchase", revenue=value)) == "invalid_number"
    assert reason_of(web(properties={"p": value})) == "invalid_number"


def test_nan_in_a_json_line_is_a_dead_letter_whose_payload_keeps_the_line():
    dead = decoded_line(b'{"event_id": "e1", "event_type": "purchase", "channel": "web", '
                        b'"event_time": 1767571200000, "anonymous_id": "a1", "revenue": NaN}')
    assert dead.reason == "invalid_number" and "NaN" in dead.payload


@pytest.mark.parametrize("field", ["x", "y", "search_results", "csat_score"])
def test_ints_outside_the_avro_int_range_are_out_of_range(field):
    assert RULES.event_from_record(web(**{field: 2**31 - 1})).__getattribute__(field) == 2**31 - 1
    assert RULES.event_from_record(web(**{field: -2**31})).__getattribute__(field) == -2**31
    assert reason_of(web(**{field: 2**31})) == "number_out_of_range"
    assert reason_of(web(**{field: -2**31 - 1})) == "number_out_of_range"


def test_event_times_outside_the_avro_long_range_are_out_of_range():
    assert reason_of(web(event_time=2**63)) == "number_out_of_range"
    assert reason_of(web(event_time=-2**63 - 1)) == "number_out_of_range"
    assert reason_of(web(event_time=1e300)) == "number_out_of_range"
    assert reason_of(web(event_time="0001-01-01T00:00:00+14:00")) == "event_time_too_old"


def test_revenue_beyond_the_double_range_is_out_of_range():
    assert reason_of(web(event_type="purchase", revenue=10**400)) == "number_out_of_range"


def test_deeply_nested_json_is_invalid_json():
    assert decoded_line(b"[" * 100_000).reason == "invalid_json"


def test_dead_letter_payload_and_detail_are_storable():
    dead = decoded_line(b'{"event_id": 1, "a\x00b": "\x00", "c": "\\ud800"}')
    assert_storable(dead)
    assert "\\u0000" in dead.payload
    dead = decoded_line('{"properties": {"\ud800\x00": []}}'.encode("utf-8", "surrogatepass"))
    assert_storable(dead)


def test_storable_escapes_nul_controls_and_surrogates_only():
    assert storable("a\x00b\ud800c\td\n") == "a\\u0000b\\ud800c\td\n"
    assert storable("plain é €") == "plain é €"


def _avro_record(**changes):
    schema = CATALOG.by_id(1)
    names = [f["name"] for f in schema["fields"]]
    record = {name: None for name in names}
    record.update(event_id="e1", event_type="page_view", channel="web", event_time=NOW_MS, anonymous_id="a1",
                  properties={})
    record.update(changes)
    return record


def test_avro_poison_values_become_dead_letters_or_clean_events():
    nan = wire.encode_confluent(_avro_record(event_type="purchase", revenue=float("nan")), 1, CATALOG)
    nul = wire.encode_confluent(_avro_record(page_title="a\x00b", properties={"k": "\x00"}), 1, CATALOG)
    dead = to_event_or_dead_letter(RawMessage("web.events", 0, 1, nan), CATALOG, RULES, NOW_MS)
    assert dead.reason == "invalid_number"
    assert_storable(dead)
    event = to_event_or_dead_letter(RawMessage("web.events", 0, 2, nul), CATALOG, RULES, NOW_MS)
    assert event.page_title == "ab" and event.properties == {"k": ""}


def test_a_dead_letter_of_a_record_with_odd_keys_still_has_a_payload():
    dead = to_event_or_dead_letter(RawRecord("f.avro", 0, 1, {1: "x", "a": float("nan")}), CATALOG, RULES, NOW_MS)
    assert dead.reason == "missing_field"
    assert_storable(dead)


@PROPERTY
@given(event_like_records())
def test_any_event_like_record_decodes_to_one_storable_result(record):
    for line in json_lines(record):
        assert_storable(decoded_line(line))
    assert_storable(to_event_or_dead_letter(RawRecord("f.avro", 0, 1, record), CATALOG, RULES, NOW_MS))


@PROPERTY
@given(json_value)
def test_any_json_value_decodes_to_one_storable_result(value):
    for line in json_lines(value):
        assert_storable(decoded_line(line))


@PROPERTY
@given(st.binary(max_size=200), st.sampled_from([b"", b"\x00\x00\x00\x00\x01", b"\xc3\x01", b"{"]))
def test_any_bytes_decode_to_one_storable_result(data, prefix):
    for framing in ("avro", JSON):
        assert_storable(to_event_or_dead_letter(RawMessage("t", 0, 1, prefix + data, framing), CATALOG, RULES, NOW_MS))


@PROPERTY
@given(st.dictionaries(st.sampled_from(["page_title", "screen_name", "element_id", "search_query", "page_url"]),
                       st.text(st.characters(exclude_categories=("Cs",)), max_size=30), max_size=5),
       st.floats(allow_nan=False, allow_infinity=False), st.integers(-2**31, 2**31 - 1))
def test_any_avro_event_decodes_to_one_storable_result(strings, revenue, x):
    payload = wire.encode_confluent(_avro_record(event_type="click", revenue=revenue, x=x, **strings), 1, CATALOG)
    result = to_event_or_dead_letter(RawMessage("web.events", 0, 1, payload), CATALOG, RULES, NOW_MS)
    assert_storable(result)
    truncated = to_event_or_dead_letter(RawMessage("web.events", 0, 1, payload[:-1]), CATALOG, RULES, NOW_MS)
    assert_storable(truncated)


def test_an_avro_container_record_is_decoded_like_a_message():
    out = io.BytesIO()
    fastavro.writer(out, CATALOG.by_id(1), [_avro_record(page_title="t\x00")])
    record = next(fastavro.reader(io.BytesIO(out.getvalue())))
    event = to_event_or_dead_letter(RawRecord("f.avro", 0, 1, record), CATALOG, RULES, NOW_MS)
    assert event.page_title == "t"
    assert json.loads(json.dumps(record, default=str))["page_title"] == "t\x00"


def _json_outcome(line):
    try:
        record = json.loads(line)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return "invalid_json"
    return record if isinstance(record, dict) else "not_an_object"


@PROPERTY
@given(json_value, st.binary(max_size=8))
def test_json_lines_parse_as_the_json_module_parses_them(value, noise):
    """parse_json tries orjson first: its outcome must be json's for any line, valid or not."""
    for line in [*json_lines({"v": value}), *json_lines(value), noise, json.dumps({"v": value})[:-1].encode()]:
        want = _json_outcome(line)
        try:
            got = parse_json(line)
        except InvalidEvent as error:
            got = error.reason
        assert repr(got) == repr(want), line
