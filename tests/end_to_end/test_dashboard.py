"""`journeys report --html`: the offline dashboard, opened in headless Chromium with no network.

A few thousand synthetic events over a week go through `journeys run` into
DuckDB, with a hostile page path that tries to inject an element; the page
is driven through the DevTools protocol (Playwright on the system Chromium:
Playwright downloads no browser here) inside a network namespace of its own
(`unshare -n`), so a request to anywhere but the file itself would fail and
be recorded.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from journeys.commands.cli import main
from journeys.generators.synthetic import DEFAULT_START, generate_events, write_jsonl

pytestmark = pytest.mark.slow

HOSTILE = "<img src=x onerror=alert(1)>"
EVENTS = 3_000
DAYS = 7
HOSTILE_VISITORS = 30  # enough journeys for the hostile page to be a top entry page
CHARTS = ("trend-journeys", "trend-conversion", "trend-bounce", "trend-escalation", "paths", "cross", "funnel",
          "funnel-channels", "friction", "impact", "time-on-page", "tasks", "chat")
# How many points a trace shows, whatever its type.
POINTS = """(div) => (div.data || []).map(t => (t.x || t.values || t.z || (t.node && t.node.label) || []).length)"""


@pytest.fixture(scope="session")
def chromium():
    """The system Chromium, installed with apt-get when missing (the test machine is root)."""
    path = shutil.which("chromium")
    if path is None:
        if os.geteuid() != 0:
            pytest.skip("chromium is not installed and apt-get needs root")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env, stdout=subprocess.DEVNULL)
        path = shutil.which("chromium")
    return path


@pytest.fixture(scope="session")
def offline_chromium(chromium, tmp_path_factory):
    """An executable that starts Chromium in an empty network namespace (no interface but a down loopback)."""
    if subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False).returncode != 0:
        return chromium  # no namespaces here: the proxy and resolver flags below still keep it offline
    wrapper = tmp_path_factory.mktemp("chromium") / "chromium-offline"
    wrapper.write_text(f'#!/bin/sh\nexec unshare -n -- {chromium} "$@"\n')
    wrapper.chmod(0o755)
    return str(wrapper)


def hostile_events() -> list[dict]:
    """Visitors landing on a page whose path is markup, then the home page, with a form error on it."""
    events = []
    for n in range(HOSTILE_VISITORS):
        at = int(DEFAULT_START.timestamp() * 1000) + n * (DAYS * 86_400_000 // HOSTILE_VISITORS)
        base = {"channel": "web", "anonymous_id": f"hostile-{n}", "properties": {}}
        events += [
            {**base, "event_id": f"hostile-{n}-1", "event_type": "page_view", "event_time": at,
             "page_url": f"https://shop.example.com/{HOSTILE}", "page_title": HOSTILE},
            {**base, "event_id": f"hostile-{n}-2", "event_type": "form_error", "event_time": at + 5_000,
             "page_url": f"https://shop.example.com/{HOSTILE}", "form_id": "f", "error_type": "required_field"},
            {**base, "event_id": f"hostile-{n}-3", "event_type": "page_view", "event_time": at + 20_000,
             "page_url": "https://shop.example.com/", "page_title": HOSTILE},
        ]
    return events


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dashboard")
    source = folder / "events.jsonl"
    write_jsonl(generate_events(EVENTS, seed=11, span_s=DAYS * 86_400) + hostile_events(), source)
    warehouse = f"duckdb:{folder / 'w.duckdb'}"
    assert main(["run", "--source", f"file:{source}", "--warehouse", warehouse,
                 "--output-dir", str(folder / "runs")]) == 0
    html = folder / "dashboard.html"
    started = time.monotonic()
    assert main(["report", "--warehouse", warehouse, "--html", str(html)]) == 0
    return {"html": html, "seconds": time.monotonic() - started, "folder": folder}


@pytest.fixture(scope="module")
def browser(offline_chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Belt and braces with the namespace: no name resolves and every proxied request goes nowhere.
        launched = playwright.chromium.launch(executable_path=offline_chromium, args=[
            "--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def opened(browser, dashboard):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    seen = {"requests": [], "errors": [], "dialogs": []}
    page.on("request", lambda request: seen["requests"].append(request.url))
    page.on("console", lambda message: seen["errors"].append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    page.on("dialog", lambda dialog: (seen["dialogs"].append(dialog.message), dialog.dismiss()))
    page.goto(dashboard["html"].as_uri())
    page.wait_for_function(f"document.querySelectorAll('.chart .main-svg').length >= {len(CHARTS)}")
    yield page, seen
    page.close()


def test_the_page_is_one_small_file_written_in_seconds(dashboard, capsys):
    html = dashboard["html"].read_text(encoding="utf-8")
    assert "cdn." not in html.lower().split("<script>", 1)[0]  # no stylesheet or script from elsewhere
    assert '<script src=' not in html and '<link ' not in html
    assert dashboard["seconds"] < 30
    assert dashboard["html"].stat().st_size < 8_000_000  # plotly.js is about 4.6 MB of it
    assert HOSTILE not in html  # the data is escaped for the script element
    # The terminal report is printed as before.
    assert main(["report", "--warehouse", f"duckdb:{dashboard['folder'] / 'w.duckdb'}"]) == 0
    assert "journeys of" in capsys.readouterr().out


def test_every_chart_draws_data_offline_without_errors(opened, dashboard):
    page, seen = opened
    for chart in CHARTS:
        points = page.eval_on_selector(f"#{chart}", POINTS)
        assert points and max(points) > 0, f"{chart} has no data: {points}"
    for tile in ("journeys", "customers", "conversion", "bounce", "escalation", "effort"):
        assert page.text_content(f"#tile-{tile}-value") not in ("", "-")
    assert page.text_content("#chat-csat") != "-"
    assert seen["requests"] == [dashboard["html"].as_uri()]
    assert seen["errors"] == [] and seen["dialogs"] == []
    page.screenshot(path=str(dashboard["folder"] / "dashboard.png"), full_page=True)
    target = os.environ.get("JOURNEYS_DASHBOARD_SCREENSHOT")  # docs/dashboard.png is made this way
    if target:
        page.screenshot(path=target, full_page=True)
    assert (dashboard["folder"] / "dashboard.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_hostile_page_name_shows_as_text(opened):
    page, seen = opened
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    shown = page.evaluate("""(needle) => [...document.querySelectorAll('svg text, svg tspan')]
        .filter(n => n.textContent.includes(needle)).length""", HOSTILE)
    assert shown > 0  # drawn as its own characters, in the Sankey and the friction hotspots
    assert seen["dialogs"] == [] and seen["errors"] == []


def test_filters_change_the_charts(opened):
    page, seen = opened
    journeys = lambda: page.text_content("#tile-journeys-value")
    traces = lambda: page.eval_on_selector("#trend-journeys", "d => d.data.length")
    everything, channels = journeys(), traces()
    assert channels > 1
    page.select_option("#filter-channel", "direct")
    assert traces() == 1 and journeys() != everything
    page.select_option("#filter-channel", "")
    assert traces() == channels and journeys() == everything
    # The last three days: the tiles now compare with the three days before.
    last = page.eval_on_selector("#filter-to", "e => e.value")
    start = page.evaluate("(d) => new Date(Date.parse(d) - 2 * 86400000).toISOString().slice(0, 10)", last)
    page.fill("#filter-from", start)
    page.dispatch_event("#filter-from", "change")
    assert journeys() != everything
    assert " vs " in page.text_content("#tile-journeys-delta")
    days = page.eval_on_selector("#trend-journeys", "d => d.data[0].x.length")
    assert days == 3
    page.click("#filter-reset")
    assert journeys() == everything
    assert seen["errors"] == []
