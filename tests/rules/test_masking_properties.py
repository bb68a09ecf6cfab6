"""Masking that holds up (contract section 5): national phone formats, URL-encoded text, JSON payloads, pseudonyms."""
from urllib.parse import quote, quote_plus, unquote_plus

import phonenumbers
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from support.hostile import NOW_MS, RULES

from journeys.core.config import Config, MaskingConfig
from journeys.core.events import Event
from journeys.rules.masking import mask_json_text, mask_text, mask_url, pseudonym, pseudonymiser
from journeys.rules.pages import page_of
from journeys.warehouses.rows import stored_event
from journeys.wire.decode import masked_payload

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("text", ["call (212) 555-0100 now", "call 212-555-0100", "212.555.0100",
                                  "ring 030 901820", "06 12 34 56 78", "+33 6 12 34 56 78", "2125550100"])
def test_national_and_international_phones_are_masked(text):
    assert not any(c.isdigit() for c in mask_text(text)), mask_text(text)


@pytest.mark.parametrize("text,expected", [
    ("mail jo%40example.com", "mail [email]"),
    ("call%20212%20555%200100", "call [phone]"),
    ("card+4111+1111+1111+1111", "card [card]"),
    ("jo%252540example.com", "[email]"),  # double-encoded
])
def test_url_encoded_personal_data_is_masked(text, expected):
    assert mask_text(text) == expected


def test_query_strings_are_decoded_masked_and_stay_url_encoded():
    assert mask_url("https://s.example.com/search?q=call+me+212-555-0100&page=2") == \
        "https://s.example.com/search?q=call+me+[phone]&page=2"
    assert mask_url("https://s.example.com/s?q=%2B44%2020%207946%200958") == "https://s.example.com/s?q=[phone]"
    assert mask_url("https://s.example.com/s?q=a+b&c=100%25") == "https://s.example.com/s?q=a+b&c=100%25"


def test_json_payloads_keep_the_pipelines_numbers():
    line = '{"event_time": 1700000000004, "x": 12, "message_text": "card 4111111111111111", "n": 4111111111111111}'
    assert mask_text("1700000000004") == "[card]"  # it passes Luhn: as free text it would be masked
    assert mask_json_text(line) == \
        '{"event_time": 1700000000004, "x": 12, "message_text": "card [card]", "n": "[card]"}'
    assert masked_payload(line.encode()) == mask_json_text(line)
    broken = '{"event_time": 1700000000004, "message_text": "jo@example.com'
    assert masked_payload(broken.encode()) == '{"event_time": 1700000000004, "message_text": "[email]"'


def test_every_free_text_field_of_a_stored_event_is_masked():
    event = RULES.event_from_record({
        "event_id": "e1", "event_type": "form_error", "channel": "web", "event_time": NOW_MS, "anonymous_id": "a1",
        "user_id": "u1", "page_title": "Hi jo@example.com", "element_id": "btn-jo@example.com",
        "form_id": "call 212-555-0100", "search_query": "jo%40example.com", "error_code": "4111111111111111",
        "referrer": "https://x.example/?e=jo%40example.com", "utm_campaign": "jo@example.com",
        "properties": {"jo@example.com": "call (212) 555-0100"}, "message_text": "raw"})
    stored = stored_event(event)
    flat = repr(stored)
    assert "jo" not in flat and "555" not in flat and "4111" not in flat
    assert stored["message_text"] is None and stored["event_time"] == NOW_MS and stored["user_id"] == "u1"


def test_app_screen_names_are_masked_as_pages():
    event = Event("e1", "screen_view", "app", NOW_MS, "d1", screen_name="profile jo@example.com")
    assert page_of(event) == "profile [email]"
    assert page_of(event._replace(screen_name="home")) == "home"


def test_pseudonyms_are_keyed_hashes_and_off_by_default(tmp_path):
    assert pseudonymiser(MaskingConfig(), environ={"JOURNEYS_PSEUDONYM_KEY": "k"}) is None
    on = MaskingConfig(pseudonymise_user_id=True)
    by_env = pseudonymiser(on, environ={"JOURNEYS_PSEUDONYM_KEY": "secret"})
    assert by_env("u1") == by_env("u1") == pseudonym(b"secret", "u1") != pseudonym(b"other", "u1")
    assert by_env("u1").startswith("u_") and len(by_env("u1")) == 66
    key_file = tmp_path / "key"
    key_file.write_text("secret\n")
    assert pseudonymiser(MaskingConfig(pseudonymise_user_id=True, pseudonym_key_file=str(key_file)), environ={})("u1") == by_env("u1")
    with pytest.raises(ValueError):
        pseudonymiser(on, environ={})
    rules = type(RULES)(Config().validation, now_ms=NOW_MS, user_id_map=by_env)
    event = rules.event_from_record({"event_id": "e", "event_type": "login", "channel": "web",
                                     "event_time": NOW_MS, "anonymous_id": "a", "user_id": "u1"})
    assert event.user_id == by_env("u1")


def test_masking_config_loads_from_a_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[masking]\nphone_regions = ["US"]\n')
    assert Config.load(path).masking.phone_regions == ("US",)


# --- properties -------------------------------------------------------------------------------------------

filler = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz ,.!?"), max_size=20)
emails = st.from_regex(r"[a-z0-9][a-z0-9._+\-]{0,12}@[a-z0-9]{1,10}\.(com|org|co\.uk|de|io)", fullmatch=True)


@st.composite
def cards(draw) -> str:
    body = [draw(st.integers(3, 6))] + draw(st.lists(st.integers(0, 9), min_size=14, max_size=14))
    for check in range(10):
        digits = "".join(map(str, body + [check]))
        total = sum(int(c) if i % 2 == 0 else (2 * int(c) - 9 if int(c) > 4 else 2 * int(c))
                    for i, c in enumerate(reversed(digits)))
        if total % 10 == 0:
            break
    sep = draw(st.sampled_from(["", " ", "-"]))
    return sep.join(digits[i:i + 4] for i in range(0, 16, 4))


FORMATS = [phonenumbers.PhoneNumberFormat.NATIONAL, phonenumbers.PhoneNumberFormat.INTERNATIONAL,
           phonenumbers.PhoneNumberFormat.E164]


@st.composite
def phones(draw) -> str:
    region = draw(st.sampled_from(["US", "GB", "DE", "FR"]))
    kind = draw(st.sampled_from([phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE]))
    example = phonenumbers.example_number_for_type(region, kind)
    digits = str(example.national_number)
    tail = draw(st.text("0123456789", min_size=3, max_size=3))
    number = phonenumbers.parse(digits[:-3] + tail, region)
    assume(phonenumbers.is_valid_number(number))
    return phonenumbers.format_number(number, draw(st.sampled_from(FORMATS)))


personal = st.one_of(emails, cards(), phones())


def _survives(masked: str) -> bool:
    """Filler has no digits and no "@": any left means some of the personal data survived."""
    return any(c.isdigit() for c in masked) or "@" in masked


@PROPERTY
@given(filler, personal, filler)
def test_personal_data_in_text_never_survives(before, value, after):
    assert not _survives(mask_text(f"{before} {value} {after}"))


@PROPERTY
@given(filler, personal, filler, st.sampled_from([quote, quote_plus]))
def test_url_encoded_personal_data_never_survives(before, value, after, encode):
    text = encode(f"{before} {value} {after}")
    assert not _survives(unquote_plus(mask_text(text)))
    url = mask_url(f"https://shop.example.com/search?q={text}&page=2")
    assert not _survives(unquote_plus(url.split("?", 1)[1].replace("page=2", "")))


@PROPERTY
@given(st.one_of(st.text(max_size=60), st.builds(lambda a, p, b: f"{a} {p} {b}", st.text(max_size=10), personal,
                                                 st.text(max_size=10))))
def test_masking_is_idempotent(text):
    once = mask_text(text)
    assert mask_text(once) == once
    as_url = mask_url(text)
    assert mask_url(as_url) == as_url


@PROPERTY
@given(st.integers(0, 2**63 - 1), personal)
def test_json_numbers_stay_and_json_strings_are_masked(number, value):
    line = f'{{"event_time": {number}, "offset": {number}, "message_text": "{value}"}}'
    masked = mask_json_text(line)
    assert masked.startswith(f'{{"event_time": {number}, "offset": {number}, ')
    assert not _survives(masked.split('"message_text"')[1])
