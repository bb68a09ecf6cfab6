"""Strings that every warehouse and every coder can hold (contract section 4).

"No value in an event, however forged, may stop a run or a landing": a lone
surrogate (``"\\ud800"`` in JSON) cannot be encoded as UTF-8, so Beam's coders
and every warehouse driver fail on it; PostgreSQL cannot store NUL in text or
JSON. Events reject the first (``invalid_string``) and strip control
characters; dead letters keep what arrived, so they escape both instead.
"""
from __future__ import annotations

import re

# C0 controls other than tab, line feed and carriage return, which text legitimately holds.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# In a Python str every surrogate code point is a lone one: a valid pair decodes to one character.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def has_lone_surrogate(text: str) -> bool:
    return not text.isascii() and _SURROGATE.search(text) is not None


def strip_controls(text: str) -> str:
    """Text without NUL and the other C0 control characters (tab, LF and CR stay)."""
    return _CONTROL.sub("", text) if _CONTROL.search(text) else text


def storable(text: str) -> str:
    """Text with NUL, other C0 controls and lone surrogates written as ``\\uXXXX`` escapes.

    For what is kept as received (dead-letter payloads and details): the
    escape shows what was there and is plain ASCII.
    """
    return _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
