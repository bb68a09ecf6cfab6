"""A run's rows as the landing applies them, and the rows the warehouse refused (dead letters ``landing_failed``).

Decoding makes every value storable, but a run file can still hold a row the
warehouse rejects (a value out of a column's range, text PostgreSQL cannot
hold, a constraint). One such row must not fail the whole landing run after
run (a poison pill), so when the warehouse refuses the landing of the run's
files as they are (the normal path, landing_files), ``Warehouse.land`` lands
the run again as a ``Batch``:

1. ``Batch.add`` converts each line to the table's columns; a line that does
   not convert (not JSON, a time that is not one) is refused there and then;
2. the landing runs in one transaction; when the warehouse refuses it with a
   data error at a table (never a connection, lock or permission error: those
   still fail the run), ``refuse_culprit`` finds the row by bisecting that
   table's rows with rolled-back trials of the landing (log2 n of them) and
   takes it out, its dead letter in;
3. again, until the landing commits: O(bad x log n) transactions on the bad
   path, and nothing extra when every row lands.

A refused row's dead letter: source, partition and offset of the input for
an ``events`` row (the input became a dead letter after all), else
``landing:<table>``, partition 0 and a 63-bit hash of the row (re-landing the
same run upserts the same dead letter); ``received_at`` the run file's
modification time; ``detail`` the table and the warehouse's error message,
``payload`` the row as JSON text, both masked and storable as every dead
letter's are. Other rows of the run land as built: an event refused at
landing leaves its journey rows as they were computed (they counted it), a
refused journey row leaves its page views and friction rows in.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Callable, NamedTuple

from journeys.core.summary import RunSummary
from journeys.core.text import storable
from journeys.rules.masking import mask_json_text, mask_text

REASON = "landing_failed"
DETAIL_CHARS = 500  # as a decoding dead letter's detail
_INT32 = 2 ** 31
_INT64 = 2 ** 63


class Row(NamedTuple):
    fields: Any  # the run file's row (a dict), or its line when it is not JSON
    values: tuple  # in the table's columns, converted for the driver
    received_ms: int  # the run file's modification time: a refused row's received_at


class Refusal(NamedTuple):
    table: str  # where the row was to land
    dead_letter: dict  # its dead_letters row (received_at a datetime)


class Failure(NamedTuple):
    """A landing attempt the warehouse refused with a data error, at the step of ``table``."""
    table: str
    error: BaseException


@dataclass
class Batch:
    """Rows per table (run-only files ``touched_days`` and ``customers`` too), in file order."""
    columns: dict[str, list[str]] = field(default_factory=dict)
    rows: dict[str, list[Row]] = field(default_factory=dict)
    refused: list[Refusal] = field(default_factory=list)

    def add(self, table: str, line: str, received_ms: int, convert: Callable[[dict], tuple]) -> None:
        rows = self.rows.setdefault(table, [])
        try:
            fields = json.loads(line)
        except ValueError as error:
            self.refuse(table, line.rstrip("\n"), error, received_ms)
            return
        try:
            rows.append(Row(fields, convert(fields), received_ms))
        except (LookupError, TypeError, ValueError, ArithmeticError, OSError) as error:
            self.refuse(table, fields, error, received_ms)

    def values(self, table: str) -> list[tuple]:
        """The rows to stage for ``table``: dead_letters gets the refusals' after the run's own."""
        out = [row.values for row in self.rows.get(table, ())]
        if table == "dead_letters" and self.refused:
            columns = self.columns[table]
            out += [tuple(r.dead_letter.get(c) for c in columns) for r in self.refused]
        return out

    def staged_tables(self) -> set[str]:
        return set(self.rows) | ({"dead_letters"} if self.refused else set())

    def refuse(self, table: str, fields: Any, error: BaseException, received_ms: int) -> None:
        letter = dead_letter(table, fields, error, received_ms)
        key = _key(letter)
        if all(_key(r.dead_letter) != key for r in self.refused):  # the same row twice: one dead letter
            self.refused.append(Refusal(table, letter))

    def with_rows(self, table: str, rows: list[Row]) -> "Batch":
        return replace(self, rows={**self.rows, table: rows})


def refuse_culprit(batch: Batch, failure: Failure, attempt: Callable[[Batch], Any]) -> Batch:
    """``batch`` without the row that makes its landing fail at ``failure.table``, that row refused.

    The culprit ends the shortest prefix of the table's rows whose landing
    still fails there (so of two rows that clash on a key, the second):
    found by bisection, each probe one ``attempt`` (a rolled-back landing:
    its Failure, or anything else when it succeeded).
    A failure no row of the run's files explains (the table has none, or it
    fails without any) is raised as it is.
    """
    table, error = failure
    rows = batch.rows.get(table, [])
    low, high = 0, len(rows)  # the landing fails at ``table`` with rows[:high]; with rows[:low] it does not
    while high - low > 1:
        middle = (low + high) // 2
        probe = attempt(batch.with_rows(table, rows[:middle]))
        if _fails_at(probe, table):
            high, error = middle, probe.error
        else:
            low = middle
    if high == 0 or (high == 1 and _fails_at(attempt(batch.with_rows(table, [])), table)):
        raise error
    culprit = rows[high - 1]
    kept = batch.with_rows(table, rows[:high - 1] + rows[high:])
    kept.refused = list(batch.refused)
    kept.refuse(table, culprit.fields, error, culprit.received_ms)
    return kept


def _fails_at(probe: Any, table: str) -> bool:
    return isinstance(probe, Failure) and probe.table == table


def dead_letter(table: str, fields: Any, error: BaseException, received_ms: int) -> dict:
    """The dead_letters row of a refused row: its origin, the warehouse's error, the row as text; masked."""
    line = isinstance(fields, str)  # a line that is not JSON, as it was
    text = fields if line else json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    payload = mask_text(text) if line else mask_json_text(text)
    source, partition, offset = _origin(table, fields, text)
    message = " ".join(str(error).split()) or type(error).__name__
    return {"source": source, "partition": partition, "offset": offset,
            "received_at": datetime.fromtimestamp(received_ms / 1000, timezone.utc), "reason": REASON,
            "detail": storable(mask_text(f"{table}: {message}"[:DETAIL_CHARS]) or ""), "payload": storable(payload)}


def _origin(table: str, fields: Any, text: str) -> tuple[str, int, int]:
    if table == "events" and isinstance(fields, dict):
        source, partition, offset = fields.get("source"), fields.get("partition"), fields.get("offset")
        if (isinstance(source, str) and storable(source) == source
                and _fits(partition, _INT32) and _fits(offset, _INT64)):
            return source, partition, offset
    digest = hashlib.blake2b(f"{table}\n{text}".encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return f"landing:{table}", 0, int.from_bytes(digest, "big") >> 1


def _fits(value: Any, bound: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -bound <= value < bound


def _key(letter: dict) -> tuple:
    return letter["source"], letter["partition"], letter["offset"]


def with_refusals(summary: RunSummary, refused: tuple[Refusal, ...] | list[Refusal]) -> RunSummary:
    """The run's arithmetic once the landing refused rows.

    A refused event was an input counted as processed; it is a dead letter
    now, so input = processed + duplicates + dead letters still holds. Other
    refused rows were computed, not read: they are counted apart
    (``refused_rows``, printed under the arithmetic).
    """
    if not refused:
        return summary
    events = sum(r.table == "events" for r in refused)
    reasons = dict(summary.dead_letter_reasons)
    if events:
        reasons[REASON] = reasons.get(REASON, 0) + events
    derived: dict[str, int] = {}
    for r in refused:
        if r.table != "events":
            derived[r.table] = derived.get(r.table, 0) + 1
    return replace(summary, processed=summary.processed - events, dead_letters=summary.dead_letters + events,
                   dead_letter_reasons=dict(sorted(reasons.items())), refused_rows=dict(sorted(derived.items())))
