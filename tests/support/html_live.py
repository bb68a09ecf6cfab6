"""Is anything from an event live in a generated HTML page? Parsed with Python's html.parser, not grepped.

A hostile string may appear as text (escaped); it must never become an
element, an attribute, a script's code or a ``javascript:`` URL. The
payloads below carry a marker (``xss-``) so what came from data is told
apart from the page's own scripts and handlers.
"""
from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

MARKER = "xss-"
# Payloads: each is harmless text when escaped and live markup when not.
PAYLOADS = (
    "<script>alert('xss-script')</script>",
    "<img src=x onerror=\"alert('xss-img')\">",
    "<a href=\"javascript:alert('xss-href')\">xss-link</a>",
    "\"><svg onload=alert('xss-attr')>",
    "</script><script>alert('xss-close')</script>",
    "<iframe srcdoc=\"xss-frame\"></iframe>",
)
# Elements a payload would create; a page of ours never holds them with a marker inside.
_PAYLOAD_TAGS = {"script", "img", "svg", "iframe", "a"}
_URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "srcdoc", "data"}


class _Finder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.live: list[str] = []
        self._script_depth = 0
        self._script = ""
        self._data_block = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = value or ""
            if name.startswith("on") and MARKER in value:
                self.live.append(f"<{tag} {name}={value!r}>")
            if name in _URL_ATTRIBUTES and (value.strip().lower().startswith("javascript:") or MARKER in value):
                self.live.append(f"<{tag} {name}={value!r}>")
            if MARKER in name:
                self.live.append(f"<{tag} attribute {name!r}>")
        if MARKER in tag:
            self.live.append(f"element <{tag}>")
        if tag == "script":
            self._script_depth += 1
            self._script = ""
            self._data_block = (dict(attrs).get("type") or "").lower() == "application/json"

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag == "script" and self._script_depth:
            self._script_depth -= 1
            if self._data_block:
                # A data block is text to a browser; it must still be whole (no payload ended it early).
                try:
                    json.loads(self._script)
                except ValueError:
                    self.live.append(f"<script type=application/json> cut short: {self._script[-80:]!r}")
            elif MARKER in self._script:
                self.live.append(f"<script> holding {self._script[:80]!r}")

    def handle_data(self, data):
        if self._script_depth:
            self._script += data


def live_from_data(html_text: str) -> list[str]:
    """What from a payload is live in ``html_text`` (an element, handler, script or javascript: URL)."""
    finder = _Finder()
    finder.feed(html_text)
    finder.close()
    return finder.live


def live_in_folder(folder: Path) -> dict[str, list[str]]:
    """``live_from_data`` for every .html file under ``folder``; only files with findings."""
    found = {}
    for path in sorted(Path(folder).rglob("*.htm*")):
        live = live_from_data(path.read_text(encoding="utf-8", errors="replace"))
        if live:
            found[str(path)] = live
    return found
