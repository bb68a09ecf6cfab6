"""Rules that read event fields never raise on any valid event list, and their rows are storable."""
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.hostile import NOW_MS

from journeys.core.config import Config
from journeys.core.events import EVENT_TYPES, Event
from journeys.rules.journey_builder import build_customer_journeys
from journeys.warehouses.rows import model_row

CONFIG = Config()
text = st.one_of(st.none(), st.sampled_from(["home", "/", "", "x\t", "jo@example.com", "212-555-0100"]),
                 st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=12))
urls = st.one_of(st.none(), st.sampled_from(["https://s.example/a?q=1", "http://[", "::", "%zz", "https://s/p%40x",
                                             "https://google.com/", "/relative"]), text)
ints = st.one_of(st.none(), st.integers(-2**31, 2**31 - 1))


@st.composite
def events(draw) -> Event:
    channel = draw(st.sampled_from(["web", "app", "chat"]))
    return Event(
        event_id=draw(st.text("abc", min_size=1, max_size=3)),
        event_type=draw(st.one_of(st.sampled_from(sorted(EVENT_TYPES[channel])), st.just("unknown"))),
        channel=channel, event_time=NOW_MS + draw(st.integers(0, 3 * 86_400_000)),
        anonymous_id=draw(st.sampled_from(["a1", "a2", "a3"])), user_id=draw(st.sampled_from([None, "u1", "u2"])),
        page_url=draw(urls), referrer=draw(urls), utm_source=draw(text), utm_medium=draw(text),
        screen_name=draw(text), element_id=draw(text), x=draw(ints), y=draw(ints), form_id=draw(text),
        search_query=draw(text), search_results=draw(ints), error_type=draw(text),
        revenue=draw(st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False))),
        conversation_id=draw(st.sampled_from(["c1", "c2"])) if channel == "chat" else None,
        sender=draw(st.one_of(st.none(), st.sampled_from(["customer", "bot", "agent", "system"]), text)),
        intent=draw(text), resolution=draw(st.one_of(st.none(), st.sampled_from(["resolved", "abandoned"]), text)),
        csat_score=draw(ints), source="s", offset=draw(st.integers(0, 10)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(events(), max_size=25))
def test_build_customer_journeys_never_raises_and_rows_are_storable(evs):
    built = build_customer_journeys("cust", evs, CONFIG)
    for row in [*built.journeys, *built.page_views, *built.friction]:
        line = model_row(row)
        json.loads(line)
        assert "\\u0000" not in line
    for view in built.page_views:
        assert "@" not in (view.page or "")
