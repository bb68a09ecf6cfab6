"""Friction rules (contract section 2), with expected rows worked out by hand.

Times are written as milliseconds after T0; ``row(...)`` adds T0 back.
"""
from __future__ import annotations

import pytest

from journeys.core.config import FrictionConfig
from journeys.core.events import Event
from journeys.core.model import PageView
from journeys.rules.friction import Detected, detect_friction, detect_repeat_contacts
from journeys.rules.pages import event_order

T0 = 1_700_000_000_000
S = 1_000  # one second in ms
HOUR = 3_600 * S
CFG = FrictionConfig()


def ev(event_id, event_type, channel, t, anonymous_id="w1", **fields) -> Event:
    return Event(event_id, event_type, channel, T0 + t, anonymous_id, **fields)


def web(event_id, event_type, t, anonymous_id="w1", page="/p", **fields) -> Event:
    url = f"https://shop.example{page}?q=1" if page else None
    return ev(event_id, event_type, "web", t, anonymous_id, page_url=url, **fields)


def app(event_id, event_type, t, anonymous_id="a1", screen="Home", **fields) -> Event:
    return ev(event_id, event_type, "app", t, anonymous_id, screen_name=screen, **fields)


def chat(event_id, event_type, t, conversation="conv-1", anonymous_id="chat1", **fields) -> Event:
    return ev(event_id, event_type, "chat", t, anonymous_id, conversation_id=conversation, **fields)


def pv(event_id, seq, page, t, time_on_page_s, anonymous_id="w1", channel="web") -> PageView:
    return PageView("j1", "cust", channel, anonymous_id, page, T0 + t, seq, time_on_page_s, 0.0,
                    seq == 1, False, event_id)


def row(friction_type, channel, page, t, detail, event_id) -> Detected:
    return Detected(friction_type, channel, page, T0 + t, detail, event_id)


def detect(events, page_views=(), config=CFG, kind=None) -> list[Detected]:
    rows = detect_friction(sorted(events, key=event_order), list(page_views), config)
    return [r for r in rows if kind is None or r.friction_type == kind]


def clicks(times, anonymous_id="w1", element="buy", prefix="c", **fields):
    return [web(f"{prefix}{i}", "click", t, anonymous_id, element_id=element, **fields)
            for i, t in enumerate(times, 1)]


# -- rage_click ------------------------------------------------------------------

def test_rage_click_999ms_apart_is_one_row_at_the_third_click():
    # 0, 999, 1998: each gap 999 < 1000
    assert detect(clicks([0, 999, 1998])) == [row("rage_click", "web", "/p", 1998, "buy (3 clicks)", "c3")]


@pytest.mark.parametrize("gap", [1000, 1001])
def test_rage_click_gap_of_1000ms_or_more_is_no_burst(gap):
    assert detect(clicks([0, gap, 2 * gap])) == []


def test_rage_click_a_1000ms_gap_starts_a_new_burst():
    # bursts [0, 999] and [1999, 2998, 3997]: 1999 - 999 = 1000 is not < 1000
    assert detect(clicks([0, 999, 1999, 2998, 3997])) == [
        row("rage_click", "web", "/p", 3997, "buy (3 clicks)", "c5")]


def test_rage_click_manhattan_distance_29_continues():
    # no element_id: (0,0) -> (10,19) -> (20,38): each step 10 + 19 = 29 < 30
    events = [web(f"c{i}", "click", i * 100, x=10 * i, y=19 * i) for i in range(3)]
    assert detect(events) == [row("rage_click", "web", "/p", 200, "@20,38 (3 clicks)", "c2")]


def test_rage_click_manhattan_distance_30_does_not():
    events = [web(f"c{i}", "click", i * 100, x=10 * i, y=20 * i) for i in range(3)]  # steps of 30
    assert detect(events) == []


def test_rage_click_distance_is_to_the_previous_click_not_the_first():
    # 20 px steps; the third click is 40 px from the first but 20 from the second
    events = [web(f"c{i}", "click", i * 100, x=20 * i, y=0) for i in range(3)]
    assert detect(events) == [row("rage_click", "web", "/p", 200, "@40,0 (3 clicks)", "c2")]


def test_rage_click_same_element_id_continues_even_far_apart():
    events = [web(f"c{i}", "click", i * 100, element_id="menu", x=300 * i, y=0) for i in range(3)]
    assert detect(events) == [row("rage_click", "web", "/p", 200, "menu (3 clicks)", "c2")]


def test_rage_click_null_element_ids_are_not_the_same_element():
    assert detect(clicks([0, 100, 200], element=None)) == []


def test_rage_click_a_click_elsewhere_ends_the_burst():
    events = clicks([0, 100, 300, 400], element="buy")
    events.append(web("c2b", "click", 200, element_id="help", x=900, y=900))  # between c2 and c3
    assert detect(events) == []  # bursts [c1 c2], [c2b], [c3 c4]


def test_rage_click_five_click_burst_is_one_row_at_the_third_click():
    assert detect(clicks([0, 200, 400, 600, 800])) == [
        row("rage_click", "web", "/p", 400, "buy (5 clicks)", "c3")]


def test_rage_click_two_devices_interleaving_make_no_burst_across_devices():
    events = [*clicks([0, 400], "w1", prefix="a"), *clicks([200, 600], "w2", prefix="b")]
    assert detect(events) == []


def test_rage_click_other_devices_and_events_in_between_do_not_break_a_burst():
    events = [*clicks([0, 400, 800], "w1", prefix="a"), *clicks([200, 600], "w2", prefix="b"),
              web("ping", "page_ping", 500, "w1")]
    assert detect(events) == [row("rage_click", "web", "/p", 800, "buy (3 clicks)", "a3")]


def test_rage_click_app_taps():
    events = [app(f"t{i}", "tap", i * 300, screen="Basket", element_id="pay") for i in range(3)]
    assert detect(events) == [row("rage_click", "app", "Basket", 600, "pay (3 taps)", "t2")]


def test_rage_click_without_page_url_takes_the_devices_latest_page_view():
    events = [web("v1", "page_view", 0, page="/cart"), web("v2", "page_view", 50, "w2", page="/other"),
              *clicks([100, 200, 300], page=None)]
    views = [pv("v1", 1, "/cart", 0, 0.1), pv("v2", 2, "/other", 50, None, "w2")]
    assert detect(events, views, kind="rage_click") == [
        row("rage_click", "web", "/cart", 300, "buy (3 clicks)", "c3")]


def test_rage_click_threshold_comes_from_config():
    config = FrictionConfig(rage_click_min_clicks=4)
    assert detect(clicks([0, 100, 200]), config=config) == []
    assert detect(clicks([0, 100, 200, 300]), config=config) == [
        row("rage_click", "web", "/p", 300, "buy (4 clicks)", "c4")]


# -- error, form_error -------------------------------------------------------------

def test_error_events_on_web_and_app():
    events = [web("e1", "error", 0, page="/checkout", error_type="js", error_code="TypeError"),
              app("e2", "error", 100, error_code="E42"), web("v1", "page_view", 200)]
    assert detect(events) == [row("error", "web", "/checkout", 0, "js:TypeError", "e1"),
                              row("error", "app", "Home", 100, "E42", "e2")]


def test_form_error_is_each_form_error_event():
    events = [web("f1", "form_start", 0, form_id="signup"),
              web("f2", "form_error", 100, form_id="signup", error_type="validation", error_code="bad_email"),
              web("f3", "form_submit", 200, form_id="signup")]
    # submitted after the error: a form_error but no form_abandon
    assert detect(events) == [row("form_error", "web", "/p", 100, "signup:bad_email", "f2")]


# -- form_abandon ------------------------------------------------------------------

def test_form_abandon_start_without_submit():
    events = [web("f1", "form_start", 0, page="/signup", form_id="signup"), web("v1", "page_view", 100)]
    assert detect(events) == [row("form_abandon", "web", "/signup", 0, "signup", "f1")]


def test_form_abandon_start_submit_start_is_abandoned_at_the_last_start():
    events = [web("f1", "form_start", 0, form_id="signup"), web("f2", "form_submit", 100, form_id="signup"),
              web("f3", "form_start", 200, form_id="signup")]
    assert detect(events) == [row("form_abandon", "web", "/p", 200, "signup", "f3")]


def test_form_abandon_start_start_submit_is_not_abandoned():
    events = [web("f1", "form_start", 0, form_id="signup"), web("f2", "form_start", 100, form_id="signup"),
              web("f3", "form_submit", 200, form_id="signup")]
    assert detect(events) == []


def test_form_abandon_submit_must_come_later_in_event_order():
    # same millisecond: "f1" < "f2", so the submit comes before the start
    events = [web("f1", "form_submit", 0, form_id="signup"), web("f2", "form_start", 0, form_id="signup")]
    assert detect(events) == [row("form_abandon", "web", "/p", 0, "signup", "f2")]


def test_form_abandon_is_per_form_id_and_ignores_events_without_one():
    events = [web("f1", "form_start", 0, form_id="login"), web("f2", "form_start", 100, form_id="search"),
              web("f3", "form_submit", 200, form_id="login"), web("f4", "form_start", 300)]
    assert detect(events) == [row("form_abandon", "web", "/p", 100, "search", "f2")]


def test_form_abandon_is_journey_wide_across_devices():
    events = [web("f1", "form_start", 0, form_id="claim"), app("f2", "form_submit", 100, form_id="claim")]
    assert detect(events) == []


# -- quick_back --------------------------------------------------------------------

def test_quick_back_with_9_9s_on_b():
    views = [pv("v1", 1, "/a", 0, 5.0), pv("v2", 2, "/b", 5_000, 9.9), pv("v3", 3, "/a", 14_900, None)]
    assert detect([], views) == [row("quick_back", "web", "/a", 14_900, "/b", "v3")]


def test_quick_back_not_with_10s_on_b():
    views = [pv("v1", 1, "/a", 0, 5.0), pv("v2", 2, "/b", 5_000, 10.0), pv("v3", 3, "/a", 15_000, None)]
    assert detect([], views) == []


def test_quick_back_needs_b_different_from_a():
    views = [pv("v1", 1, "/a", 0, 1.0), pv("v2", 2, "/a", 1_000, 1.0), pv("v3", 3, "/a", 2_000, None)]
    assert detect([], views, kind="quick_back") == []  # reloads are not going back
    # ...but reloads are views, so three of /a are a page_loop
    assert detect([], views) == [row("page_loop", "web", "/a", 2_000, "3 views", "v3")]


def test_quick_back_needs_a_known_time_on_b():
    views = [pv("v1", 1, "/a", 0, 1.0), pv("v2", 2, "/b", 1_000, None), pv("v3", 3, "/a", 2_000, None)]
    assert detect([], views) == []


def test_quick_back_is_per_device():
    # journey order A(w1) B(w2) A(w1): w1's own views are A -> A
    views = [pv("v1", 1, "/a", 0, 2.0, "w1"), pv("v2", 2, "/b", 1_000, None, "w2"),
             pv("v3", 3, "/a", 2_000, None, "w1")]
    assert detect([], views) == []


def test_quick_back_on_app_screens():
    views = [pv("s1", 1, "Home", 0, 3.0, "a1", "app"), pv("s2", 2, "Offers", 3_000, 2.0, "a1", "app"),
             pv("s3", 3, "Home", 5_000, None, "a1", "app")]
    assert detect([], views) == [row("quick_back", "app", "Home", 5_000, "Offers", "s3")]


# -- page_loop -----------------------------------------------------------------------

def test_page_loop_four_views_give_one_row_at_the_third():
    # /a on two devices, with a reload: views of /a are v1, v3, v4, v6
    views = [pv("v1", 1, "/a", 0, 20.0, "w1"), pv("v2", 2, "/b", 20_000, 20.0, "w1"),
             pv("v3", 3, "/a", 30_000, 30.0, "w2"), pv("v4", 4, "/a", 40_000, 20.0, "w1"),
             pv("v5", 5, "/c", 60_000, 20.0, "w1"), pv("v6", 6, "/a", 80_000, None, "w1")]
    assert detect([], views) == [row("page_loop", "web", "/a", 40_000, "4 views", "v4")]


def test_page_loop_two_views_are_not_a_loop_and_channels_are_separate_pages():
    views = [pv("v1", 1, "Home", 0, 20.0, "w1"), pv("v2", 2, "Home", 20_000, 20.0, "w1"),
             pv("s1", 3, "Home", 40_000, None, "a1", "app")]
    assert detect([], views) == []


# -- searches --------------------------------------------------------------------------

def test_search_no_results_only_when_zero():
    events = [web("s1", "search", 0, search_query="red shoes", search_results=0),
              web("s2", "search", 100 * S, search_results=None), web("s3", "search", 200 * S, search_results=4)]
    assert detect(events) == [row("search_no_results", "web", "/p", 0, "0 results", "s1")]


def test_search_refine_with_59_9s_gaps():
    events = [web(f"s{i}", "search", i * 59_900, search_query="x", search_results=2) for i in range(3)]
    assert detect(events) == [row("search_refine", "web", "/p", 119_800, "3 searches", "s2")]


def test_search_refine_not_with_60s_gaps():
    events = [web(f"s{i}", "search", i * 60_000, search_results=2) for i in range(3)]
    assert detect(events) == []


def test_search_refine_longer_burst_is_one_row_and_devices_are_separate():
    events = [app(f"s{i}", "search", i * 10 * S, screen="Search", search_results=1) for i in range(4)]
    events += [web("w1s1", "search", 5 * S, search_results=1), web("w1s2", "search", 15 * S, search_results=1)]
    assert detect(events) == [row("search_refine", "app", "Search", 20 * S, "4 searches", "s2")]


def test_one_event_can_complete_two_frictions_sorted_by_type():
    events = [web("s1", "search", 0, search_results=3), web("s2", "search", 1_000, search_results=3),
              web("s3", "search", 2_000, search_results=0)]
    assert detect(events) == [row("search_no_results", "web", "/p", 2_000, "0 results", "s3"),
                              row("search_refine", "web", "/p", 2_000, "3 searches", "s3")]


# -- chat --------------------------------------------------------------------------------

def test_bot_escalation_needs_a_bot_message_first():
    events = [chat("m1", "message", 0, sender="customer"), chat("h1", "handoff_requested", 1_000, sender="bot"),
              chat("j1", "agent_joined", 2_000, sender="agent")]
    assert detect(events) == []  # a handoff_requested sent by the bot is not a bot message


def test_bot_escalation_row_at_the_handoff():
    events = [chat("m0", "conversation_start", 0), chat("m1", "message", 1_000, sender="bot"),
              chat("h1", "handoff_requested", 2_000, sender="bot"), chat("j1", "agent_joined", 3_000),
              chat("h2", "handoff_requested", 4_000)]
    assert detect(events) == [row("bot_escalation", "chat", None, 2_000, "conv-1", "h1")]


def test_bot_escalation_at_agent_joined_without_a_handoff():
    events = [chat("m1", "message", 0, sender="bot"), chat("j1", "agent_joined", 1_000),
              chat("j2", "agent_joined", 2_000)]
    assert detect(events) == [row("bot_escalation", "chat", None, 1_000, "conv-1", "j1")]


def test_bot_escalation_bot_message_must_be_in_the_same_conversation():
    events = [chat("m1", "message", 0, "conv-1", sender="bot"), chat("h1", "handoff_requested", 1_000, "conv-2")]
    assert detect(events) == []


def test_long_wait_of_60s_is_not_long():
    events = [chat("h1", "handoff_requested", 0), chat("j1", "agent_joined", 60_000)]
    assert detect(events) == []


def test_long_wait_of_61s_is_a_row_at_agent_joined():
    events = [chat("h1", "handoff_requested", 0), chat("j1", "agent_joined", 61_000)]
    assert detect(events) == [row("long_wait", "chat", None, 61_000, "conv-1", "j1")]


def test_long_wait_counts_from_the_first_handoff():
    # 70 s from h1 (first handoff); only 20 s from h2
    events = [chat("h1", "handoff_requested", 0), chat("h2", "handoff_requested", 50_000),
              chat("j1", "agent_joined", 70_000)]
    assert detect(events) == [row("long_wait", "chat", None, 70_000, "conv-1", "j1")]


def test_long_wait_needs_an_agent_joined_after_the_handoff():
    events = [chat("j1", "agent_joined", 0), chat("h1", "handoff_requested", 1_000)]
    assert detect(events) == []


def test_unresolved_chat_abandoned_and_null_are_unresolved():
    events = [chat("e1", "conversation_end", 0, "conv-1", resolution="abandoned"),
              chat("e2", "conversation_end", 1_000, "conv-2", resolution=None),
              chat("e3", "conversation_end", 2_000, "conv-3", resolution="resolved")]
    assert detect(events) == [row("unresolved_chat", "chat", None, 0, "conv-1", "e1"),
                              row("unresolved_chat", "chat", None, 1_000, "conv-2", "e2")]


def test_channel_switch_at_most_once_at_the_first_start_after_web_or_app():
    events = [chat("a0", "conversation_start", 0, "conv-0"), web("v1", "page_view", 1_000),
              chat("a1", "conversation_start", 2_000, "conv-1"), chat("a2", "conversation_start", 3_000, "conv-2")]
    assert detect(events, kind="channel_switch") == [row("channel_switch", "chat", None, 2_000, "conv-1", "a1")]


def test_channel_switch_needs_web_or_app_before_the_chat():
    chat_only = [chat("a1", "conversation_start", 0), chat("m1", "message", 1_000, sender="customer")]
    chat_first = [chat("a1", "conversation_start", 0), app("o1", "app_open", 1_000)]
    assert detect(chat_only) == [] and detect(chat_first) == []


def test_channel_switch_from_app():
    events = [app("o1", "app_open", 0), chat("m1", "message", 1_000), chat("a1", "conversation_start", 2_000)]
    assert detect(events) == [row("channel_switch", "chat", None, 2_000, "conv-1", "a1")]


# -- repeat_contact ------------------------------------------------------------------------

def test_repeat_contact_at_23h59_across_two_journeys():
    day = 24 * HOUR
    events = [chat("a1", "conversation_start", 0, "conv-1"), chat("x1", "conversation_end", 60_000, "conv-1"),
              web("v1", "page_view", 2 * HOUR),  # a later journey in between
              chat("a2", "conversation_start", day - 60_000, "conv-2")]
    assert detect_repeat_contacts(events, CFG) == [
        row("repeat_contact", "chat", None, day - 60_000, "conv-2", "a2")]


def test_repeat_contact_not_at_exactly_24h():
    events = [chat("a1", "conversation_start", 0, "conv-1"), chat("a2", "conversation_start", 24 * HOUR, "conv-2")]
    assert detect_repeat_contacts(events, CFG) == []


def test_repeat_contact_compares_with_the_previous_start_only():
    # starts at 0 h, 20 h, 40 h: 20 h after each previous one, 40 h after the first
    events = [chat(f"a{i}", "conversation_start", i * 20 * HOUR, f"conv-{i}") for i in range(3)]
    assert detect_repeat_contacts(events, CFG) == [
        row("repeat_contact", "chat", None, 20 * HOUR, "conv-1", "a1"),
        row("repeat_contact", "chat", None, 40 * HOUR, "conv-2", "a2")]


def test_detect_friction_never_reports_repeat_contact():
    events = [chat("a1", "conversation_start", 0, "conv-1"), chat("a2", "conversation_start", HOUR, "conv-2")]
    assert detect(events) == []


# -- a whole journey ------------------------------------------------------------------------

def test_mixed_journey_rows_sorted_by_time_event_id_and_type():
    events = [web("v1", "page_view", 0, page="/help"), web("e1", "error", 500, page=None, error_code="500"),
              *clicks([1_000, 1_100, 1_200], page="/help"),
              chat("a1", "conversation_start", 5_000), chat("m1", "message", 6_000, sender="bot"),
              chat("h1", "handoff_requested", 7_000), chat("j1", "agent_joined", 90_000),
              chat("x1", "conversation_end", 100_000, resolution="unresolved")]
    views = [pv("v1", 1, "/help", 0, 1.2)]
    assert detect(events, views) == [
        row("error", "web", "/help", 500, "500", "e1"),
        row("rage_click", "web", "/help", 1_200, "buy (3 clicks)", "c3"),
        row("channel_switch", "chat", None, 5_000, "conv-1", "a1"),
        row("bot_escalation", "chat", None, 7_000, "conv-1", "h1"),
        row("long_wait", "chat", None, 90_000, "conv-1", "j1"),
        row("unresolved_chat", "chat", None, 100_000, "conv-1", "x1"),
    ]
