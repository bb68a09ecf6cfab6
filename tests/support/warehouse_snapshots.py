"""Every contract table of a warehouse as sorted tuples, to compare two paths over the same events.

The columns are those contract section 3 fixes (support.contract), plus the
stored events, devices, conversations and task attempts. Dead letters are
compared by reason and payload (a quarantined event's payload names where it
was read: those keys go). """
from __future__ import annotations

import json

import duckdb
import psycopg

from support.contract import CONTRACT_TABLES

EXTRA = {"events": "event_id event_type channel event_time anonymous_id user_id",
         "customer_devices": "anonymous_id customer_id",
         "conversations": "journey_id customer_id conversation_id started_at bot_messages handoff_at "
                          "agent_joined_at first_response_s wait_s resolution csat",
         "task_attempts": "journey_id customer_id task started_at completed duration_s had_friction effort_score"}
COMPARED = {**{t: c for t, c in CONTRACT_TABLES.items() if t not in ("dead_letters", "quality_runs")},
            **EXTRA, "dead_letters": "reason payload"}


def _payload(payload: str) -> str:
    try:
        record = json.loads(payload)
    except ValueError:
        return payload
    if isinstance(record, dict):
        for key in ("source", "partition", "offset"):
            record.pop(key, None)
    return json.dumps(record, sort_keys=True)


def cell(value):
    """One stored value in a form both warehouses give alike: times as epoch ms, dates ISO, floats
    rounded to 1e-9, JSON text and dicts with sorted keys."""
    if hasattr(value, "astimezone"):
        return round(value.timestamp() * 1000)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 9)
    if isinstance(value, str) and value.startswith("{"):
        try:
            return json.dumps(json.loads(value), sort_keys=True)
        except ValueError:  # a dead letter's payload
            return value
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return value


def snapshot(fetch) -> dict[str, list]:
    out = {}
    for table, columns in COMPARED.items():
        names = ", ".join(f'"{c}"' for c in columns.split())
        rows = [tuple(cell(c) for c in row) for row in fetch(f"SELECT {names} FROM {table}")]
        if table == "dead_letters":
            rows = [(reason, _payload(payload)) for reason, payload in rows]
        out[table] = sorted(rows, key=repr)
    return out


def duckdb_snapshot(url: str) -> dict[str, list]:
    with duckdb.connect(url[len("duckdb:"):], read_only=True) as con:
        return snapshot(lambda sql: con.execute(sql).fetchall())


def postgres_snapshot(url: str) -> dict[str, list]:
    with psycopg.connect(url) as con:
        return snapshot(lambda sql: con.execute(sql).fetchall())


def differences(got: dict, want: dict, limit: int = 3) -> dict[str, dict]:
    """Per table that differs: a few missing and extra rows (JSON-able)."""
    out = {}
    for table in COMPARED:
        if got[table] != want[table]:
            out[table] = {"missing": [repr(r) for r in want[table] if r not in got[table]][:limit],
                          "extra": [repr(r) for r in got[table] if r not in want[table]][:limit],
                          "got": len(got[table]), "want": len(want[table])}
    return out
