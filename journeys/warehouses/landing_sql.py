"""The landing's SQL steps, described once for every warehouse.

``Warehouse.land`` (DuckDB, PostgreSQL) and the BigQuery MERGE script
(``bigquery_warehouse.merge_statements``) both build their statements here,
so they share the semantics by construction; only the names differ:

- ``table(name)``: a stored table (``events``, or ```project.dataset.events```);
- ``staged(name)``: a run's rows for a table or run-only file
  (``staged_events`` / ```project.dataset.events__staging```, and
  ``touched_days``, ``customers``, ``customer_devices``);
- ``quote(column)``: a column name, quoted (``partition`` and ``offset`` are
  keywords: ``"partition"`` in DuckDB and PostgreSQL, ```partition``` in BigQuery).

Aliases are ``stored`` and ``staged`` (``new`` is reserved in BigQuery). The
steps, in landing order:

1. ``clear_days``: the days the run recomputed whole lose their daily rows (and are no
   longer pending); ``add_pending``: the days the run touched but left to be
   recomputed once at the run's end (``staged('pending_days')``, pipelines/daily_settle.py);
2. ``upsert`` per keyed table: ``events`` first-landed-wins (insert the staged
   rows whose key is not stored yet), every other keyed table replaces the
   stored rows with the staged row of the same key;
3. ``replace_customers``: customers rebuilt from their whole history lose
   every stored row and device link, then their devices are linked again;
   ``relink_devices`` alone for customers rebuilt from a journey on
   (``partial_customers``, DuckDB and PostgreSQL only);
4. ``replace_journeys``: staged journeys replace every stored journey of the
   same customer that they overlap in time (children first), then go in.
"""
from __future__ import annotations

from typing import Callable, Collection, NamedTuple

from journeys.core import tables

TABLE_KEYS: dict[str, tuple[str, ...]] = {t.name: t.key for t in tables.KEYED_TABLES}
JOURNEY_TABLES = tuple(t.name for t in tables.JOURNEY_TABLES)
DAILY_TABLES = tuple(t.name for t in tables.DAILY_TABLES)
FIRST_WINS = tables.FIRST_WINS
REPLACED_JOURNEYS = "replaced_journeys"  # a temp table of step 4
PENDING_DAYS = tables.PENDING_DAYS.name


class Names(NamedTuple):
    table: Callable[[str], str]
    staged: Callable[[str], str]
    quote: Callable[[str], str]


def clear_days(n: Names) -> list[str]:
    return [f"DELETE FROM {n.table(t)} WHERE day IN (SELECT day FROM {n.staged('touched_days')})"
            for t in (*DAILY_TABLES, PENDING_DAYS)]


def add_pending(n: Names) -> list[str]:
    """Needs ``staged('pending_days')`` (day, distinct)."""
    return [f"INSERT INTO {n.table(PENDING_DAYS)} SELECT day FROM {n.staged(PENDING_DAYS)} staged "
            f"WHERE NOT EXISTS (SELECT 1 FROM {n.table(PENDING_DAYS)} stored WHERE stored.day = staged.day)"]


def upsert(n: Names, table: str, not_null: Collection[str] = ()) -> list[str]:
    """Keys match with IS NOT DISTINCT FROM (a NULL page is a key too); a key column in ``not_null``
    (NOT NULL in the stored table) with ``=``, the same match there, which PostgreSQL can hash or use
    an index for instead of comparing every staged row with every stored one."""
    match = " AND ".join(f"staged.{n.quote(k)} {'=' if k in not_null else 'IS NOT DISTINCT FROM'} stored.{n.quote(k)}"
                         for k in TABLE_KEYS[table])
    if table in FIRST_WINS:
        return [f"INSERT INTO {n.table(table)} SELECT * FROM {n.staged(table)} staged "
                f"WHERE NOT EXISTS (SELECT 1 FROM {n.table(table)} stored WHERE {match})"]
    return [f"DELETE FROM {n.table(table)} stored WHERE EXISTS (SELECT 1 FROM {n.staged(table)} staged WHERE {match})",
            f"INSERT INTO {n.table(table)} SELECT * FROM {n.staged(table)}"]


def replace_customers(n: Names) -> list[str]:
    """Needs ``staged('customers')`` (customer_id) and ``staged('customer_devices')`` (anonymous_id, customer_id)."""
    rebuilt = f"(SELECT customer_id FROM {n.staged('customers')})"
    return [*(f"DELETE FROM {n.table(t)} WHERE customer_id IN {rebuilt}" for t in JOURNEY_TABLES), *relink_devices(n)]


def relink_devices(n: Names) -> list[str]:
    """The staged customers' device links replace their stored ones, and each staged device's.

    Alone, for ``staged('customers')`` from the ``partial_customers`` file: customers rebuilt
    from a journey on keep their stored journeys (step 4 replaces those the run rebuilt)."""
    devices = n.table("customer_devices")
    return [f"DELETE FROM {devices} WHERE customer_id IN (SELECT customer_id FROM {n.staged('customers')})",
            f"DELETE FROM {devices} WHERE anonymous_id IN (SELECT anonymous_id FROM {n.staged('customer_devices')})",
            f"INSERT INTO {devices} SELECT * FROM {n.staged('customer_devices')}"]


def replace_journeys(n: Names) -> list[str]:
    """Leaves the temp table ``replaced_journeys`` behind (the caller drops it, or the script's end does)."""
    return [statement for _, statement in replace_journeys_by_table(n)]


def replace_journeys_by_table(n: Names) -> list[tuple[str, str]]:
    """``replace_journeys`` as (table, statement): the journey table each statement writes or reads."""
    steps = [("journeys",
              f"CREATE TEMP TABLE {REPLACED_JOURNEYS} AS "
              f"SELECT DISTINCT stored.journey_id FROM {n.table('journeys')} stored "
              f"JOIN {n.staged('journeys')} staged ON stored.customer_id = staged.customer_id "
              "AND (stored.journey_id = staged.journey_id "
              "OR (stored.started_at <= staged.ended_at AND stored.ended_at >= staged.started_at))")]
    for table in JOURNEY_TABLES:
        steps.append((table, f"DELETE FROM {n.table(table)} WHERE journey_id IN "
                             f"(SELECT journey_id FROM {REPLACED_JOURNEYS})"))
        steps.append((table, f"INSERT INTO {n.table(table)} SELECT * FROM {n.staged(table)}"))
    return steps


def landing_steps(n: Names) -> list[str]:
    """Every step, unconditionally (an empty staged table makes its step a no-op): the BigQuery script's body."""
    return [*clear_days(n), *(s for table in TABLE_KEYS for s in upsert(n, table)),
            *replace_customers(n), *replace_journeys(n)]
