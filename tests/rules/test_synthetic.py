"""Properties of the synthetic journey generator (journeys.synthetic)."""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import datetime, timezone
from urllib.parse import urlsplit

import pytest
from fastavro.schema import load_schema
from fastavro.validation import validate
from support.paths import SCHEMAS_DIR

from journeys.generators.synthetic import (
    DEFAULT_START,
    SyntheticProfile,
    generate_events,
    write_jsonl,
)

SCHEMAS = SCHEMAS_DIR
CHANNELS = ("web", "app", "chat")
EVENT_TYPES = {
    "web": {"page_view", "page_ping", "click", "form_start", "form_submit", "form_error", "search", "error",
            "login", "purchase"},
    "app": {"app_open", "screen_view", "tap", "app_background", "app_foreground", "form_start", "form_submit",
            "form_error", "search", "error", "login", "purchase"},
    "chat": {"conversation_start", "message", "handoff_requested", "agent_joined", "conversation_end", "csat"},
}
SAMPLE_N = 20_000
SAMPLE_SEED = 11
START_MS = int(DEFAULT_START.timestamp() * 1000)
DAY_MS = 86_400_000


@pytest.fixture(scope="module")
def sample() -> list[dict]:
    return generate_events(SAMPLE_N, seed=SAMPLE_SEED)


@pytest.fixture(scope="module")
def unique(sample) -> list[dict]:
    """First copy of each event, in contract order (event_time, then event_id)."""
    seen, out = set(), []
    for ev in sample:
        if ev["event_id"] not in seen:
            seen.add(ev["event_id"])
            out.append(ev)
    return sorted(out, key=lambda e: (e["event_time"], e["event_id"]))


def by_device(events, types):
    groups = defaultdict(list)
    for ev in events:
        if ev["event_type"] in types:
            groups[ev["anonymous_id"]].append(ev)
    return groups.values()


def by_conversation(events):
    groups = defaultdict(list)
    for ev in events:
        if ev["channel"] == "chat":
            groups[ev["conversation_id"]].append(ev)
    return groups.values()


def page_of(ev):
    return urlsplit(ev["page_url"]).path if ev["channel"] == "web" else ev["screen_name"]


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in number if d.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# -- friction detectors: one per contract section 2 pattern -------------------

def has_rage_click(events):
    for clicks in by_device(events, {"click", "tap"}):
        run = 1
        for a, b in zip(clicks, clicks[1:]):
            near = abs(a["x"] - b["x"]) + abs(a["y"] - b["y"]) < 30
            same = a["element_id"] is not None and a["element_id"] == b["element_id"]
            run = run + 1 if b["event_time"] - a["event_time"] < 1000 and (same or near) else 1
            if run >= 3:
                return True
    return False


def has_form_abandon(events):
    for forms in by_device(events, {"form_start", "form_submit"}):
        open_forms = set()
        for ev in forms:
            (open_forms.add if ev["event_type"] == "form_start" else open_forms.discard)(ev["form_id"])
        if open_forms:
            return True
    return False


def has_quick_back(events):
    for views in by_device(events, {"page_view", "screen_view"}):
        for a, b, c in zip(views, views[1:], views[2:]):
            if page_of(a) == page_of(c) != page_of(b) and c["event_time"] - b["event_time"] < 10_000:
                return True
    return False


def has_page_loop(events):
    for views in by_device(events, {"page_view", "screen_view"}):
        for i, ev in enumerate(views):
            window = [v for v in views[i:] if v["event_time"] - ev["event_time"] <= 30 * 60_000]
            if sum(page_of(v) == page_of(ev) for v in window) >= 3:
                return True
    return False


def has_search_refine(events):
    for searches in by_device(events, {"search"}):
        for a, b, c in zip(searches, searches[1:], searches[2:]):
            if b["event_time"] - a["event_time"] < 60_000 and c["event_time"] - b["event_time"] < 60_000:
                return True
    return False


def has_bot_escalation(events):
    for conv in by_conversation(events):
        bot_spoke = False
        for ev in conv:
            bot_spoke |= ev["event_type"] == "message" and ev["sender"] == "bot"
            if bot_spoke and ev["event_type"] in ("handoff_requested", "agent_joined"):
                return True
    return False


def has_long_wait(events):
    for conv in by_conversation(events):
        asked = [e["event_time"] for e in conv if e["event_type"] == "handoff_requested"]
        joined = [e["event_time"] for e in conv if e["event_type"] == "agent_joined"]
        if asked and joined and joined[0] - asked[0] > 60_000:
            return True
    return False


def stitched(events):
    """anonymous_id -> user_id, from any event that carries one."""
    return {e["anonymous_id"]: e["user_id"] for e in events if e["user_id"]}


def has_channel_switch(events):
    ids = stitched(events)
    last_digital = {}
    for ev in events:
        who = ids.get(ev["anonymous_id"], ev["anonymous_id"])
        if ev["channel"] != "chat":
            last_digital[who] = ev["event_time"]
        elif ev["event_type"] == "conversation_start" and who in last_digital:
            if ev["event_time"] - last_digital[who] <= 30 * 60_000:
                return True
    return False


def has_repeat_contact(events):
    ids = stitched(events)
    last_start = {}
    for ev in events:
        if ev["event_type"] == "conversation_start":
            who = ids.get(ev["anonymous_id"], ev["anonymous_id"])
            if ev["event_time"] - last_start.get(who, -10**15) < DAY_MS:
                return True
            last_start[who] = ev["event_time"]
    return False


FRICTION = {
    "rage_click": has_rage_click,
    "error": lambda evs: any(e["event_type"] == "error" for e in evs),
    "form_error": lambda evs: any(e["event_type"] == "form_error" for e in evs),
    "form_abandon": has_form_abandon,
    "quick_back": has_quick_back,
    "page_loop": has_page_loop,
    "search_no_results": lambda evs: any(e["event_type"] == "search" and e["search_results"] == 0 for e in evs),
    "search_refine": has_search_refine,
    "bot_escalation": has_bot_escalation,
    "long_wait": has_long_wait,
    "unresolved_chat": lambda evs: any(
        e["event_type"] == "conversation_end" and e["resolution"] != "resolved" for e in evs),
    "channel_switch": has_channel_switch,
    "repeat_contact": has_repeat_contact,
}


# -- tests -----------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 2, 7, 199, 1_000, 5_003])
def test_exact_count(n):
    assert len(generate_events(n, seed=3)) == n


def test_sample_count(sample):
    assert len(sample) == SAMPLE_N


def test_deterministic():
    assert generate_events(3_000, seed=5) == generate_events(3_000, seed=5)
    assert generate_events(3_000, seed=5) != generate_events(3_000, seed=6)


def test_start_and_span_are_honoured():
    start = datetime(2025, 6, 1, 12, tzinfo=timezone.utc)
    events = generate_events(4_000, seed=2, start=start, span_s=6 * 3600)
    lo = int(start.timestamp() * 1000)
    assert all(lo <= e["event_time"] < lo + 6 * 3_600_000 for e in events)


def test_events_validate_against_channel_schema(sample):
    schemas = {c: load_schema(str(SCHEMAS / f"{c}.avsc")) for c in CHANNELS}
    names = {c: [f["name"] for f in schemas[c]["fields"]] for c in CHANNELS}
    for ev in sample:
        assert list(ev) == names[ev["channel"]], ev  # every schema field, nothing else (no user_agent)
        assert validate(ev, schemas[ev["channel"]], raise_errors=True)


def test_field_types_and_values(sample):
    for ev in sample:
        assert ev["event_type"] in EVENT_TYPES[ev["channel"]], ev
        assert type(ev["event_time"]) is int
        assert isinstance(ev["anonymous_id"], str) and ev["anonymous_id"]
        assert ev["user_id"] is None or isinstance(ev["user_id"], str)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in ev["properties"].items())
        for field in ("x", "y", "search_results", "csat_score"):
            assert ev.get(field) is None or type(ev[field]) is int, (field, ev)
        assert ev.get("revenue") is None or type(ev["revenue"]) is float
        if ev["channel"] == "web":
            assert re.fullmatch(r"https://shop\.example\.com/[^\s]*", ev["page_url"]), ev
            assert ev["referrer"] is None or re.fullmatch(r"https://[^/\s]+/[^\s]*", ev["referrer"]), ev
        if ev["channel"] == "chat":
            assert isinstance(ev["conversation_id"], str) and ev["conversation_id"]
            assert ev["sender"] in ("customer", "bot", "agent", "system")
            if ev["event_type"] == "conversation_end":
                assert ev["resolution"] in ("resolved", "unresolved", "abandoned")
            if ev["event_type"] == "csat":
                assert 1 <= ev["csat_score"] <= 5
        if ev["event_type"] == "purchase":
            assert ev["order_id"] and ev["revenue"] > 0


def test_event_times_within_span(sample):
    margin = 5 * 60_000
    assert all(START_MS <= e["event_time"] < START_MS + DAY_MS + margin for e in sample)
    spread = max(e["event_time"] for e in sample) - min(e["event_time"] for e in sample)
    assert spread > DAY_MS * 0.8  # the day is actually covered, not one burst


def test_all_channels_present(sample):
    counts = Counter(e["channel"] for e in sample)
    assert set(counts) == set(CHANNELS)
    assert all(counts[c] > SAMPLE_N * 0.03 for c in CHANNELS)


def test_duplicates_are_exact_later_copies(sample):
    positions = defaultdict(list)
    for i, ev in enumerate(sample):
        positions[ev["event_id"]].append(i)
    repeated = {k: v for k, v in positions.items() if len(v) > 1}
    assert 0.002 * SAMPLE_N <= sum(len(v) - 1 for v in repeated.values()) <= 0.01 * SAMPLE_N
    for first, *later in repeated.values():
        for i in later:
            assert sample[i] == sample[first] and sample[i] is not sample[first]
            assert sample[i]["properties"] is not sample[first]["properties"]


def test_some_events_arrive_slightly_late(sample):
    seen, newest, late = set(), 0, []
    for ev in sample:
        if ev["event_id"] in seen:
            continue
        seen.add(ev["event_id"])
        if ev["event_time"] < newest:
            late.append(newest - ev["event_time"])
        newest = max(newest, ev["event_time"])
    assert 0.002 * SAMPLE_N < len(late) < 0.03 * SAMPLE_N
    assert max(late) <= SyntheticProfile().late_s[1] * 1000


def test_no_delivery_noise_when_disabled():
    quiet = SyntheticProfile(late_rate=0.0, duplicate_rate=0.0)
    events = generate_events(5_000, seed=4, profile=quiet)
    assert len(events) == 5_000 and len({e["event_id"] for e in events}) == 5_000
    times = [e["event_time"] for e in events]
    assert times == sorted(times)


def test_login_links_devices_across_channels(sample):
    channels = defaultdict(set)
    for ev in sample:
        if ev["user_id"]:
            channels[ev["user_id"]].add((ev["channel"], ev["anonymous_id"]))
    logins = {e["user_id"] for e in sample if e["event_type"] == "login"}
    assert logins and None not in logins
    cross = [u for u in logins if len({c for c, _ in channels[u]}) >= 2]
    assert cross, "no logged-in user seen on two channels"
    anonymous = {e["anonymous_id"] for e in sample} - set(stitched(sample))
    assert len(anonymous) > len(set(stitched(sample)))  # most visitors stay anonymous


def test_anonymous_before_login(unique):
    first_seen = {}
    for ev in unique:
        first_seen.setdefault(ev["anonymous_id"], ev)
    logins = [e for e in unique if e["event_type"] == "login"]
    assert any(first_seen[e["anonymous_id"]]["user_id"] is None for e in logins)


def test_login_sticks_to_the_device(unique):
    signed_in = {}
    for ev in unique:
        if ev["event_type"] == "login":
            signed_in[ev["anonymous_id"]] = ev["user_id"]
        elif ev["anonymous_id"] in signed_in:
            assert ev["user_id"] == signed_in[ev["anonymous_id"]], ev
    assert signed_in


def sessions(events):
    """Per-device runs split by the 30-minute inactivity gap."""
    for device in by_device(events, set().union(*EVENT_TYPES.values())):
        run = [device[0]]
        for a, b in zip(device, device[1:]):
            if b["event_time"] - a["event_time"] > 30 * 60_000:
                yield run
                run = []
            run.append(b)
        yield run


def test_friction_rates_are_plausible(unique):
    runs = list(sessions(unique))
    for pattern in ("rage_click", "error", "form_error", "search_no_results", "search_refine", "bot_escalation",
                    "long_wait", "unresolved_chat"):
        share = sum(FRICTION[pattern](run) for run in runs) / len(runs)
        assert 0.003 < share < 0.10, (pattern, share)


def test_acquisition_sources(unique):
    landings = [e for e in unique if e["event_type"] == "page_view" and (
        e["referrer"] is None or not e["referrer"].startswith("https://shop.example.com"))]
    mediums = {e["utm_medium"] for e in landings}
    assert {"cpc", "email", "affiliate", "display"} <= mediums and mediums & {"social", "paid_social"}
    hosts = {urlsplit(e["referrer"]).hostname for e in landings if e["referrer"]}
    assert {"www.google.com", "www.facebook.com"} <= hosts
    assert any(e["referrer"] is None and e["utm_medium"] is None for e in landings)


def test_page_pings_every_heartbeat(unique):
    pings = [e for e in unique if e["event_type"] == "page_ping"]
    assert pings
    gaps = Counter()
    for device in by_device(unique, {"page_ping"}):
        gaps.update(b["event_time"] - a["event_time"] for a, b in zip(device, device[1:]))
    assert gaps.most_common(1)[0][0] == 10_000


def test_chat_messages_carry_personal_data(unique):
    texts = [e["message_text"] for e in unique if e["channel"] == "chat" and e["message_text"]]
    assert any(re.search(r"[\w.]+@[\w.]+\.\w+", t) for t in texts)
    assert any(re.search(r"\+\d{1,2}[ -]\d", t) for t in texts)
    cards = [m for t in texts for m in re.findall(r"\b(?:\d{4} ){3}\d{4}\b", t)]
    assert cards and all(luhn_ok(c) for c in cards)


def test_several_journeys_per_customer(unique):
    gaps = 0
    for device in by_device(unique, set().union(*EVENT_TYPES.values())):
        gaps += any(b["event_time"] - a["event_time"] > 30 * 60_000 for a, b in zip(device, device[1:]))
    assert gaps > 10


@pytest.mark.parametrize("pattern", sorted(FRICTION))
def test_friction_pattern_present(unique, pattern):
    assert FRICTION[pattern](unique), pattern


def test_write_jsonl_round_trip(tmp_path):
    events = generate_events(500, seed=9)
    path = tmp_path / "events.jsonl"
    assert write_jsonl(events, path) == 500
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == events
