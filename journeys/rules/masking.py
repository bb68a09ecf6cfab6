"""Personal data masking (contract section 5).

Email addresses, phone numbers in international formats and card numbers
(only digit runs that pass the Luhn check, so order ids survive) are replaced
by ``[email]``, ``[phone]`` and ``[card]``. URLs are masked whole, query string
included, since trackers put search terms and e-mails in query strings.
Raw bytes are masked through their Latin-1 view, a one-to-one map of bytes to
characters, so binary payloads keep their length class and lose the text.
"""
from __future__ import annotations

import re

EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
CARD_MASK = "[card]"

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+(?:@|%40)[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# 13-19 digits, optionally grouped by single spaces or dashes.
_CARD = re.compile(r"(?<![\d])(?:\d[ \-]?){12,18}\d(?![\d])")
# International (+CC ...) or national numbers with at least 8 digits in groups.
_PHONE = re.compile(
    r"(?<![\w+])(?:\+|00)[1-9]\d{0,2}(?:[ .\-]?\(?\d{1,4}\)?){2,5}(?!\w)"
    r"|(?<![\w+])\(?0\d{1,4}\)?(?:[ .\-]?\d{2,4}){2,4}(?!\w)"
)
_MIN_PHONE_DIGITS = 8


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _mask_card(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group())
    return CARD_MASK if luhn_valid(digits) else match.group()


def _mask_phone(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group())
    return PHONE_MASK if len(digits) >= _MIN_PHONE_DIGITS else match.group()


def mask_text(text: str | None) -> str | None:
    """Free text with personal data masked; cards first, as they look like phones."""
    if not text:
        return text
    text = _EMAIL.sub(EMAIL_MASK, text)
    text = _CARD.sub(_mask_card, text)
    return _PHONE.sub(_mask_phone, text)


def mask_url(url: str | None) -> str | None:
    """A URL with personal data masked, query string included (``%40`` is an ``@``)."""
    return mask_text(url)


def mask_bytes(raw: bytes) -> bytes:
    """Bytes with the personal data in any ASCII text inside them masked."""
    return mask_text(raw.decode("latin-1")).encode("latin-1")
