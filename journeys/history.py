"""What earlier runs stored, read back so a run can rebuild the customers it touches.

A bounded run sees only new events; a journey left open by the last run, a
login that re-stitches a device, or a repeat contact needs the customer's
stored events too. The reader answers from the warehouse's ``events`` and
``customer_devices`` tables, read-only.
"""
from __future__ import annotations

import json
from typing import Iterable

from journeys.events import Event
from journeys.warehouses import warehouse_for

_EVENT_FIELDS = frozenset(Event._fields)


def event_from_stored(record: str | dict) -> Event:
    fields = json.loads(record) if isinstance(record, str) else dict(record)
    return Event(**{k: v for k, v in fields.items() if k in _EVENT_FIELDS})


class History:
    """Read-only look-ups against one warehouse; open in ``DoFn.setup``."""

    def __init__(self, warehouse_url: str):
        self._warehouse = warehouse_for(warehouse_url)
        self._con = self._warehouse.read_only_connection()
        self._mark = self._warehouse.placeholder

    def close(self) -> None:
        self._con.close()

    def _query(self, sql: str, values: list) -> list[tuple]:
        cursor = self._con.cursor()
        cursor.execute(sql, values)
        return cursor.fetchall()

    def _in(self, values: list) -> str:
        return ", ".join([self._mark] * len(values))

    def device_events(self, anonymous_ids: Iterable[str]) -> list[Event]:
        ids = sorted(set(anonymous_ids))
        if not ids:
            return []
        rows = self._query(f"SELECT record FROM events WHERE anonymous_id IN ({self._in(ids)})", ids)
        return [event_from_stored(row[0]) for row in rows]

    def customers_of(self, anonymous_ids: Iterable[str]) -> dict[str, str]:
        ids = sorted(set(anonymous_ids))
        if not ids:
            return {}
        return dict(self._query(f"SELECT anonymous_id, customer_id FROM customer_devices "
                                f"WHERE anonymous_id IN ({self._in(ids)})", ids))

    def devices_of(self, customer_id: str) -> list[str]:
        return [row[0] for row in self._query(
            f"SELECT anonymous_id FROM customer_devices WHERE customer_id = {self._mark}", [customer_id])]
