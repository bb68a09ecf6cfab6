"""The events gate on one batch: events as a DataFrame, the suite's parameters, quarantine as dead letters."""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

import pandas as pd

from journeys.core.config import ValidationConfig
from journeys.core.events import parse_event_time
from journeys.quality.gx_validation import Validator, validate_frame
from journeys.quality.policy import EVENTS_SUITE, QUARANTINE, Policy, QualityResult
from journeys.rules.masking import mask_json_text, mask_text
from journeys.warehouses.rows import stored_event
from journeys.wire.decode import DeadLetter

REASON_PREFIX = "quality:"
# Columns of an events batch (journeys.core.events.Event fields the events suite reads).
EVENT_COLUMNS = ("event_id", "event_type", "channel", "event_time", "anonymous_id", "conversation_id",
                 "csat_score", "x", "y", "revenue", "search_results")
_NUMERIC_EVENT_COLUMNS = ("csat_score", "x", "y", "revenue", "search_results")


def events_frame(events: Sequence) -> pd.DataFrame:
    """A batch of ``Event`` as the DataFrame the events suite validates (row i = events[i])."""
    data = {name: [getattr(e, name) for e in events] for name in EVENT_COLUMNS}
    frame = pd.DataFrame(data, columns=list(EVENT_COLUMNS))
    for name in _NUMERIC_EVENT_COLUMNS:
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    frame["event_time"] = frame["event_time"].astype("int64")
    return frame


def event_parameters(validation: ValidationConfig | None = None, run_started_ms: int | None = None
                     ) -> dict[str, int]:
    """The events suite's ``$PARAMETER`` values: event_time bounds as in contract section 4."""
    validation = validation or ValidationConfig()
    if run_started_ms is None:
        run_started_ms = int(datetime.now(timezone.utc).timestamp() * 1000)
    return {"min_event_time_ms": parse_event_time(validation.min_event_time),
            "max_event_time_ms": run_started_ms + validation.max_future_s * 1000}


def quarantine_rows(result: QualityResult, frame: pd.DataFrame | None = None) -> dict[int, list[str]]:
    """Row position -> keys of the failed ``quarantine`` expectations it fails, in suite order.

    ``expect_column_values_to_be_unique`` flags every copy; the first copy in the
    batch's order is kept and only the later ones are quarantined (the batch is
    in (source, partition, offset) order, so "first wins" as in dedup).
    """
    bad: dict[int, list[str]] = defaultdict(list)
    for key in result.keys_with_policy(QUARANTINE):
        rows = result.failing.get(key, ())
        if key.startswith("expect_column_values_to_be_unique:") and frame is not None:
            column = key.split(":", 1)[1]
            seen = set()
            later = []
            for i in rows:
                value = frame[column].iloc[i]
                if value in seen:
                    later.append(i)
                seen.add(value)
            rows = later
        for i in rows:
            bad[i].append(key)
    return dict(bad)


def quarantined_dead_letter(event, keys: Sequence[str]) -> DeadLetter:
    """A ``DeadLetter`` for an event failing ``keys``: reason from the first, payload the masked stored event.

    ``received_at`` is the event's own time (an Event does not carry the Kafka
    timestamp), so a re-run writes the same row.
    """
    # The stored event is masked already; mask_json_text masks strings only, never its epoch-ms times.
    payload = mask_json_text(json.dumps(stored_event(event), sort_keys=True))
    detail = "; ".join(f"{k} ({_value_of(event, k)})" for k in keys)
    return DeadLetter(source=event.source, partition=event.partition, offset=event.offset,
                      received_at=datetime.fromtimestamp(event.event_time / 1000, timezone.utc).isoformat(),
                      reason=REASON_PREFIX + keys[0], detail=mask_text(detail[:500]) or "", payload=payload,
                      raw=payload.encode("utf-8"))


def _value_of(event, key: str) -> str:
    column = key.split(":", 1)[1]
    return f"{column}={str(getattr(event, column, None))[:64]!r}" if column in EVENT_COLUMNS else column


def check_events(events: Sequence, suite=EVENTS_SUITE, policy: Policy | None = None,
                 parameters: Mapping[str, Any] | None = None, validator: Validator | None = None):
    """One batch, outside Beam: (kept events, quarantined DeadLetters, QualityResult); raises on ``fail``."""
    policy = policy or Policy.load()
    events = sorted(events, key=lambda e: e.position)
    frame = events_frame(events)
    result = validate_frame(frame, suite, policy, parameters or event_parameters(), validator)
    result.raise_on_fail()
    bad = quarantine_rows(result, frame)
    kept = [e for i, e in enumerate(events) if i not in bad]
    dead = [quarantined_dead_letter(events[i], keys) for i, keys in sorted(bad.items())]
    return kept, dead, replace(result, details={**result.details, "quarantined": len(dead)})
