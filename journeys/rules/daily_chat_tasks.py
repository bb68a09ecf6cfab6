"""``chat_stats_daily`` and ``task_effort_daily`` as mergeable partials; no Beam here.

The same design as ``journeys/rules/daily.py``: ``day`` is the UTC date of the
JOURNEY's start (a conversation or task attempt of a journey that starts at
23:59 counts on that day), one ``CustomerJourneys`` per customer (its
``conversations`` and ``task_attempts``) is folded
into one partial per (table, key) by ``partials``, partials merge slot by slot
with ``daily.merge`` (numbers add, lists concatenate: associative and
commutative), and ``finish`` makes the row. ``aggregate`` does it in memory.

Accumulators:
- chat_stats_daily, key (day,): [conversations, bot_contained, escalated,
  resolved, wait_s values, first_response_s values, csat sum (exact
  Fraction), csat count]. bot_contained: >= 1 bot message, no
  handoff_requested and no agent_joined; escalated: an agent_joined;
  escalation_rate = escalated / conversations; resolved: resolution
  "resolved"; medians exact (``quantile_cont``) over the non-null values, NULL
  when none; avg_csat over non-null csat, NULL when none.
- task_effort_daily, key (day, task): [attempts, completions, had_friction,
  effort_score sum, durations of completed attempts]. completion_rate =
  completions / attempts, friction_rate = had_friction / attempts,
  avg_effort_score = effort sum / attempts, median_duration_s over completed
  attempts (NULL when none).
"""
from __future__ import annotations

from fractions import Fraction
from typing import Iterable

from journeys.core import tables
from journeys.core.model import CustomerJourneys
from journeys.rules.daily import DailyAggregate, Slots, day_of, quantile_cont

_TABLES = (tables.CHAT_STATS_DAILY, tables.TASK_EFFORT_DAILY)
CHAT_STATS, TASK_EFFORT = TABLES = tuple(t.name for t in _TABLES)
KEYS = {t.name: t.key for t in _TABLES}
MEASURES = {t.name: t.measures for t in _TABLES}
COLUMNS = {t.name: t.columns for t in _TABLES}


def empty(table: str) -> list:
    if table == CHAT_STATS:
        return [0, 0, 0, 0, [], [], Fraction(0), 0]
    if table == TASK_EFFORT:
        return [0, 0, 0, 0, []]
    raise ValueError(f"unknown daily table {table!r}")


def partials(customer: CustomerJourneys) -> list[tuple[str, tuple, list]]:
    """One customer's contribution: (table, key, partial), one per (table, key)."""
    slots = Slots(empty)
    slot = slots.slot

    days = {j.journey_id: day_of(j.started_at) for j in customer.journeys}
    for c in customer.conversations:
        acc = slot(CHAT_STATS, (days[c.journey_id],))
        acc[0] += 1
        acc[1] += c.bot_messages >= 1 and c.handoff_at is None and c.agent_joined_at is None
        acc[2] += c.agent_joined_at is not None
        acc[3] += c.resolution == "resolved"
        if c.wait_s is not None:
            acc[4].append(c.wait_s)
        if c.first_response_s is not None:
            acc[5].append(c.first_response_s)
        if c.csat is not None:
            acc[6] += Fraction(c.csat)
            acc[7] += 1
    for a in customer.task_attempts:
        acc = slot(TASK_EFFORT, (days[a.journey_id], a.task))
        acc[0] += 1
        acc[1] += bool(a.completed)
        acc[2] += bool(a.had_friction)
        acc[3] += a.effort_score
        if a.completed and a.duration_s is not None:
            acc[4].append(a.duration_s)
    return slots.partials()


def _ratio(num, den: int) -> float | None:
    return float(Fraction(num) / den) if den else None


def finish(table: str, key: tuple, acc: list) -> dict:
    """The table row (exactly the table's columns) for a merged accumulator."""
    row = dict(zip(KEYS[table], key))
    if table == CHAT_STATS:
        n, contained, escalated, resolved, waits, responses, csat_sum, csat_n = acc
        row.update(conversations=n, bot_contained=contained, escalated=escalated,
                   escalation_rate=_ratio(escalated, n), median_wait_s=quantile_cont(waits, 0.5),
                   median_first_response_s=quantile_cont(responses, 0.5), resolved=resolved,
                   avg_csat=_ratio(csat_sum, csat_n))
    elif table == TASK_EFFORT:
        n, completions, friction, effort, durations = acc
        row.update(attempts=n, completions=completions, completion_rate=_ratio(completions, n),
                   median_duration_s=quantile_cont(durations, 0.5), friction_rate=_ratio(friction, n),
                   avg_effort_score=_ratio(effort, n))
    else:
        raise ValueError(f"unknown daily table {table!r}")
    return row


CHAT_TASK_DAILY = DailyAggregate(TABLES, ("ChatStats", "TaskEffort"), partials, empty, finish)


def aggregate(customers: Iterable[CustomerJourneys]) -> dict[str, list[dict]]:
    """Both tables in memory: what ``AggregateDaily(CHAT_TASK_DAILY)`` computes, without Beam."""
    return CHAT_TASK_DAILY.aggregate(customers)
