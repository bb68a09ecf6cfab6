"""Personal data masking (contract section 5)."""
import pytest

from journeys.rules.masking import luhn_valid, mask_bytes, mask_text, mask_url


@pytest.mark.parametrize("text,expected", [
    ("write to jo.doe+shop@example.co.uk please", "write to [email] please"),
    ("call +44 20 7946 0958 today", "call [phone] today"),
    ("call +1-202-555-0143", "call [phone]"),
    ("call 0049 30 901820", "call [phone]"),
    ("or (020) 7946 0958", "or [phone]"),
    ("card 4111 1111 1111 1111 ok", "card [card] ok"),
    ("card 5500-0000-0000-0004", "card [card]"),
    ("card 4111111111111111", "card [card]"),
])
def test_personal_data_is_masked(text, expected):
    assert mask_text(text) == expected


@pytest.mark.parametrize("text", [
    "order 4111111111111112 shipped",  # fails Luhn: an order number, not a card
    "ORD-2026-000123 qty 12 at 10:30 on 2026-01-05",
    "error code 500",
    "",
])
def test_ordinary_text_is_left_alone(text):
    assert mask_text(text) == text


def test_luhn():
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")


def test_urls_lose_emails_even_percent_encoded():
    assert mask_url("https://shop.example.com/account?email=jo%40example.com&tab=1") == \
        "https://shop.example.com/account?email=[email]&tab=1"
    assert mask_url(None) is None


def test_bytes_are_masked_in_place():
    raw = b"\x00\x01\xffcontact jo@example.com\xfe"
    assert mask_bytes(raw) == b"\x00\x01\xffcontact [email]\xfe"
