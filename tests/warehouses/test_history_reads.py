"""The history's reads on DuckDB find what the plain reads find.

DuckDB answers the stored events of devices and of customers in two steps,
the rows from their narrow columns, then those rows' records, and converts
stored times to epoch ms in SQL (journeys/warehouses/history.py). The same
reads made the plain way, one query with the records and times converted in
Python, must give the same events and rows in the same order.
"""
import json

import duckdb
import pytest

from journeys.commands.cli import main
from journeys.generators.synthetic import generate_events
from journeys.warehouses.history import History

pytestmark = [pytest.mark.slow]
HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    folder = tmp_path_factory.mktemp("history")
    path = folder / "events.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in generate_events(2_000, seed=23)))
    url = f"duckdb:{folder / 'w.duckdb'}"
    assert main(["run", "--source", f"file:{path}", "--warehouse", url, "--output-dir", str(folder / "runs")]) == 0
    with duckdb.connect(str(folder / "w.duckdb"), read_only=True) as con:
        devices = [r[0] for r in con.execute("SELECT anonymous_id FROM customer_devices ORDER BY 1").fetchall()]
        days = sorted({str(r[0]) for r in con.execute("SELECT day FROM journey_stats_daily").fetchall()})
        starts = dict(con.execute("SELECT customer_id, epoch_ms(max(started_at)) FROM journeys GROUP BY 1 "
                                  "ORDER BY 1").fetchall())
    by_row, plain = History(url), History(url, plain=True)
    yield by_row, plain, devices, starts, days
    by_row.close(), plain.close()


def as_text(found: dict) -> dict:
    return {key: [repr(e) for e in events] for key, events in found.items()}


def test_device_events_are_the_same_in_the_same_order(stored):
    by_row, plain, devices, _, _ = stored
    for ask in (devices[:1], devices[::7], devices, ["no-such-device"], []):
        assert as_text(by_row.device_events_by_device(ask)) == as_text(plain.device_events_by_device(ask))
        assert list(map(repr, by_row.device_events(ask))) == list(map(repr, plain.device_events(ask)))
    assert sum(len(v) for v in by_row.device_events_by_device(devices).values()) > 1_000


def test_customer_events_since_and_conversation_starts_before_are_the_same(stored):
    by_row, plain, _, starts, _ = stored
    # Each customer's own bound: from its latest journey's start, and an hour before it.
    contacts = 0
    for since in ({c: at for c, at in starts.items()}, {c: at - HOUR_MS for c, at in list(starts.items())[::3]}):
        found = by_row.customer_events_since(since)
        assert as_text(found) == as_text(plain.customer_events_since(since))
        assert all(e.event_time >= since[c] for c, events in found.items() for e in events)
        assert found
        window = 7 * 24 * HOUR_MS
        before = by_row.conversation_starts_before(since, window)
        assert as_text(before) == as_text(plain.conversation_starts_before(since, window))
        contacts += sum(map(len, before.values()))
    assert contacts > 0
    assert by_row.customer_events_since({}) == {} and by_row.conversation_starts_before({}, 1) == {}


def test_stored_journeys_and_their_rows_are_the_same(stored):
    by_row, plain, _, starts, days = stored
    customers = sorted(starts)
    assert by_row.journey_starts_of(customers) == plain.journey_starts_of(customers)
    assert days
    for ask in (lambda h: [repr(c) for c in h.whole_days(days, 50)],
                lambda h: [repr(c) for c in h.customers_on_days(days, set(customers[::2]))]):
        assert ask(by_row) == ask(plain)
    whole = list(by_row.whole_days(days, 50))
    assert sum(len(c.page_views) for c in whole) > 100 and all(isinstance(j.started_at, int) for c in whole
                                                               for j in c.journeys)
