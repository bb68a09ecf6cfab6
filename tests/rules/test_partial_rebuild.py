"""A returning customer rebuilt from rebuild_since on, with its earlier journeys kept, equals it rebuilt whole."""
import json
import random

import pytest
from support.model_helpers import HOUR, MINUTE, ev, synthetic_events_by_customer, view
from support.random_events import random_events

from journeys.core.config import Config, ValidationConfig
from journeys.core.errors import BadInput
from journeys.core.events import EventRules
from journeys.rules.friction import detect_repeat_contacts
from journeys.rules.identity import stitch
from journeys.rules.journey_builder import build_customer_journeys
from journeys.rules.partial_rebuild import latest_conversation_start, rebuild_since

CONFIG = Config()
ROW_FIELDS = ("journeys", "page_views", "friction", "conversations", "task_attempts")


def test_rebuild_since_is_the_latest_stored_start_at_or_before_the_earliest_new_event():
    new = [view("n1", "/", 5 * HOUR), view("n2", "/", 3 * HOUR)]
    starts = [view("s", "/", at).event_time for at in (0, 2 * HOUR, 3 * HOUR, 4 * HOUR)]
    assert rebuild_since(starts, new) == starts[2]  # a start at the very time of a new event counts
    assert rebuild_since(starts[3:], new) is None  # new events before every stored journey: all of it
    assert rebuild_since([], new) is None
    assert rebuild_since(starts, []) is None


def test_an_earlier_conversation_start_makes_the_first_one_a_repeat_contact_and_is_no_row_itself():
    earlier = ev("c0", "conversation_start", 0)
    soon, late = ev("c1", "conversation_start", 23 * HOUR), ev("c2", "conversation_start", 48 * HOUR)
    rows = detect_repeat_contacts([soon, late], CONFIG.friction, earlier)
    assert [r.event_id for r in rows] == ["c1"]
    assert detect_repeat_contacts([soon, late], CONFIG.friction) == []
    assert latest_conversation_start([earlier, soon, view("v", "/", MINUTE)], soon.event_time) == earlier
    assert latest_conversation_start([soon], soon.event_time) is None


def _rows(built, keep=lambda journey_id: True):
    return {field: sorted((r for r in getattr(built, field) if keep(r.journey_id)), key=repr) for field in ROW_FIELDS}


def _check_split(customer_id, stored, new):
    """Whether the partial rebuild of ``new`` over ``stored`` equals the whole rebuild; None: it rebuilds whole."""
    before = build_customer_journeys(customer_id, stored, CONFIG)
    since = rebuild_since([j.started_at for j in before.journeys], new)
    if since is None:
        return None
    kept = {j.journey_id for j in before.journeys if j.started_at < since}
    region = [e for e in stored if e.event_time >= since] + new
    rebuilt = build_customer_journeys(customer_id, region, CONFIG, latest_conversation_start(stored, since))
    expected = _rows(build_customer_journeys(customer_id, stored + new, CONFIG))
    got = _rows(before, keep=kept.__contains__)
    for field, rows in _rows(rebuilt).items():
        got[field] = sorted(got[field] + rows, key=repr)
    assert got == expected, customer_id
    return True


def _splits(customers, seed):
    """Each customer's events cut where a chunk would end (arrival order), or with late events mixed in."""
    rng = random.Random(seed)
    for customer_id, events in customers:
        cut = rng.randrange(1, len(events)) if len(events) > 1 else 1
        yield customer_id, events[:cut], events[cut:]
        late = [e for e in events if rng.random() < 0.2]
        yield customer_id, [e for e in events if e not in late], late


@pytest.mark.parametrize("seed", [5, 11])
def test_partial_rebuilds_of_synthetic_customers_equal_whole_ones(seed):
    checked = [_check_split(c, stored, new) for c, stored, new in _splits(synthetic_events_by_customer(4000, seed), seed)
               if new]
    assert checked.count(True) > 100  # most returning customers are rebuilt in part


def _edge_customers(n, seed):
    rules = EventRules(ValidationConfig(), now_ms=2_000_000_000_000)
    events = []
    for k, line in enumerate(random_events(n, seed)):
        try:
            events.append(rules.event_from_record(json.loads(line), source="random", offset=k))
        except (ValueError, BadInput):
            continue  # the generator's bad lines
    customer_of = stitch(events)
    by_customer = {}
    for event in events:
        by_customer.setdefault(customer_of[event.anonymous_id], []).append(event)
    return sorted(by_customer.items())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_partial_rebuilds_equal_whole_ones_at_the_rules_edges(seed):
    checked = [_check_split(c, stored, new) for c, stored, new in _splits(_edge_customers(3000, seed), seed) if new]
    assert checked.count(True) > 20
