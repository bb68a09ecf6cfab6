"""Parity with Snowplow's own expected outputs (dbt-snowplow-web 0.15.2 integration tests).

The reference events (tests/reference/snowplow/, Apache-2.0, see its README)
are imported with ``journeys.snowplow_import``, run through the real bounded
pipeline from a file source into a temporary DuckDB warehouse, and compared
with Snowplow's expected page views and sessions, matched by the page view's
event_id. Nothing our pipeline computes is hard-coded here: the tests assert
how many values match exactly, and that every mismatch falls into one of the
categories explained in docs/snowplow-parity.md, each recognised from the
source rows, not from a list of ids.

Run ``pytest tests/test_snowplow_parity.py -s`` to print the parity report.
"""
from __future__ import annotations

import csv
import json
import math
from collections import Counter
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from support.paths import REFERENCE as REFERENCE_ROOT

from journeys.core.config import Config, ValidationConfig
from journeys.core.events import EventRules
from journeys.generators.snowplow_import import (
    Skipped,
    convert_rows,
    import_snowplow,
    map_row,
    page_view_id,
    parse_snowplow_time,
    read_snowplow_csv,
    snowplow_to_events,
)
from journeys.pipelines.run import RunRequest, run_ingest
from journeys.pipelines.sources import FILE, Source
from journeys.rules.identity import stitch
from journeys.rules.journey_builder import build_customer_journeys

REFERENCE = REFERENCE_ROOT / "snowplow"
EVENTS_CSV = REFERENCE / "source" / "snowplow_web_events.csv"
PAGE_VIEWS_CSV = REFERENCE / "expected" / "snowplow_web_page_views_expected.csv"
SESSIONS_CSV = REFERENCE / "expected" / "default" / "snowplow_web_sessions_expected.csv"
# The settings of Snowplow's test run (reference README, "Caveats").
DAYS_LATE_ALLOWED = timedelta(days=3)
MAX_SESSION_DAYS = timedelta(days=3)
HEARTBEAT_S = 10


def _ms(text: str) -> int:
    return math.floor(parse_snowplow_time(text).timestamp() * 1000 + 0.5)


def _whole_seconds_between(start_ms: int, end_ms: int) -> int:
    """Snowplow's absolute time: datediff in seconds, i.e. second boundaries crossed."""
    return end_ms // 1000 - start_ms // 1000


def _csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# --- our side -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    out = tmp_path_factory.mktemp("snowplow") / "events.jsonl"
    written, skipped = import_snowplow(EVENTS_CSV, out)
    return out, written, skipped


@pytest.fixture(scope="module")
def ours(imported, tmp_path_factory):
    """The real bounded pipeline on the imported JSONL, into a temporary DuckDB; its rows."""
    jsonl, _, _ = imported
    work = tmp_path_factory.mktemp("snowplow-run")
    db = work / "warehouse.duckdb"
    summary = run_ingest(RunRequest(Source(FILE, str(jsonl)), work / "runs", f"duckdb:{db}"))
    con = duckdb.connect(str(db), read_only=True)
    try:
        views = _rows(con, "SELECT event_id, journey_id, customer_id, anonymous_id, page,"
                           " epoch_ms(viewed_at) AS viewed_at, seq, time_on_page_s, engaged_time_s FROM page_views")
        journeys = _rows(con, "SELECT journey_id, customer_id, epoch_ms(started_at) AS started_at,"
                              " epoch_ms(ended_at) AS ended_at, event_count, page_view_count, engaged_time_s, bounced"
                              " FROM journeys")
        stored = _rows(con, "SELECT event_id, event_type, record FROM events")
    finally:
        con.close()
    return {"summary": summary, "views": {v["event_id"]: v for v in views},
            "journeys": {j["journey_id"]: j for j in journeys}, "events": stored}


def _rows(con, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


# --- Snowplow's side ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def source_rows():
    return list(read_snowplow_csv(EVENTS_CSV))


@pytest.fixture(scope="module")
def expected_views():
    return {r["event_id"]: r for r in _csv(PAGE_VIEWS_CSV)}


@pytest.fixture(scope="module")
def expected_sessions():
    return _csv(SESSIONS_CSV)


def snowplow_drop_reasons(row: dict, rows: list[dict]) -> list[str]:
    """Why Snowplow's model drops this page_view row (reference README, "Caveats"), from the source rows."""
    reasons = []
    pv_id = page_view_id(row)
    if pv_id is None:
        reasons.append("null_page_view_id")
    else:
        same = [r for r in rows if r["event_name"] == "page_view" and page_view_id(r) == pv_id
                and r["event_id"] != row["event_id"]]
        if any(_ms(r["derived_tstamp"]) < _ms(row["derived_tstamp"]) for r in same):
            reasons.append("duplicate_page_view_id")  # Snowplow keeps the earliest derived_tstamp
    if _ms(row["dvce_sent_tstamp"]) - _ms(row["dvce_created_tstamp"]) > DAYS_LATE_ALLOWED / timedelta(milliseconds=1):
        reasons.append("sent_more_than_3_days_late")
    session_start = min(_ms(r["collector_tstamp"]) for r in rows if r["domain_sessionid"] == row["domain_sessionid"])
    if _ms(row["collector_tstamp"]) - session_start > MAX_SESSION_DAYS / timedelta(milliseconds=1):
        reasons.append("past_max_session_days")
    return reasons


# --- the comparison ---------------------------------------------------------------------------------------


def session_views(session: dict, expected_views: dict) -> set[str]:
    """The expected page views of one sessions row (a session id can have several rows: incremental runs)."""
    start, end = _ms(session["start_tstamp"]), _ms(session["end_tstamp"])
    return {e for e, v in expected_views.items() if v["domain_sessionid"] == session["domain_sessionid"]
            and start <= _ms(v["start_tstamp"]) <= end}


def session_category(session: dict, expected_views: dict, ours: dict, source_rows: list[dict]) -> str:
    """``equal`` when one journey holds exactly the session's page views, else why not."""
    views = session_views(session, expected_views)
    if not views:
        return "ping_only"
    journeys = {ours["views"][e]["journey_id"] for e in views}
    if len(journeys) > 1:
        return "split_by_journey_rules"
    (journey,) = journeys
    in_journey = {e for e, v in ours["views"].items() if v["journey_id"] == journey}
    extra = in_journey - views
    if not extra:
        return "equal"
    if extra & set(expected_views):
        return "merged_sessions"
    by_id = {r["event_id"]: r for r in source_rows}
    if all(snowplow_drop_reasons(by_id[e], source_rows) for e in extra):
        return "holds_view_snowplow_drops"
    return "unexplained"


def session_events(session_id: str, rows: list[dict]) -> list[int]:
    return sorted(_ms(r["derived_tstamp"]) for r in rows if r["domain_sessionid"] == session_id)


# --- tests: the adapter ---------------------------------------------------------------------------------------


def test_every_reference_row_is_imported(imported, source_rows):
    path, written, skipped = imported
    assert (written, skipped) == (len(source_rows), []) == (160, [])
    events = [json.loads(line) for line in path.read_text().splitlines()]
    types = Counter(e["event_type"] for e in events)
    assert types["page_view"] == 50 and types["page_ping"] == 8 and types["click"] == 10
    assert types["struct_event"] == 6  # Snowplow structured events (event_name "event")
    views = [e for e in events if e["event_type"] == "page_view"]
    assert sum("page_view_id" in e["properties"] for e in views) == 49  # one has {"id": null}
    assert all(e["channel"] == "web" and e["event_time"].endswith("Z") for e in events)
    # event_time is derived_tstamp, the other timestamps are kept.
    first = events[0]
    assert first["event_time"] == first["properties"]["derived_tstamp"]
    assert {"collector_tstamp", "dvce_created_tstamp", "dvce_sent_tstamp"} <= set(first["properties"])
    assert "user_ipaddress" not in json.dumps(events)
    # The row with no domain_userid falls back to network_userid.
    fallback = [e for e in events if e["properties"].get("anonymous_id_source") == "network_userid"]
    assert len(fallback) == sum(1 for r in source_rows if not r["domain_userid"]) >= 1


def _row(**overrides) -> dict:
    row = {"event_id": "e1", "event_name": "page_view", "event": "page_view", "platform": "web",
           "derived_tstamp": "2021-03-01 20:39:52.944", "domain_userid": "d1", "page_url": "https://x.test/a?b=1"}
    row.update(overrides)
    return row


@pytest.mark.parametrize("overrides, reason", [
    ({"event_id": ""}, "missing_event_id"),
    ({"event_name": "", "event": ""}, "missing_event_name"),
    ({"platform": "mob"}, "unsupported_platform"),
    ({"derived_tstamp": ""}, "missing_timestamp"),
    ({"derived_tstamp": "yesterday"}, "invalid_timestamp"),
    ({"domain_userid": ""}, "missing_anonymous_id"),
])
def test_rows_that_cannot_be_mapped_are_skipped_with_a_reason(overrides, reason):
    rows = [_row(), _row(**overrides), ["not", "a", "dict"]]
    good, bad, not_a_row = convert_rows(rows)
    assert isinstance(good, dict)
    skipped = []
    assert list(snowplow_to_events(rows, skipped=skipped)) == [good] and skipped == [bad, not_a_row]
    assert isinstance(bad, Skipped) and (bad.row, bad.reason) == (2, reason) and bad.detail
    assert not_a_row == Skipped(3, "not_a_row", "list")


def test_mapping_of_fields_and_time_formats():
    event = map_row(_row(event_name="link_click", event="unstruct", user_id="u1", page_referrer="https://r.test/",
                         mkt_source="news", mkt_medium="email", mkt_campaign="c", useragent="UA",
                         domain_sessionid="s1", se_value="1.5",
                         unstruct_event_com_snowplowanalytics_snowplow_link_click_1_0_1=json.dumps(
                             [{"elementId": "buy", "targetUrl": "https://x.test/buy"}]),
                         contexts_com_snowplowanalytics_snowplow_web_page_1_0_0='[{"id":"pv1"}]'))
    assert event["event_type"] == "click" and event["element_id"] == "buy"
    assert (event["user_id"], event["referrer"], event["utm_source"], event["utm_medium"], event["utm_campaign"],
            event["user_agent"]) == ("u1", "https://r.test/", "news", "email", "c", "UA")
    assert event["properties"]["page_view_id"] == "pv1" and event["properties"]["target_url"] == "https://x.test/buy"
    assert event["properties"]["domain_sessionid"] == "s1" and event["properties"]["se_value"] == "1.5"
    for text in ("2021-03-01 20:39:52.944", "2021-03-01T20:39:52.944Z", "2021-03-01 20:39:52.944123 UTC",
                 "2021-03-01T21:39:52.9441+01:00"):
        assert map_row(_row(derived_tstamp=text))["event_time"] == "2021-03-01T20:39:52.944Z", text
    late = map_row(_row(derived_tstamp="", dvce_created_tstamp="2021-03-01 20:39:50.000"))
    assert late["event_time"] == "2021-03-01T20:39:50.000Z"
    assert late["properties"]["event_time_source"] == "dvce_created_tstamp"
    purchase = map_row(_row(event_name="transaction", tr_orderid="o1", tr_total="12.5"))
    assert (purchase["event_type"], purchase["order_id"], purchase["revenue"]) == ("purchase", "o1", 12.5)
    assert map_row(_row(event_name="cmp_visible"))["event_type"] == "cmp_visible"  # unknown names are kept


# --- tests: parity ---------------------------------------------------------------------------------------------


def test_run_arithmetic(ours, source_rows):
    summary = ours["summary"]
    assert summary.balanced
    duplicated_ids = sum(n - 1 for n in Counter(r["event_id"] for r in source_rows).values() if n > 1)
    assert (summary.input, summary.duplicates, summary.dead_letters) == (len(source_rows), duplicated_ids, 0)
    assert duplicated_ids == 3


def test_pipeline_equals_the_pure_rules(ours, source_rows):
    """The Beam run and the pure functions (EventRules, stitch, build_customer_journeys) agree."""
    latest = max(_ms(r["collector_tstamp"]) for r in source_rows)
    rules = EventRules(ValidationConfig(min_event_time="2000-01-01T00:00:00Z"), now_ms=latest + 86_400_000)
    events = [rules.event_from_record(item, source="snowplow", offset=n)
              for n, item in enumerate(snowplow_to_events(source_rows))]
    customers = stitch(events)
    by_customer: dict[str, list] = {}
    for event in events:
        by_customer.setdefault(customers[event.anonymous_id], []).append(event)
    pure = {}
    for customer, customer_events in by_customer.items():
        for view in build_customer_journeys(customer, customer_events, Config()).page_views:
            pure[view.event_id] = (view.journey_id, view.seq, view.page, view.viewed_at, view.engaged_time_s,
                                   view.time_on_page_s)
    piped = {e: (v["journey_id"], v["seq"], v["page"], v["viewed_at"], v["engaged_time_s"], v["time_on_page_s"])
             for e, v in ours["views"].items()}
    assert piped == pure


def test_every_expected_page_view_is_found(ours, expected_views):
    found = set(expected_views) & set(ours["views"])
    assert (len(found), len(expected_views)) == (43, 43)


def test_every_extra_page_view_is_one_snowplow_drops(ours, expected_views, source_rows):
    by_id = {r["event_id"]: r for r in source_rows}
    extra = set(ours["views"]) - set(expected_views)
    reasons = {e: snowplow_drop_reasons(by_id[e], source_rows) for e in extra}
    assert all(reasons.values()), {e: r for e, r in reasons.items() if not r}
    assert Counter(r for rs in reasons.values() for r in rs) == {
        "past_max_session_days": 3, "sent_more_than_3_days_late": 1, "null_page_view_id": 1,
        "duplicate_page_view_id": 1}
    # ... and no expected view would be dropped by those rules.
    assert not any(snowplow_drop_reasons(by_id[e], source_rows) for e in expected_views)


def test_page_view_fields_match(ours, expected_views):
    pairs = [(v, ours["views"][e]) for e, v in expected_views.items()]
    engaged = sum(float(v["engaged_time_in_s"]) == o["engaged_time_s"] for v, o in pairs)
    start = sum(_ms(v["start_tstamp"]) == o["viewed_at"] for v, o in pairs)
    page = sum(v["page_urlpath"] == o["page"] for v, o in pairs)
    assert (engaged, start, page, len(pairs)) == (43, 43, 43, 43)
    assert sum(float(v["engaged_time_in_s"]) > 0 for v, _ in pairs) == 1  # the data has one view with pings


def test_absolute_time(ours, expected_views):
    """Snowplow: last ping - view (0 without pings). Ours: to the next view, else the device's last event there."""
    with_pings = {e: v for e, v in expected_views.items() if float(v["engaged_time_in_s"]) > 0}
    for e, v in with_pings.items():  # the view is its device's last: our time on page runs to its last ping
        ours_s = ours["views"][e]["time_on_page_s"]
        assert _whole_seconds_between(_ms(v["start_tstamp"]), _ms(v["start_tstamp"]) + round(ours_s * 1000)) \
            == int(v["absolute_time_in_s"])
    assert len(with_pings) == 1
    without = [e for e in expected_views if e not in with_pings]
    assert all(int(expected_views[e]["absolute_time_in_s"]) == 0 for e in without)
    timed = sum(ours["views"][e]["time_on_page_s"] is not None for e in without)
    assert (timed, len(without)) == (31, 42)  # a definition difference, not a mismatch (docs/snowplow-parity.md)


def test_sequence_in_session(ours, expected_views, expected_sessions, source_rows):
    categories = {}
    for session in expected_sessions:
        for e in session_views(session, expected_views):
            categories[e] = session_category(session, expected_views, ours, source_rows)
    equal = [e for e, v in expected_views.items() if int(v["page_view_in_session_index"]) == ours["views"][e]["seq"]]
    in_equal_sessions = [e for e, c in categories.items() if c == "equal"]
    assert all(e in equal for e in in_equal_sessions)
    assert (len(in_equal_sessions), len(equal), len(expected_views)) == (23, 33, 43)
    mismatched = Counter(categories[e] for e in expected_views if e not in equal)
    assert mismatched == {"split_by_journey_rules": 3, "merged_sessions": 4, "holds_view_snowplow_drops": 3}


def test_sessions(ours, expected_views, expected_sessions, source_rows):
    categories = Counter()
    compared = Counter()
    for session in expected_sessions:
        category = session_category(session, expected_views, ours, source_rows)
        categories[category] += 1
        if category == "split_by_journey_rules":  # our 30-min gap (or 24-h cap) cuts the tracker's session
            times = session_events(session["domain_sessionid"], source_rows)
            assert max(b - a for a, b in zip(times, times[1:])) > 1_800_000 or times[-1] - times[0] >= 86_400_000
        if category == "merged_sessions":  # another session of the same customer within 30 min
            views = session_views(session, expected_views)
            journey = ours["views"][next(iter(views))]["journey_id"]
            others = {expected_views[e]["domain_sessionid"] for e, v in ours["views"].items()
                      if v["journey_id"] == journey and e in expected_views}
            assert len(others) > 1
        if category == "ping_only":  # Snowplow gives pings without their page_view min_visit_length
            assert int(session["page_views"]) == 1 and float(session["engaged_time_in_s"]) == 5
            ping_time = _ms(session["end_tstamp"])
            assert any(j["started_at"] == ping_time and j["page_view_count"] == 0 and j["engaged_time_s"] == 0
                       for j in ours["journeys"].values())
        if category != "equal":
            continue
        views = session_views(session, expected_views)
        journey = ours["journeys"][ours["views"][next(iter(views))]["journey_id"]]
        compared["sessions"] += 1
        compared["page_views"] += int(session["page_views"]) == journey["page_view_count"]
        compared["engaged_time"] += float(session["engaged_time_in_s"]) == journey["engaged_time_s"]
        compared["start"] += _ms(session["start_tstamp"]) == journey["started_at"]
        compared["end"] += _ms(session["end_tstamp"]) == journey["ended_at"]
        compared["total_events"] += int(session["total_events"]) == journey["event_count"]
        compared["absolute_time"] += int(session["absolute_time_in_s"]) == _whole_seconds_between(
            journey["started_at"], journey["ended_at"])
        package_engaged = (int(session["page_views"]) >= 2
                           or float(session["engaged_time_in_s"]) / HEARTBEAT_S >= 2)
        compared["engaged_by_package_rule"] += package_engaged == (not journey["bounced"])
        compared["is_engaged_column"] += (session["is_engaged"].upper() == "TRUE") == (not journey["bounced"])
    assert categories == {"equal": 8, "split_by_journey_rules": 2, "merged_sessions": 4,
                          "holds_view_snowplow_drops": 1, "ping_only": 3}
    assert compared == {"sessions": 8, "page_views": 8, "engaged_time": 8, "start": 8, "end": 8,
                        "total_events": 8, "absolute_time": 8, "engaged_by_package_rule": 8,
                        # the test project's "view_page" conversion makes every session engaged
                        "is_engaged_column": 4}


def test_import_command_reports_skipped_rows(tmp_path, capsys):
    from journeys.generators.snowplow_import import main

    source = tmp_path / "export.csv"
    with open(source, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(_row()))
        writer.writeheader()
        writer.writerow(_row())
        writer.writerow(_row(event_id="e2", domain_userid=""))
    target = tmp_path / "events.jsonl"
    assert main(["--from", str(source), "--to", str(target)]) == 1
    out, err = capsys.readouterr()
    assert "rows 2 = events 1 + skipped 1" in out and "row 2: skipped, missing_anonymous_id" in err
    assert [json.loads(line)["event_id"] for line in target.read_text().splitlines()] == ["e1"]
    assert main(["--from", str(tmp_path / "missing.csv"), "--to", str(target)]) == 1
    with open(source, "a", newline="") as handle:  # enough good rows to fill the first read buffers
        writer = csv.DictWriter(handle, fieldnames=list(_row()))
        writer.writerows(_row(event_id=f"g{n}") for n in range(1000))
    source.write_bytes(source.read_bytes() + b"e3,\xff\xfe not UTF-8\n")
    written, skipped = import_snowplow(source, target)
    assert 1 <= written <= 1001 and [s.reason for s in skipped] == ["missing_anonymous_id", "unreadable_csv"]


def test_a_rerun_changes_nothing(imported, ours, tmp_path):
    """Snowplow's integration tests re-run incrementally; ours: the same input twice gives the same rows."""
    jsonl, _, _ = imported
    db = tmp_path / "warehouse.duckdb"
    for _ in range(2):
        run_ingest(RunRequest(Source(FILE, str(jsonl)), tmp_path / "runs", f"duckdb:{db}"))
    con = duckdb.connect(str(db), read_only=True)
    try:
        again = {row[0]: row[1:] for row in con.execute(
            "SELECT event_id, journey_id, seq, engaged_time_s, time_on_page_s FROM page_views").fetchall()}
    finally:
        con.close()
    assert again == {e: (v["journey_id"], v["seq"], v["engaged_time_s"], v["time_on_page_s"])
                     for e, v in ours["views"].items()}


def test_reference_files_are_the_published_ones():
    import hashlib

    digests = {path.relative_to(REFERENCE).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
               for path in (EVENTS_CSV, PAGE_VIEWS_CSV, SESSIONS_CSV)}
    assert digests == {
        "source/snowplow_web_events.csv": "fdf24d4e2d591f9e16e86be221ce88a71b48d37bcef2f09deadf100d3c7c665a",
        "expected/snowplow_web_page_views_expected.csv":
            "ae94ccf97c7fe851762b05052b09477aa3a03df51309e4b4fe94f630a2fea261",
        "expected/default/snowplow_web_sessions_expected.csv":
            "4007ade64c1d9c0a8ea2344dc8cdb20c2b4232e0452eb8b0485d2bb048305b5a",
    }
