"""The landing's normal path: the warehouse reads a run's files itself, with no Python per row.

``Warehouse.land`` first stages every table straight from its JSON-lines run
files (DuckDB: ``read_json``; PostgreSQL: the lines ``COPY``ed as text, then
``json_to_record``), each column read as the stored table's type, and then
runs the same set-based SQL (landing_sql). It takes values only in the shapes
the pipeline writes them (``rows.py``, the models' rows, the aggregates):

- a time column (``tables.TIME_COLUMNS``): epoch milliseconds as a JSON
  integer (years 1 to 9999, the range Python's datetime takes), or an
  ISO-8601 string ``YYYY-MM-DDTHH:MM:SS[.ffffff]`` with ``Z`` or an offset;
  null or missing is NULL;
- a JSON column (``events.record``, ``quality_runs.details``): a JSON object or
  array, stored as its JSON text (compact, in the run file's key order);
- ``touched_days.day``: a ``YYYY-MM-DD`` string; ``customers.devices``: a list;
- any other column: the warehouse's own reading of the JSON value as the
  column's type, which is the cast the row-by-row path leaves to it too.

Anything else fails the attempt with the warehouse's error: a line that is
not JSON or not UTF-8, a value of another shape or out of its column's range,
a constraint. The landing then rolls back and lands the run row by row
(``landing_batch``: every value converted in Python, the failing table
bisected, its bad rows refused as dead letters ``landing_failed``). So the
fast path lands a subset of what the row-by-row path lands, with the same
values; it costs one failed attempt on a run with a bad row.
"""
from __future__ import annotations

from typing import NamedTuple

from journeys.core import tables

TIME = "time"
JSON = "json"
DAY = "day"
TEXT_LIST = "text_list"

# Python's datetime years 1 to 9999 in epoch milliseconds: what the row-by-row path's to_time takes.
MIN_MS = -62_135_596_800_000
MAX_MS = 253_402_300_799_999
# The ISO-8601 times the pipeline writes (datetime.isoformat() of an aware time, or Z), which
# Python's fromisoformat and both warehouses' casts read alike; RE2 (DuckDB) and POSIX (PostgreSQL) syntax.
ISO_TIME = (r"^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?"
            r"(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$")
ISO_DAY = r"^\d{4}-\d{2}-\d{2}$"
INTEGER = r"^-?[0-9]{1,15}$"  # a JSON integer's text, within the range of milliseconds above

# The run-only files as the landing stages them: touched_days and customers.
RUN_FILE_KINDS: dict[str, list[tuple[str, str]]] = {
    "touched_days": [("day", DAY)], "pending_days": [("day", DAY)], "customers": [("customer_id", "VARCHAR"), ("devices", TEXT_LIST)],
    "partial_customers": [("customer_id", "VARCHAR"), ("devices", TEXT_LIST)]}


def column_kinds(columns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(name, kind) of a table's (name, warehouse type): TIME, JSON, or the type itself."""
    return [(name, TIME if name in tables.TIME_COLUMNS else JSON if kind.lower() == "json" else kind)
            for name, kind in columns]


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Dialect(NamedTuple):
    """How a warehouse spells what the checks need (each a format string)."""
    json_type: str  # a JSON value's type, named as in ``type_names``
    type_names: dict[str, str]  # object, array, string, null as json_type names them
    regex: str  # {0} matches the regular expression {1}
    string: str  # the text of the JSON string {0}
    from_ms: str  # the TIMESTAMPTZ of epoch milliseconds {0} (a BIGINT)
    refuse: str  # fails the statement with the message {0} in place of a value of type {1}


READ_AS = {TIME: "JSON", JSON: "JSON", DAY: "VARCHAR", TEXT_LIST: "JSON"}  # others as the table's type


def checked(column: str, kind: str, d: Dialect) -> str:
    """SQL of a column's value once read, failing the statement when it is not in one of the pipeline's shapes.

    Nested CASEs, not AND, guard each cast: both warehouses evaluate a CASE's branches in order.
    """
    def is_type(*names: str) -> str:
        return f"{d.json_type.format(column)} IN ({', '.join(literal(d.type_names[n]) for n in names)})"

    text = f"CAST({column} AS VARCHAR)"
    if kind == TIME:
        ms, string = f"CAST({text} AS BIGINT)", d.string.format(column)
        refused = d.refuse.format(f"'not a run file time: ' || {text}", "TIMESTAMPTZ")
        return (f"CASE WHEN {column} IS NULL OR {is_type('null')} THEN NULL "
                f"WHEN {d.regex.format(text, literal(INTEGER))} THEN CASE WHEN {ms} BETWEEN {MIN_MS} AND {MAX_MS} "
                f"THEN {d.from_ms.format(ms)} ELSE {refused} END "
                f"WHEN {is_type('string')} AND {d.regex.format(string, literal(ISO_TIME))} "
                f"THEN CAST({string} AS TIMESTAMPTZ) ELSE {refused} END")
    if kind == JSON:
        refused = d.refuse.format(f"'not a JSON object or array: ' || {text}", "JSON")
        return (f"CASE WHEN {column} IS NULL OR {is_type('null')} THEN NULL "
                f"WHEN {is_type('object', 'array')} THEN {column} ELSE {refused} END")
    if kind == DAY:
        refused = d.refuse.format(f"'not a day: ' || coalesce({column}, 'null')", "DATE")
        return f"CASE WHEN {d.regex.format(column, literal(ISO_DAY))} THEN CAST({column} AS DATE) ELSE {refused} END"
    if kind == TEXT_LIST:
        refused = d.refuse.format(f"'not a list: ' || coalesce({text}, 'null')", "JSON")
        return f"CASE WHEN {is_type('array')} THEN {column} ELSE {refused} END"
    return column
