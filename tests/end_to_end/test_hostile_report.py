"""`journeys report` over a warehouse whose page names are markup, escape sequences and scripts.

Built by the pipeline from a JSONL file; decoding already drops C0 controls,
so the stored rows are then given ESC, C1 and bidi controls directly (as a
warehouse written by another tool could hold them).
"""
import io
import json
import re

import duckdb
import pytest
from rich.console import Console

from journeys.commands.cli import main
from journeys.commands.report import render

pytestmark = [pytest.mark.slow]
NAMES = ["[/]", "[link=https://evil.example]x[/link]", "\x1b]8;;https://evil\x1b\\click\x1b]8;;\x1b\\",
         "\x1b[31mred", "<script>alert(1)</script>"]
CONTROLS = "\x1b[2J\x9b31m\u202e\x07"


def write_events(path):
    lines = []
    for i, name in enumerate(NAMES):
        for k in range(6):  # 6 views, 5 timed: the page is among the "slowest pages"
            lines.append(json.dumps({"event_id": f"e{i}-{k}", "event_type": "page_view", "channel": "web",
                                     "event_time": 1767607200000 + i * 200_000 + k * 20_000,
                                     "anonymous_id": f"a{i}", "page_url": "https://x.test/" + name,
                                     "page_title": name}))
    path.write_text("\n".join(lines) + "\n")


def test_report_shows_hostile_page_names_literally(tmp_path, capsys):
    source, warehouse = tmp_path / "events.jsonl", tmp_path / "w.duckdb"
    write_events(source)
    assert main(["run", "--source", f"file:{source}", "--warehouse", f"duckdb:{warehouse}",
                 "--output-dir", str(tmp_path / "runs")]) == 0
    capsys.readouterr()
    assert main(["report", "--warehouse", f"duckdb:{warehouse}"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out
    assert "/[/]" in out and "/[link=https://evil.example]x[" in out and "/<script>alert(1)</script>" in out

    con = duckdb.connect(str(warehouse))
    con.execute("UPDATE page_views SET page = page || ?", [CONTROLS])
    con.execute("UPDATE friction_events SET page = page || ?", [CONTROLS])
    con.close()
    stream = io.StringIO()
    render(f"duckdb:{warehouse}", Console(file=stream, width=250, force_terminal=True, color_system="truecolor"))
    out = stream.getvalue()
    # Rich's own styling is SGR (ESC [ ... m) in other colours; nothing else may reach the terminal.
    assert "\x1b[31m" not in out and "\x1b]" not in out and "\x1b[2J" not in out
    assert not any(c in re.sub(r"\x1b\[[0-9;]*m", "", out) for c in "\x1b\x9b\u202e\x07"), repr(out)
    assert "\\x1b[2J\\x9b31m\\u202e\\x07" in out
    assert "https://evil" not in out.replace("[link=https://evil.example]", "").replace("8;;https://evil", "")
