"""The daily aggregates' pure functions: day_of, quantile_cont, partials, merge, finish."""
import random
from datetime import datetime, timedelta, timezone

import duckdb
import pyarrow as pa
import pytest
from support.model_helpers import HOUR, MINUTE, SECOND, T0, ev, screen, view

from journeys.core.config import Config
from journeys.rules import daily
from journeys.rules.journey_builder import build_customer_journeys

CONFIG = Config()
DAY_MS = 24 * HOUR


def rows_by_key(table, rows):
    return {tuple(row[c] for c in daily.KEYS[table]): row for row in rows}


def tables_of(*customers):
    return {table: rows_by_key(table, rows) for table, rows in daily.aggregate(customers).items()}


# --- day_of -----------------------------------------------------------------

def test_day_of_is_the_utc_date_at_the_boundaries():
    assert daily.day_of(T0) == "2026-01-05"  # 00:00:00.000 belongs to the new day
    assert daily.day_of(T0 - 1) == "2026-01-04"  # 23:59:59.999
    assert daily.day_of(T0 + DAY_MS - 1) == "2026-01-05"
    assert daily.day_of(T0 + DAY_MS) == "2026-01-06"
    assert daily.day_of(0) == "1970-01-01"
    assert daily.day_of(-1) == "1969-12-31"  # floor division, not truncation toward zero


def test_day_of_agrees_with_datetime_in_utc():
    rng = random.Random(7)
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    for _ in range(2000):
        ms = rng.randrange(946_684_800_000, 4_102_444_800_000)  # 2000 .. 2100
        assert daily.day_of(ms) == (epoch + timedelta(milliseconds=ms)).date().isoformat()


# --- quantile_cont ----------------------------------------------------------

def test_quantile_cont_hand_worked():
    # r = (n - 1) * q; interpolate between sorted[floor(r)] and sorted[ceil(r)] by d = r - floor(r).
    assert daily.quantile_cont([40, 2, 25, 8], 0.25) == pytest.approx(6.5)  # r = 0.75: 2 + 0.75 * (8 - 2)
    assert daily.quantile_cont([4, 1, 3, 2], 0.5) == pytest.approx(2.5)  # r = 1.5: 2 + 0.5 * (3 - 2)
    assert daily.quantile_cont([90, 15], 0.9) == pytest.approx(82.5)  # r = 0.9: 15 + 0.9 * 75
    assert daily.quantile_cont([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9) == pytest.approx(9.1)  # r = 8.1
    assert daily.quantile_cont([1, 2, 3], 0.5) == 2  # r = 1: an order statistic, no arithmetic
    assert daily.quantile_cont([7.25], 0.9) == 7.25
    assert daily.quantile_cont([3, 1, 2], 0.0) == 1 and daily.quantile_cont([3, 1, 2], 1.0) == 3
    assert daily.quantile_cont([], 0.5) is None


def test_quantile_cont_equals_duckdb_to_the_bit():
    rng = random.Random(11)
    groups, values = [], []
    for g in range(1500):
        for _ in range(rng.randint(1, 40)):
            groups.append(g)
            values.append(rng.choice([rng.random() * 1000, float(rng.randint(0, 30)),
                                      round(rng.expovariate(0.01), 3), -rng.random() * 1e6]))
    qs = (0.5, 0.9, 0.1, 0.25, 0.99)
    con = duckdb.connect()
    con.register("src", pa.table({"g": groups, "x": values}))
    columns = ", ".join(f"quantile_cont(x, {q})" for q in qs)
    got = con.execute(f"SELECT g, {columns} FROM src GROUP BY g").fetchall()
    by_group = {}
    for g, x in zip(groups, values):
        by_group.setdefault(g, []).append(x)
    mismatches = [(g, q, want, daily.quantile_cont(by_group[g], q))
                  for g, *wants in got for q, want in zip(qs, wants) if daily.quantile_cont(by_group[g], q) != want]
    assert not mismatches, mismatches[:5]


# --- partials, merge, finish ------------------------------------------------

def test_a_journey_starting_at_2359_counts_on_its_start_day():
    events = [view("v1", "/", -MINUTE), view("v2", "/next", 30 * SECOND),  # 23:59:00, then 00:00:30
              ev("e1", "error", MINUTE, page_url="https://shop.example.com/next", error_type="js")]
    later = [view("w1", "/", 2 * HOUR, "cookie-2")]  # starts 02:00 on the 5th
    at_midnight = [view("m1", "/", 0, "cookie-3")]  # starts exactly 00:00:00.000 on the 5th
    t = tables_of(build_customer_journeys("cookie-1", events, CONFIG),
                  build_customer_journeys("cookie-2", later, CONFIG),
                  build_customer_journeys("cookie-3", at_midnight, CONFIG))
    assert set(t[daily.PAGE_STATS]) == {("2026-01-04", "web", "/"), ("2026-01-04", "web", "/next"),
                                        ("2026-01-05", "web", "/")}
    assert t[daily.PAGE_STATS][("2026-01-04", "web", "/next")]["friction_events"] == 1
    assert t[daily.PAGE_STATS][("2026-01-05", "web", "/")]["views"] == 2
    assert set(t[daily.PATH_EDGES]) == {("2026-01-04", "/", "/next")}
    assert set(t[daily.FRICTION]) == {("2026-01-04", "error", "/next")}
    assert t[daily.JOURNEY_STATS][("2026-01-04", "direct")]["journeys"] == 1
    assert t[daily.JOURNEY_STATS][("2026-01-05", "direct")]["journeys"] == 2


def test_reloads_are_edges_and_a_page_counts_each_journey_once():
    events = [view("v1", "/a", 0), view("v2", "/a", 5 * SECOND), view("v3", "/a", 9 * SECOND),
              view("v4", "/b", 20 * SECOND)]
    t = tables_of(build_customer_journeys("cookie-1", events, CONFIG))
    edges = {key[1:]: row["transitions"] for key, row in t[daily.PATH_EDGES].items()}
    assert edges == {("/a", "/a"): 2, ("/a", "/b"): 1}
    a = t[daily.PAGE_STATS][("2026-01-05", "web", "/a")]
    # times on /a: 5, 4, 11 s -> sorted 4, 5, 11; median 5; p90: r = 1.8, 5 + 0.8 * 6 = 9.8
    assert (a["views"], a["journeys"], a["exits"], a["friction_events"]) == (3, 1, 0, 1)  # page_loop on /a
    assert a["avg_time_on_page_s"] == pytest.approx(20 / 3)
    assert (a["median_time_on_page_s"], a["p90_time_on_page_s"]) == (5.0, pytest.approx(9.8))
    assert t[daily.PAGE_STATS][("2026-01-05", "web", "/b")]["median_time_on_page_s"] is None  # unknown, not 0


def test_edges_cross_devices_and_channels_and_chat_friction_has_no_page():
    events = [view("w1", "/", 0, "cookie-1"), screen("a1", "home", 10 * SECOND, "device-1"),
              view("w2", "/help", 20 * SECOND, "cookie-1"),
              ev("c1", "conversation_start", MINUTE, "chat-1"),
              ev("c2", "message", MINUTE + SECOND, "chat-1", sender="bot"),
              ev("c3", "handoff_requested", MINUTE + 2 * SECOND, "chat-1")]
    t = tables_of(build_customer_journeys("cust-1", events, CONFIG))
    assert {key[1:] for key in t[daily.PATH_EDGES]} == {("/", "home"), ("home", "/help")}
    assert {key[1:] for key in t[daily.FRICTION]} == {("channel_switch", None), ("bot_escalation", None)}
    assert {key[1] for key in t[daily.PAGE_STATS]} == {"web", "app"}  # no chat row
    assert sum(r["friction_events"] for r in t[daily.PAGE_STATS].values()) == 0


def test_bounce_counts_on_the_entry_page():
    t = tables_of(build_customer_journeys("cookie-1", [view("v1", "/landing", 0)], CONFIG))
    row = t[daily.PAGE_STATS][("2026-01-05", "web", "/landing")]
    assert (row["views"], row["exits"], row["bounces"]) == (1, 1, 1)
    assert t[daily.JOURNEY_STATS][("2026-01-05", "direct")]["bounced"] == 1


def test_rows_have_exactly_the_table_columns():
    events = [view("v1", "/", 0), view("v2", "/x", 5 * SECOND),
              ev("e1", "error", 6 * SECOND, page_url="https://shop.example.com/x")]
    for table, rows in daily.aggregate([build_customer_journeys("cookie-1", events, CONFIG)]).items():
        assert rows and all(tuple(row) == daily.COLUMNS[table] for row in rows), table


def test_merging_in_any_order_and_grouping_gives_bit_identical_rows():
    rng = random.Random(3)
    customers = []
    for c in range(40):
        start = rng.randrange(-3 * HOUR, 3 * HOUR)
        events = [view(f"c{c}-v{i}", rng.choice(["/", "/a", "/b"]), start + i * rng.randrange(1, 90) * SECOND + i,
                       f"cookie-{c}") for i in range(rng.randint(1, 6))]
        customers.append(build_customer_journeys(f"cookie-{c}", events, CONFIG))
    expected = daily.aggregate(customers)
    parts = [p for customer in customers for p in daily.partials(customer)]
    rng.shuffle(parts)
    merged = {}
    for n, (table, key, part) in enumerate(parts):  # merge into per-bundle accumulators, then merge those
        bundle = merged.setdefault((n % 3, table, key), daily.empty(table))
        daily.merge(bundle, part)
    final = {}
    for (_, table, key), acc in sorted(merged.items(), key=lambda _: rng.random()):
        daily.merge(final.setdefault((table, key), daily.empty(table)), acc)
    again = {table: sorted((daily.finish(t, k, acc) for (t, k), acc in final.items() if t == table),
                           key=lambda r: tuple(r[c] for c in daily.KEYS[table])) for table in daily.TABLES}
    assert again == expected


def test_merge_leaves_the_partial_unchanged():
    part = [1, 1, 0, 0, 0, [3.0]]
    acc = daily.merge(daily.empty(daily.PAGE_STATS), part)
    daily.merge(acc, [1, 0, 0, 0, 0, [4.0]])
    assert part == [1, 1, 0, 0, 0, [3.0]] and acc == [2, 1, 0, 0, 0, [3.0, 4.0]]
