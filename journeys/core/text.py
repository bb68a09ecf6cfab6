"""Strings that every warehouse and every coder can hold (contract section 4).

"No value in an event, however forged, may stop a run or a landing": a lone
surrogate (``"\\ud800"`` in JSON) cannot be encoded as UTF-8, so Beam's coders
and every warehouse driver fail on it; PostgreSQL cannot store NUL in text or
JSON. Events reject the first (``invalid_string``) and strip control
characters; dead letters keep what arrived, so they escape both instead.
"""
from __future__ import annotations

import re

from rich.text import Text

# C0 controls other than tab, line feed and carriage return, which text legitimately holds.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# In a Python str every surrogate code point is a lone one: a valid pair decodes to one character.
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
# Fast paths: ``str.isprintable`` is False for every C0 control and every surrogate (Unicode Cc, Cs),
# so printable text holds none of them; text that is not printable goes through the expressions.


def has_lone_surrogate(text: str) -> bool:
    return not text.isascii() and not text.isprintable() and _SURROGATE.search(text) is not None


def strip_controls(text: str) -> str:
    """Text without NUL and the other C0 control characters (tab, LF and CR stay)."""
    if text.isprintable():
        return text
    return _CONTROL.sub("", text) if _CONTROL.search(text) else text


def storable(text: str) -> str:
    """Text with NUL, other C0 controls and lone surrogates written as ``\\uXXXX`` escapes.

    For what is kept as received (dead-letter payloads and details): the
    escape shows what was there and is plain ASCII.
    """
    if type(text) is str and text.isprintable():
        return text
    return _UNSTORABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# What must not reach a terminal as is: C0 controls (ESC starts CSI and OSC 8 hyperlink sequences; CR, BS
# overwrite), DEL, C1 controls (U+009B is a one-character CSI), bidi embeddings, overrides and isolates
# (Trojan Source), the line and paragraph separators, and lone surrogates (which no terminal encoding holds).
_TERMINAL_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                              "\ud800-\udfff]")


def visible_escapes(text: str) -> str:
    """Text with every terminal control and bidi control written as a visible ``\\xNN`` / ``\\uXXXX`` escape.

    For what a person reads in a terminal (``journeys report``, ``journeys quality``): a stored string is
    shown, never executed. Rich markup is a separate concern: pass the result as ``rich.text.Text``.
    """
    return _TERMINAL_UNSAFE.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text)


def terminal_text(value: object):
    """A stored value as a ``rich.text.Text``: markup shown literally, controls as visible escapes."""

    return Text(visible_escapes(str(value)))
