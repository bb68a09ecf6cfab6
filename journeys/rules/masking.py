"""Personal data masking (contract section 5), and optional user_id pseudonyms.

E-mail addresses, phone numbers and card numbers (only digit runs that pass
the Luhn check, so order ids survive) are replaced by ``[email]``,
``[phone]`` and ``[card]``.

- Phones: Google's libphonenumber (the ``phonenumbers`` port) finds numbers
  in text, international ones (``+44 20 7946 0958``) and national ones in the
  formats of ``masking.phone_regions`` (``(212) 555-0100``, ``030 901820``).
  Its STRICT_GROUPING leniency wants a number written in its country's digit
  groups, so ``ORD-2026-000123`` or a date is not a phone. A regular
  expression for ``+CC``/``00CC`` and trunk-0 numbers stays as a second net.
- URL-encoded text (``%40``, ``%20``, ``+``): each run of text between URL
  delimiters that holds a ``%`` or ``+`` is read decoded too (up to three
  times, for double encoding; ``+`` both as a space and as itself); if a
  reading shows personal data, the run is replaced by its masked reading
  (re-encoded inside URLs). Runs without personal data keep their spelling.
- Masking is applied until nothing changes, so masking masked text is a no-op.
- JSON text (dead-letter payloads) is masked in its strings only: numbers
  such as an epoch-millisecond ``event_time`` may pass the Luhn check, but
  they are the pipeline's, not free text.
- Raw bytes are masked through their Latin-1 view, a one-to-one map of bytes
  to characters, so binary payloads keep their length class and lose the text.
"""
from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import re
from pathlib import Path
from typing import Callable
from urllib.parse import quote_plus, unquote, unquote_plus

from phonenumbers import Leniency, PhoneNumberMatcher

from journeys.core.config import MaskingConfig

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
# Characters that are never part of a written phone number (brackets, markup, separators of data).
_NOT_IN_PHONES = re.compile(r"[\[\]{}<>|\\;=&!?*^~`\"'\x00-\x1f]")
# No phone number has fewer than 6 digits: skip the (slow) matcher for such text.
_MAYBE_PHONE = re.compile(r"\d(?:\D{0,3}\d){5}")
# A run of text that may be URL-encoded: between whitespace and URL delimiters.
_ENCODED_RUN = re.compile(r"[^\s?&=#;/]*[%+][^\s?&=#;/]*")
_MAX_DECODES = 3
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_MAX_PASSES = 4
# JSON: a string literal (an unterminated one runs to the end), or a number that is a whole value.
_JSON_PART = re.compile(
    r'(?P<string>"(?:[^"\\]|\\[\s\S])*(?:"|\Z))'
    r"|(?P<number>(?:(?<=[:,\[])|\A)\s*-?\d+(?:\.\d+)?(?:[eE][+\-]?\d+)?(?=\s*(?:[,\]}]|\Z)))"
)

# The event fields whose JSON numbers are the pipeline's own (Avro int, long and double fields,
# and a record's origin): never free text, though an epoch-ms event_time can pass the Luhn check.
NUMERIC_FIELDS = frozenset({"event_time", "x", "y", "search_results", "csat_score", "revenue",
                            "partition", "offset"})
_KEY_SEPARATOR = re.compile(r"\s*:")

_settings = MaskingConfig()


def configure(config: MaskingConfig) -> None:
    """Make ``config`` this process's masking settings (the CLI and ParseEvents call it)."""
    global _settings
    _settings = config


def current() -> MaskingConfig:
    return _settings


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


def _library_phones(text: str, regions: tuple[str, ...]) -> str:
    if not _MAYBE_PHONE.search(text):
        return text
    # The matcher reads "(212) 555-0100 [31m" as one invalid candidate; characters no phone number holds
    # become line breaks, which end a candidate (same length, so the spans hold for ``text``).
    probe = _NOT_IN_PHONES.sub("\n", text)
    spans = sorted({(m.start, m.end) for region in regions
                    for m in PhoneNumberMatcher(probe, region, leniency=Leniency.STRICT_GROUPING)})
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in reversed(merged):
        text = text[:start] + PHONE_MASK + text[end:]
    return text


def _mask_plain(text: str, regions: tuple[str, ...]) -> str:
    """Cards before phones, as card numbers look like phone numbers."""
    text = _EMAIL.sub(EMAIL_MASK, text)
    text = _CARD.sub(_mask_card, text)
    text = _library_phones(text, regions)
    return _PHONE.sub(_mask_phone, text)


def _decodings(run: str) -> list[tuple[str, bool]]:
    """(text, decoded?) readings of a run: percent-decoded up to three times, then with "+" as a space.

    A "+" is a space in a query string but literal in "+44 20 ..." or
    "jo+shop@example.com", so both readings are tried; a run with no escape
    is also read as it stands.
    """
    readings = [] if _PERCENT_ESCAPE.search(run) else [(run, False)]
    for decode in (unquote, unquote_plus):
        text = run
        for _ in range(_MAX_DECODES):
            deeper = decode(text)
            if deeper == text:
                break
            text = deeper
            readings.append((text, True))
    return readings


def _left(masked: str) -> int:
    return sum(c.isdigit() for c in masked) + masked.count("@")


def _mask_encoded(text: str, regions: tuple[str, ...], reencode: bool) -> str:
    def one(match: re.Match) -> str:
        run = match.group()
        best = None
        for reading, decoded in _decodings(run):
            masked = _mask_plain(reading, regions)
            # The reading that leaves the least behind (digits, "@") wins; ties go to the earlier.
            if masked != reading and (best is None or _left(masked) < _left(best[0])):
                best = (masked, decoded)
        if best is None:
            return run  # nothing personal: keep the text as it was sent
        masked, decoded = best
        return quote_plus(masked, safe="[]@:,") if reencode and decoded else masked
    return _ENCODED_RUN.sub(one, text)


@functools.lru_cache(maxsize=65_536)
def _masked(text: str, regions: tuple[str, ...], url: bool) -> str:
    # Page paths, titles and screen names repeat on every event: the cache makes them cheap.
    for _ in range(_MAX_PASSES):
        # Encoded runs first: in "%203000-0000-0000-0004" the plain view reads "203000..." as the digits.
        masked = _mask_encoded(text, regions, reencode=url) if "%" in text or "+" in text else text
        masked = _mask_plain(masked, regions)
        if masked == text:
            break
        text = masked
    return text


def _regions(regions: tuple[str, ...] | None) -> tuple[str, ...]:
    return tuple(_settings.phone_regions if regions is None else regions)


def phone_regions() -> tuple[str, ...]:
    """The regions whose national phone formats this process masks (``masking.phone_regions``)."""
    return _regions(None)


def mask_text(text: str | None, regions: tuple[str, ...] | None = None) -> str | None:
    """Free text with personal data masked, plain or URL-encoded."""
    if not text:
        return text
    return _masked(text, _regions(regions), False)


def mask_url(url: str | None, regions: tuple[str, ...] | None = None) -> str | None:
    """A URL with personal data masked, query string included; masked parts stay URL-encoded."""
    if not url:
        return url
    return _masked(url, _regions(regions), True)


def mask_json_text(text: str, regions: tuple[str, ...] | None = None) -> str:
    """JSON (or broken JSON) text with its free text masked and the pipeline's numbers left alone.

    Strings (keys and values) are masked; a string that needs no mask keeps
    its exact spelling, a masked one is written back as a JSON string. The
    number value of a numeric event field (``event_time``, ``x``, ...) is
    kept; any other number is masked like text (a card number sent as a JSON
    number under ``message_text``) and, if masked, becomes a JSON string.
    Text between them (a broken line's bare words) is masked like free text.
    """
    regions = _regions(regions)
    out, at, last_key = [], 0, None
    for match in _JSON_PART.finditer(text):
        gap = text[at:match.start()]
        out.append(_masked(gap, regions, False) if gap else "")
        token = match.group()
        if match.group("string") is not None:
            last_key = _json_string_value(token)
            token = _mask_json_string(token, regions)
        else:
            owned = last_key in NUMERIC_FIELDS and _KEY_SEPARATOR.fullmatch(gap)
            masked = token if owned else _masked(token, regions, False)
            lead = token[:len(token) - len(token.lstrip())]
            token = token if masked == token else lead + json.dumps(masked.strip())
            last_key = None
        out.append(token)
        at = match.end()
    rest = text[at:]
    out.append(_masked(rest, regions, False) if rest else "")
    return "".join(out)


def _json_string_value(token: str) -> str | None:
    closed = len(token) >= 2 and token.endswith('"') and not _odd_backslashes_before_end(token)
    try:
        value = json.loads(token if closed else token + '"')
    except ValueError:
        value = token[1:-1] if closed else token[1:]
    return value if isinstance(value, str) else None


def _mask_json_string(token: str, regions: tuple[str, ...]) -> str:
    value = _json_string_value(token)
    if not value:
        return token
    masked = _masked(value, regions, False)
    return token if masked == value else json.dumps(masked, ensure_ascii=False)


def _odd_backslashes_before_end(token: str) -> bool:
    """``"ab\\"`` ends in an escaped quote, so the literal is not closed."""
    body = token[1:-1]
    return (len(body) - len(body.rstrip("\\"))) % 2 == 1


def looks_like_json(text: str) -> bool:
    return text.lstrip()[:1] in ("{", "[")


def mask_bytes(raw: bytes, regions: tuple[str, ...] | None = None) -> bytes:
    """Bytes with the personal data in any ASCII text inside them masked."""
    text = raw.decode("latin-1")
    masked = mask_json_text(text, regions) if looks_like_json(text) else mask_text(text, regions)
    # Decoded URL text may hold characters beyond Latin-1; they only ever replace masked runs.
    return masked.encode("latin-1", "replace")


def pseudonym(key: bytes, user_id: str) -> str:
    """A keyed hash of a user_id (HMAC-SHA256): the same id and key always give the same pseudonym."""
    return "u_" + hmac.new(key, user_id.encode("utf-8"), hashlib.sha256).hexdigest()


def pseudonymiser(config: MaskingConfig | None = None,
                  environ: dict | None = None) -> Callable[[str], str] | None:
    """The user_id pseudonymiser the settings ask for, or None (the default: off).

    The key comes from the environment variable ``pseudonym_key_env``, else
    from the file ``pseudonym_key_file``; switching it on without a key is
    an error at start-up rather than a silent pass-through.
    """
    config = config or _settings
    if not config.pseudonymise_user_id:
        return None
    environ = os.environ if environ is None else environ
    key = environ.get(config.pseudonym_key_env, "").encode("utf-8")
    if not key and config.pseudonym_key_file:
        key = (Path(config.pseudonym_key_file).read_bytes().splitlines() or [b""])[0].strip()
    if not key:
        raise ValueError(f"masking.pseudonymise_user_id is on but neither ${config.pseudonym_key_env} "
                         "nor masking.pseudonym_key_file gives a key")
    return functools.partial(pseudonym, key)
