"""The daily aggregate tables (contract section 3) as mergeable partials; no Beam here.

Every table is keyed by its non-measure columns, and ``day`` is always the UTC
date of the JOURNEY's start: a page view, path edge or friction row of a
journey that starts at 23:59 counts on that day even when it happens after
midnight. One ``CustomerJourneys`` holds all of a customer's journeys, views
and friction rows, so each row's journey start is at hand: ``partials`` folds
one customer into one partial per (table, key) without any shuffle, and the
Beam composite (``transforms/aggregates.py``) merges partials per key with
``merge`` and turns the result into a row with ``finish``. ``aggregate`` does
the same in memory, for tests and small recomputations.

Accumulators are lists merged slot by slot (numbers add, lists concatenate),
so merging is associative and commutative:

- page_stats_daily: [views, journeys, exits, bounces, friction_events, times]
  where ``times`` holds every non-null time_on_page_s (exact percentiles need
  them all; one float per view of that page and day; the mean uses
  ``math.fsum``, exact whatever the order). A web or app friction row on a
  page with no view that day still gets its page's row, with views 0, so
  friction_events adds up to every friction row with a page.
- friction_daily: [occurrences, journeys]
- journey_stats_daily: [journeys, converted, escalated, bounced,
  sum duration_s, sum friction_score, sum effort_score], the float sums kept as
  exact ``Fraction``s, so an average does not depend on the order in which
  partials merge and a re-run gives bit-identical rows (idempotent writes).
- path_edges_daily: [transitions]

Distinct-journey counts are counts, not sets of ids: a journey belongs to one
customer and a customer's journeys all come in one ``CustomerJourneys``, so
the journeys counted by two partials never overlap and per-customer distinct
counts add up exactly. (The same premise, one input element per customer,
is what makes ``views`` right; see the composite's docstring.)
"""
from __future__ import annotations

import math
from datetime import date
from fractions import Fraction
from typing import Callable, Iterable, NamedTuple, Sequence

from journeys.core import tables
from journeys.core.model import CustomerJourneys

_TABLES = (tables.PAGE_STATS_DAILY, tables.FRICTION_DAILY, tables.JOURNEY_STATS_DAILY, tables.PATH_EDGES_DAILY)
PAGE_STATS, FRICTION, JOURNEY_STATS, PATH_EDGES = TABLES = tuple(t.name for t in _TABLES)
KEYS = {t.name: t.key for t in _TABLES}
MEASURES = {t.name: t.measures for t in _TABLES}
COLUMNS = {t.name: t.columns for t in _TABLES}

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DAY_MS = 86_400_000


def day_of(ms: int) -> str:
    """The UTC date of epoch milliseconds, 'YYYY-MM-DD' (integer arithmetic: no float or local-time rounding)."""
    return date.fromordinal(_EPOCH_ORDINAL + ms // _DAY_MS).isoformat()


def _fma(x: float, y: float, z: float) -> float:
    """x * y + z with one rounding (math.fma from Python 3.13 on)."""
    return float(Fraction(x) * Fraction(y) + Fraction(z))


_fma = getattr(math, "fma", _fma)


def quantile_cont(values: Iterable[float], q: float) -> float | None:
    """DuckDB's ``quantile_cont(x, q)``; None for no values.

    Linear interpolation between the order statistics at floor and ceil of
    r = (n - 1) * q, with d = r - floor(r). DuckDB's source computes
    ``lo * (1 - d) + hi * d`` for DOUBLE, and its Linux x86-64 build fuses it
    into fma(lo, 1 - d, hi * d); doing the same gives bit-identical results
    (tests/test_daily.py checks against duckdb on random data), where the
    unfused expression differs in the last bit for several per cent of inputs.
    """
    ordered = sorted(values)
    if not ordered:
        return None
    rank = (len(ordered) - 1) * q
    lo_index, hi_index = math.floor(rank), math.ceil(rank)
    lo, hi = ordered[lo_index], ordered[hi_index]
    if lo_index == hi_index:
        return lo
    d = rank - lo_index
    return _fma(lo, 1.0 - d, hi * d)


def empty(table: str) -> list:
    if table == PAGE_STATS:
        return [0, 0, 0, 0, 0, []]
    if table == FRICTION:
        return [0, 0]
    if table == JOURNEY_STATS:
        return [0, 0, 0, 0, Fraction(0), Fraction(0), 0]
    if table == PATH_EDGES:
        return [0]
    raise ValueError(f"unknown daily table {table!r}")


def merge(acc: list, partial: list) -> list:
    """Adds ``partial`` into ``acc`` in place and returns ``acc``; ``partial`` is not changed."""
    for i, value in enumerate(partial):
        if isinstance(value, list):
            acc[i].extend(value)
        else:
            acc[i] += value
    return acc


class Slots:
    """One customer's partial accumulators, one per (table, key), made empty on first use."""

    def __init__(self, empty_of):
        self._empty_of = empty_of
        self._slots: dict[tuple[str, tuple], list] = {}

    def slot(self, table: str, key: tuple) -> list:
        acc = self._slots.get((table, key))
        if acc is None:
            acc = self._slots[(table, key)] = self._empty_of(table)
        return acc

    def partials(self) -> list[tuple[str, tuple, list]]:
        return [(table, key, acc) for (table, key), acc in self._slots.items()]


def partials(customer: CustomerJourneys) -> list[tuple[str, tuple, list]]:
    """One customer's contribution to every table: (table, key, partial), one per (table, key)."""
    slots = Slots(empty)
    slot = slots.slot

    days = {j.journey_id: day_of(j.started_at) for j in customer.journeys}
    bounced = {j.journey_id for j in customer.journeys if j.bounced}
    for j in customer.journeys:
        acc = slot(JOURNEY_STATS, (days[j.journey_id], j.acquisition_channel))
        acc[0] += 1
        acc[1] += bool(j.converted)
        acc[2] += bool(j.escalated)
        acc[3] += bool(j.bounced)
        acc[4] += Fraction(j.duration_s)
        acc[5] += Fraction(j.friction_score)
        acc[6] += j.effort_score

    counted: set[tuple] = set()  # (table, key, journey_id) already counted as a distinct journey
    by_journey: dict[str, list] = {}
    for v in customer.page_views:
        key = (days[v.journey_id], v.channel, v.page)
        acc = slot(PAGE_STATS, key)
        acc[0] += 1
        if (PAGE_STATS, key, v.journey_id) not in counted:
            counted.add((PAGE_STATS, key, v.journey_id))
            acc[1] += 1
        acc[2] += bool(v.is_exit)
        acc[3] += bool(v.is_entry and v.journey_id in bounced)
        if v.time_on_page_s is not None:
            acc[5].append(v.time_on_page_s)
        by_journey.setdefault(v.journey_id, []).append(v)

    for f in customer.friction:
        day = days[f.journey_id]
        if f.page is not None:  # chat frictions have no page, so no page_stats row
            slot(PAGE_STATS, (day, f.channel, f.page))[4] += 1
        key = (day, f.friction_type, f.page)  # None for chat frictions, as in friction_events
        acc = slot(FRICTION, key)
        acc[0] += 1
        if (FRICTION, key, f.journey_id) not in counted:
            counted.add((FRICTION, key, f.journey_id))
            acc[1] += 1

    # Journey-wide edges by seq, across devices and channels; A -> A (a reload) is an edge too.
    for journey_id, views in by_journey.items():
        views.sort(key=lambda v: v.seq)
        for a, b in zip(views, views[1:]):
            slot(PATH_EDGES, (days[journey_id], a.page, b.page))[0] += 1
    return slots.partials()


def _mean(total, n: int) -> float | None:
    return float(Fraction(total) / n) if n else None


def finish(table: str, key: tuple, acc: list) -> dict:
    """The table row (a dict with exactly the table's columns) for a merged accumulator."""
    row = dict(zip(KEYS[table], key))
    if table == PAGE_STATS:
        views, journeys, exits, bounces, friction_events, times = acc
        row.update(views=views, journeys=journeys,
                   avg_time_on_page_s=math.fsum(times) / len(times) if times else None,  # fsum: order-free
                   median_time_on_page_s=quantile_cont(times, 0.5), p90_time_on_page_s=quantile_cont(times, 0.9),
                   exits=exits, bounces=bounces, friction_events=friction_events)
    elif table == FRICTION:
        row.update(occurrences=acc[0], journeys=acc[1])
    elif table == JOURNEY_STATS:
        n, converted, escalated, bounced, duration, friction, effort = acc
        row.update(journeys=n, converted=converted, escalated=escalated, bounced=bounced,
                   avg_duration_s=_mean(duration, n), avg_friction_score=_mean(friction, n),
                   avg_effort_score=_mean(effort, n))
    elif table == PATH_EDGES:
        row.update(transitions=acc[0])
    else:
        raise ValueError(f"unknown daily table {table!r}")
    return row


def _row_order(item) -> tuple:
    """Rows by table, then key; a None key part (no page known) sorts first."""
    (table, key), _ = item
    return table, tuple((part is not None, part) for part in key)


class DailyAggregate(NamedTuple):
    """A family of daily tables computed the same way: fold each customer into partials per
    (table, key), merge partials slot by slot, finish each merged accumulator into a row.
    ``transforms/aggregates.py`` runs any of them as combiners; ``aggregate`` runs it in memory."""
    tables: tuple[str, ...]
    labels: tuple[str, ...]  # CamelCase step labels, one per table
    partials: Callable[[CustomerJourneys], list[tuple[str, tuple, list]]]
    empty: Callable[[str], list]
    finish: Callable[[str, tuple, list], dict]

    def aggregate(self, customers: Iterable[CustomerJourneys]) -> dict[str, list[dict]]:
        """Partials merged per (table, key) and finished, in memory: what the combiners compute, without Beam."""
        return aggregate_many((self,), customers)


def aggregate_many(aggregates: Sequence[DailyAggregate], customers: Iterable[CustomerJourneys]
                   ) -> dict[str, list[dict]]:
    """Every table of ``aggregates`` in one pass over ``customers`` (an iterator is read once):
    memory holds the merged accumulators, one per (table, key), not the customers."""
    merged: list[dict[tuple[str, tuple], list]] = [{} for _ in aggregates]
    for customer in customers:
        for spec, slots in zip(aggregates, merged):
            for table, key, partial in spec.partials(customer):
                merge(slots.setdefault((table, key), spec.empty(table)), partial)
    out: dict[str, list[dict]] = {}
    for spec, slots in zip(aggregates, merged):
        out.update({table: [] for table in spec.tables})
        for (table, key), acc in sorted(slots.items(), key=_row_order):
            out[table].append(spec.finish(table, key, acc))
    return out


JOURNEY_DAILY = DailyAggregate(TABLES, ("PageStats", "Friction", "JourneyStats", "PathEdges"), partials, empty, finish)


def aggregate(customers: Iterable[CustomerJourneys]) -> dict[str, list[dict]]:
    """All four tables in memory: what ``AggregateDaily`` computes, without Beam."""
    return JOURNEY_DAILY.aggregate(customers)
