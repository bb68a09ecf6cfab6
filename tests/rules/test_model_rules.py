"""Identity, journey split, page views, time on page, engaged time, scores."""

from support.model_helpers import HOUR, MINUTE, SECOND, ev, ping, screen, view

from journeys.core.config import EffortConfig, JourneyConfig
from journeys.rules.identity import device_customer, stitch
from journeys.rules.page_views import page_views
from journeys.rules.pages import page_of, url_path
from journeys.rules.scores import (
    Outcome,
    effort_score,
    friction_score,
    is_bounce,
    outcome,
)
from journeys.rules.sessionise import journey_id, split_journeys, unique_events

CONFIG = JourneyConfig()


def ids(journeys):
    return [[e.event_id for e in j] for j in journeys]


# --- identity ---------------------------------------------------------------

def test_device_takes_its_latest_user_id_for_all_its_events():
    events = [ev("1", "page_view", 0), ev("2", "login", MINUTE, user_id="u-old"),
              ev("3", "login", 2 * MINUTE, user_id="u-new"), ev("4", "click", 3 * MINUTE)]
    assert device_customer(events) == "u-new"
    assert device_customer([ev("1", "page_view", 0)]) == "cookie-1"


def test_latest_follows_event_time_not_arrival():
    events = [ev("b", "login", 2 * MINUTE, user_id="u-later"), ev("a", "login", MINUTE, user_id="u-earlier")]
    assert device_customer(events) == "u-later"


def test_stitching_crosses_channels():
    events = [view("w1", "/", 0, "cookie-1"), ev("w2", "login", MINUTE, "cookie-1", user_id="cust-9"),
              ev("c1", "message", 2 * MINUTE, "chat-7", user_id="cust-9"),
              screen("a1", "home", 0, "device-3")]
    assert stitch(events) == {"cookie-1": "cust-9", "chat-7": "cust-9", "device-3": "device-3"}


# --- journeys ----------------------------------------------------------------

def test_exactly_the_gap_is_the_same_journey_and_one_ms_more_is_not():
    events = [view("1", "/", 0), view("2", "/a", 30 * MINUTE), view("3", "/b", 60 * MINUTE + 1)]
    assert ids(split_journeys(events, CONFIG)) == [["1", "2"], ["3"]]


def test_single_event_journey():
    assert ids(split_journeys([view("1", "/", 0)], CONFIG)) == [["1"]]
    assert split_journeys([], CONFIG) == []


def test_24_hour_cap_counts_from_the_first_event():
    # Pings every 20 min never leave a gap; the event at exactly 24 h starts a new journey.
    events = [ev(f"{n:03d}", "page_ping", n * 20 * MINUTE) for n in range(73)]
    journeys = split_journeys(events, CONFIG)
    assert [len(j) for j in journeys] == [72, 1]
    assert journeys[1][0].event_time - journeys[0][0].event_time == 24 * HOUR


def test_ties_are_ordered_by_event_id_and_duplicates_keep_the_first_read():
    late_copy = view("b", "/x", 0)._replace(source="t", offset=9, page_title="copy")
    first = view("b", "/x", 0)._replace(source="t", offset=1, page_title="first")
    ordered = unique_events([late_copy, view("c", "/", 0), first, view("a", "/", 0)])
    assert [e.event_id for e in ordered] == ["a", "b", "c"]
    assert ordered[1].page_title == "first"


def test_journey_ids_are_deterministic_and_distinct():
    first = view("1", "/", 0)
    assert journey_id("cust", first) == journey_id("cust", first)
    assert journey_id("cust", first) != journey_id("other", first)
    assert len(journey_id("cust", first)) == 32


# --- pages -------------------------------------------------------------------

def test_page_is_the_url_path_without_query_masked():
    assert url_path("https://shop.example.com/p/42?q=shoes#top") == "/p/42"
    assert url_path("https://shop.example.com") == "/"
    assert url_path("https://shop.example.com/u/jo@example.com/orders") == "/u/[email]/orders"
    assert page_of(screen("s", "Basket", 0)) == "Basket"
    assert page_of(ev("c", "message", 0)) is None


# --- page views and time on page -----------------------------------------------

def pv(journey):
    return page_views(journey, "j1", "cust", CONFIG)


def test_time_on_page_runs_to_the_next_view_of_the_same_device():
    journey = [view("1", "/", 0), view("2", "/a", 40 * SECOND), view("3", "/b", 100 * SECOND)]
    views = pv(journey)
    assert [v.time_on_page_s for v in views] == [40.0, 60.0, None]  # last page: unknown, not zero
    assert [v.seq for v in views] == [1, 2, 3]
    assert (views[0].is_entry, views[0].is_exit, views[2].is_entry, views[2].is_exit) == (True, False, False, True)


def test_last_view_runs_to_the_last_later_event_on_that_page():
    journey = [view("1", "/", 0), ping("2", "/", 10 * SECOND), ping("3", "/", 20 * SECOND),
               ev("4", "click", 25 * SECOND, page_url="https://shop.example.com/"),
               ev("5", "click", 90 * SECOND, page_url="https://shop.example.com/elsewhere")]
    assert pv(journey)[0].time_on_page_s == 25.0


def test_views_of_other_devices_do_not_end_a_page():
    journey = [view("1", "/", 0, "cookie-1"), screen("2", "home", 10 * SECOND, "device-1"),
               view("3", "/a", 50 * SECOND, "cookie-1")]
    views = pv(journey)
    assert [(v.page, v.time_on_page_s) for v in views] == [("/", 50.0), ("home", None), ("/a", None)]
    assert [v.seq for v in views] == [1, 2, 3]


def test_app_background_time_is_not_counted():
    # home at 0, background at 20 s, foreground at 320 s, next screen at 330 s:
    # 330 s - 300 s hidden = 30 s.
    journey = [screen("1", "home", 0), ev("2", "app_background", 20 * SECOND, "device-1"),
               ev("3", "app_foreground", 320 * SECOND, "device-1"), screen("4", "cart", 330 * SECOND)]
    assert pv(journey)[0].time_on_page_s == 30.0


def test_app_time_counts_again_from_the_next_event_without_foreground():
    # background at 10 s, then a tap at 100 s (no foreground), next screen at 110 s: 110 - 90 = 20 s.
    journey = [screen("1", "home", 0), ev("2", "app_background", 10 * SECOND, "device-1"),
               ev("3", "tap", 100 * SECOND, "device-1"), screen("4", "cart", 110 * SECOND)]
    assert pv(journey)[0].time_on_page_s == 20.0


def test_engaged_time_is_snowplows_rule():
    # Pings at 10, 20, 30, 35 s: buckets 1, 2, 3 (35 s shares bucket 3) -> 10 * (3 - 1) + 5 = 25 s.
    journey = [view("1", "/", 0)] + [ping(f"p{s}", "/", s * SECOND) for s in (10, 20, 30, 35)]
    assert pv(journey)[0].engaged_time_s == 25.0
    assert pv([view("1", "/", 0)])[0].engaged_time_s == 0.0
    one = pv([view("1", "/", 0), ping("p", "/", 10 * SECOND)])[0]
    assert one.engaged_time_s == 5.0  # one bucket: 10 * 0 + 5


def test_a_ping_belongs_to_the_latest_view_before_it():
    journey = [view("1", "/", 0), ping("p1", "/", 10 * SECOND), view("2", "/a", 15 * SECOND),
               ping("p2", "/a", 25 * SECOND), ping("p3", "/a", 35 * SECOND)]
    assert [v.engaged_time_s for v in pv(journey)] == [5.0, 15.0]


# --- bounce, outcome, scores ---------------------------------------------------

def test_bounce_and_engagement():
    one_view = pv([view("1", "/", 0)])
    assert is_bounce(one_view, converted=False, config=CONFIG)
    assert not is_bounce(one_view, converted=True, config=CONFIG)  # a purchase engages
    assert not is_bounce(pv([view("1", "/", 0), view("2", "/a", SECOND)]), False, CONFIG)
    engaged = pv([view("1", "/", 0), ping("p1", "/", 10 * SECOND), ping("p2", "/", 20 * SECOND)])
    assert engaged[0].engaged_time_s == 15.0 and not is_bounce(engaged, False, CONFIG)
    assert not is_bounce([], False, CONFIG)  # chat-only: never a bounce


def test_outcome_flags():
    journey = [ev("1", "purchase", 0), ev("2", "agent_joined", SECOND),
               ev("3", "conversation_end", 2 * SECOND, resolution="resolved")]
    assert outcome(journey) == Outcome(converted=True, escalated=True, resolved=True, unresolved=False)
    assert outcome([ev("1", "conversation_end", 0, resolution="abandoned")]).unresolved


def test_friction_and_effort_scores():
    weights = {"error": 2.0, "long_wait": 3.0}
    assert friction_score(["error", "error", "long_wait", "unknown"], weights) == 7.0
    effort = EffortConfig()
    calm = Outcome(False, False, False, False)
    assert effort_score(0.0, 60.0, calm, effort) == 1
    # 1 + floor(7 / 3) = 3, + 1 for 30 min, + 1 escalated without a purchase = 5
    assert effort_score(7.0, 1_800.0, Outcome(False, True, False, False), effort) == 5
    assert effort_score(30.0, 0.0, calm, effort) == 5  # clamped
    assert effort_score(3.0, 0.0, Outcome(True, True, False, False), effort) == 2  # converted: no outcome step
