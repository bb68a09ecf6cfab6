"""AggregateDaily under TestPipeline, against SQL recomputed by DuckDB from the row-level tables."""

from importlib import resources

import apache_beam as beam
import duckdb
import pyarrow as pa
import pytest
from support import daily_checks
from support.daily_sql import SQL
from support.model_helpers import (
    HOUR,
    MINUTE,
    SECOND,
    ev,
    ping,
    screen,
    synthetic_events_by_customer,
    view,
)

from journeys.core.config import Config
from journeys.pipelines.runners import make_runner
from journeys.rules import daily
from journeys.rules.journey_builder import build_customer_journeys
from journeys.transforms.aggregates import AggregateDaily
from journeys.warehouses.base import migrations, split_statements

CONFIG = Config()

_TIMES = {"journeys": ("started_at", "ended_at"), "page_views": ("viewed_at",), "friction_events": ("occurred_at",)}


def row_level_ddl():
    """The warehouse's DDL (schemas/migrations/*.sql, in order), which creates the row-level tables."""
    folder = resources.files("journeys.schemas").joinpath("migrations")
    return [f.read_text() for f in sorted(folder.iterdir(), key=lambda f: f.name) if f.name.endswith(".sql")]


def warehouse_rows(customers):
    """Loads the row-level tables into an in-memory DuckDB, as the warehouse keeps them."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Pacific/Kiritimati'")  # UTC+14: a local-time day would be wrong
    for sql in row_level_ddl():
        con.execute(sql)
    for table, rows in (("journeys", [j for c in customers for j in c.journeys]),
                        ("page_views", [v for c in customers for v in c.page_views]),
                        ("friction_events", [f for c in customers for f in c.friction])):
        if not rows:
            continue
        con.register("src", pa.Table.from_pylist([r._asdict() for r in rows]))
        # epoch ms -> the UTC instant (epoch_ms(..)::TIMESTAMPTZ would read it in the session zone)
        times = ", ".join(f"timezone('UTC', epoch_ms({c})) AS {c}" for c in _TIMES[table])
        con.execute(f"INSERT INTO {table} BY NAME SELECT * REPLACE ({times}) FROM src")
        con.unregister("src")
    return con


def sql_tables(customers):
    con = warehouse_rows(customers)
    return daily_checks.query_rows(con, SQL)


def assert_tables(customers, expected):
    daily_checks.assert_pipeline_tables(customers, expected, "AggregateDaily" >> AggregateDaily(), daily)


# --- a hand-worked case ------------------------------------------------------

def hand_customers():
    a = [view("a1", "/", -MINUTE, "cookie-a"),  # 2026-01-04 23:59:00: the journey's day is the 4th
         view("a2", "/offers", 30 * SECOND, "cookie-a"),  # after midnight, still the 4th
         ev("a_err", "error", 40 * SECOND, "cookie-a", page_url="https://shop.example.com/offers", error_type="js"),
         view("a3", "/offers", 50 * SECOND, "cookie-a"),  # a reload
         view("a4", "/", 80 * SECOND, "cookie-a"), ping("a5", "/", 95 * SECOND, "cookie-a"),
         view("a6", "/help", 2 * HOUR, "cookie-a")]  # a second journey, a single-view bounce
    b = [screen("b1", "home", 10 * MINUTE, "device-b"), screen("b2", "cart", 10 * MINUTE + 20 * SECOND, "device-b"),
         ev("b3", "purchase", 11 * MINUTE, "device-b", channel="app", order_id="o-1", revenue=20.0)]
    c = [ev("c1", "conversation_start", 3 * HOUR, "chat-c"),
         ev("c2", "message", 3 * HOUR + 10 * SECOND, "chat-c", sender="bot"),
         ev("c3", "handoff_requested", 3 * HOUR + 30 * SECOND, "chat-c"),
         ev("c4", "agent_joined", 3 * HOUR + 150 * SECOND, "chat-c")]
    d = [view("d1", "/help", 4 * HOUR, "cookie-d"), view("d2", "/", 4 * HOUR + 45 * SECOND, "cookie-d"),
         ping("d3", "/", 4 * HOUR + 50 * SECOND, "cookie-d")]
    return [build_customer_journeys(name, events, CONFIG)
            for name, events in (("cookie-a", a), ("device-b", b), ("chat-c", c), ("cookie-d", d))]


def _page(day, channel, page, views, journeys, avg, median, p90, exits, bounces, friction):
    return dict(day=day, channel=channel, page=page, views=views, journeys=journeys, avg_time_on_page_s=avg,
                median_time_on_page_s=median, p90_time_on_page_s=p90, exits=exits, bounces=bounces,
                friction_events=friction)


def _journeys(day, channel, n, converted, escalated, bounced, duration, friction, effort):
    return dict(day=day, acquisition_channel=channel, journeys=n, converted=converted, escalated=escalated,
                bounced=bounced, avg_duration_s=duration, avg_friction_score=friction, avg_effort_score=effort)


D4, D5 = "2026-01-04", "2026-01-05"
HAND = {
    # Times on page (s): a1 "/" 90 (23:59:00 -> a2 at 00:00:30), a2 "/offers" 20, a3 "/offers" 30,
    # a4 "/" 15 (to its ping; the device's last view), a6 "/help" unknown (nothing after it),
    # b1 "home" 20, b2 "cart" 40 (to the purchase on that screen), d1 "/help" 45, d2 "/" 5.
    # Percentiles: r = (n - 1) * q; "/" on the 4th: [15, 90], median 15 + 0.5 * 75 = 52.5,
    # p90 15 + 0.9 * 75 = 82.5; "/offers": [20, 30] -> 25 and 20 + 0.9 * 10 = 29.
    daily.PAGE_STATS: [
        _page(D4, "web", "/", 2, 1, 52.5, 52.5, 82.5, 1, 0, 0),
        _page(D4, "web", "/offers", 2, 1, 25.0, 25.0, 29.0, 0, 0, 1),  # the error at 00:00:40 is on /offers
        _page(D5, "web", "/help", 2, 2, 45.0, 45.0, 45.0, 1, 1, 0),  # a6 bounced (one view) and is its exit
        _page(D5, "web", "/", 1, 1, 5.0, 5.0, 5.0, 1, 0, 0),
        _page(D5, "app", "home", 1, 1, 20.0, 20.0, 20.0, 0, 0, 0),
        _page(D5, "app", "cart", 1, 1, 40.0, 40.0, 40.0, 1, 0, 0),
    ],
    daily.FRICTION: [  # chat frictions have no page: NULL, as in friction_events
        dict(day=D4, friction_type="error", page="/offers", occurrences=1, journeys=1),
        dict(day=D5, friction_type="bot_escalation", page=None, occurrences=1, journeys=1),
        dict(day=D5, friction_type="long_wait", page=None, occurrences=1, journeys=1),  # 120 s from handoff to agent
    ],
    daily.JOURNEY_STATS: [
        # a1..a5: 23:59:00 -> 00:01:35 = 155 s, one error (weight 2), effort 1 + floor(2 / 3) = 1
        _journeys(D4, "direct", 1, 0, 0, 0, 155.0, 2.0, 1.0),
        # a6 (0 s, bounced) and d1..d3 (50 s): (0 + 50) / 2 = 25 s
        _journeys(D5, "direct", 2, 0, 0, 1, 25.0, 0.0, 1.0),
        _journeys(D5, "app", 1, 1, 0, 0, 60.0, 0.0, 1.0),
        # bot_escalation 2 + long_wait 3 = 5; effort 1 + floor(5 / 3) + 1 (escalated, not converted) = 3
        _journeys(D5, "chat", 1, 0, 1, 0, 150.0, 5.0, 3.0),
    ],
    daily.PATH_EDGES: [
        dict(day=D4, from_page="/", to_page="/offers", transitions=1),
        dict(day=D4, from_page="/offers", to_page="/offers", transitions=1),  # the reload
        dict(day=D4, from_page="/offers", to_page="/", transitions=1),
        dict(day=D5, from_page="home", to_page="cart", transitions=1),
        dict(day=D5, from_page="/help", to_page="/", transitions=1),
    ],
}


def test_hand_worked_case_through_the_pipeline():
    assert_tables(hand_customers(), HAND)


def test_the_sql_definitions_give_the_hand_worked_rows():
    got = sql_tables(hand_customers())
    for table in daily.TABLES:
        daily_checks.rows_equal(table, HAND[table], daily)([{c: r[c] for c in daily.COLUMNS[table]} for r in got[table]])


# --- synthetic data ----------------------------------------------------------

@pytest.fixture(scope="module")
def synthetic_customers():
    return [build_customer_journeys(c, evs, CONFIG) for c, evs in synthetic_events_by_customer(3000, seed=5)]


def test_synthetic_day_equals_sql_over_the_row_level_tables(synthetic_customers):
    customers = synthetic_customers + hand_customers()  # the synthetic journeys all start on the 5th
    expected = sql_tables(customers)
    # the data must exercise what is being compared
    assert len({r["day"] for r in expected[daily.JOURNEY_STATS]}) == 2
    assert any(r["page"] is None for r in expected[daily.FRICTION])
    assert any(r["from_page"] == r["to_page"] for r in expected[daily.PATH_EDGES])
    assert any(r["views"] >= 5 and r["median_time_on_page_s"] is not None for r in expected[daily.PAGE_STATS])
    assert any(r["journeys"] < r["views"] for r in expected[daily.PAGE_STATS])  # distinct, not views
    assert_tables(customers, expected)


def test_the_pure_aggregate_equals_sql_too(synthetic_customers):
    expected, got = sql_tables(synthetic_customers), daily.aggregate(synthetic_customers)
    for table in daily.TABLES:
        daily_checks.rows_equal(table, expected[table], daily)(got[table])


def test_the_only_shuffles_are_the_four_combines():
    p = beam.Pipeline(runner=make_runner())
    _ = p | beam.Create(hand_customers()) | "AggregateDaily" >> AggregateDaily()
    daily_checks.assert_only_shuffles_are_combines(p, "AggregateDaily", ("CombineFriction", "CombineJourneyStats", "CombinePageStats", "CombinePathEdges"))


def test_rows_fit_the_daily_ddl(synthetic_customers):
    """Every row lands in the migrated daily tables (schemas/migrations), keys unique (INSERT, not upsert)."""
    con = duckdb.connect()
    for _, _, sql in migrations():
        for statement in split_statements(sql):
            con.execute(statement)
    for table, rows in daily.aggregate(synthetic_customers).items():
        columns = daily.COLUMNS[table]
        con.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                        [tuple(r[c] for c in columns) for r in rows])
        assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == len(rows)
