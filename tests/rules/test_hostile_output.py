"""Hostile strings reach people only as text: terminal escapes, journeys' quality page, GX Data Docs.

The report's own end-to-end check (a warehouse built by a run) is
tests/end_to_end/test_hostile_report.py; the whole corpus is
tests/end_to_end/test_hostile_corpus.py.
"""
from __future__ import annotations

import io

from rich.console import Console
from support.html_live import PAYLOADS, live_from_data, live_in_folder
from support.quality_events import T0, event

from journeys import quality
from journeys.core.text import terminal_text, visible_escapes
from journeys.quality.gx_data_docs import build_data_docs
from journeys.quality.policy import QualityResult

TERMINAL = ["\x1b]8;;https://evil\x1b\\click\x1b]8;;\x1b\\", "\x1b[31mred", "\x9b31m", "back\rspace\x08",
            "\u202eevil\u202c", "\u2066iso\u2069", "nul\x00del\x7f", "\ud800"]


def test_visible_escapes_leave_no_control_and_keep_ordinary_text():
    for text in TERMINAL:
        shown = visible_escapes(text)
        assert shown.isprintable() and "\\" in shown, repr(shown)
    assert visible_escapes("\x1b[31mred") == "\\x1b[31mred"
    assert visible_escapes("\u202eevil") == "\\u202eevil"
    assert visible_escapes("Café – 日本 😀 [b]x[/b]") == "Café – 日本 😀 [b]x[/b]"


def test_rich_shows_markup_and_controls_literally():
    console = Console(record=True, width=200, force_terminal=True, color_system="truecolor")
    for text in ["[/]", "[link=https://evil.example]x[/link]", "[bold red]loud", *TERMINAL]:
        console.print(terminal_text(text))
    out = console.export_text(styles=False)
    assert "[/]" in out and "[link=https://evil.example]x[/link]" in out and "[bold red]loud" in out
    assert "\\x1b]8;;https://evil" in out and "\\u202e" in out
    # The bytes a terminal would get hold no control character of the data.
    stream = io.StringIO()
    terminal = Console(file=stream, width=200, force_terminal=True, color_system="truecolor")
    for text in TERMINAL:
        terminal.print(terminal_text(text), highlight=False)
    assert not any(c in stream.getvalue() for c in "\x1b\x9b\x07\x08\r\x00\u202e\u2066"), stream.getvalue()


def test_the_checker_sees_live_payloads():
    # The unescaped payloads are live, so the checker used below would notice a regression.
    page = "<html><body>" + "".join(PAYLOADS) + "</body></html>"
    live = " ".join(live_from_data(page))
    for marker in ("xss-script", "xss-img", "xss-href", "xss-attr", "xss-close", "xss-frame"):
        assert marker in live, marker


def test_quality_page_escapes_hostile_strings(tmp_path):
    hostile = " ".join(PAYLOADS)
    result = QualityResult(hostile, False, 2, 1, {"expectations": [
        {"key": hostile, "policy": hostile, "success": False, "table": hostile, "element_count": 2,
         "unexpected_count": 1, "sample": list(PAYLOADS), "observed_value": hostile}]})
    page = quality.data_docs(tmp_path / "docs", [result], run_id=hostile)
    assert live_in_folder(tmp_path / "docs") == {}
    assert "&lt;script&gt;alert(&#x27;xss-script&#x27;)" in page.read_text()


def test_gx_data_docs_show_hostile_values_as_text(tmp_path):
    events = [event(n, event_type=PAYLOADS[n % len(PAYLOADS)], event_id=PAYLOADS[n % len(PAYLOADS)] + str(n),
                    page_title=PAYLOADS[n % len(PAYLOADS)], page_url="javascript:alert('xss-url')")
              for n in range(12)]
    index = build_data_docs(tmp_path / "docs", events, T0 + 3_600_000)
    assert index.exists()
    assert live_in_folder(tmp_path / "docs") == {}
    pages = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "docs").rglob("*.html"))
    assert "xss-script" in pages  # the unexpected event types are shown, as text


def test_a_phone_next_to_markup_or_escapes_is_masked():
    # Found by the hostile corpus: "[31m" after a number made the phone matcher's candidate invalid.
    from journeys.rules.masking import mask_text

    for text in ["(212) 555-0100 [31mred", "(212) 555-0100 \x1b[31mred", "call 212-555-0100 x[31m",
                 "<b>212-555-0100</b>", "{212-555-0100}|2"]:
        assert "555" not in mask_text(text), text
