"""Checks over a whole run in plain Python, and results as ``quality_runs`` rows.

Volume and freshness compare this run with earlier runs or with the clock,
which a suite over one DataFrame cannot; they report as ``QualityResult``s
like the suites. The earlier runs' counts are read by the caller
(``journeys.warehouses.quality_runs.recent_volume_counts``) and passed in.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable, Mapping, Sequence

from journeys.quality.policy import FRESHNESS, REPORT, VOLUME, QualityResult


def volume_check(counts_now: Mapping[str, int], history: Sequence[Mapping[str, int]], *,
                 min_ratio: float = 0.5, window: int = 7, min_history: int = 3, policy: str = REPORT
                 ) -> QualityResult:
    """Each channel's event count against the mean of its last ``window`` runs (``history`` oldest first).

    A channel fails when it has at least ``min_history`` earlier runs and its
    count is below ``min_ratio`` x their mean (a channel missing now counts 0).
    """
    recent = list(history)[-window:]
    channels = sorted(set(counts_now) | {c for h in recent for c in h})
    expectations = []
    for channel in channels:
        past = [h.get(channel, 0) for h in recent]
        mean = sum(past) / len(past) if past else None
        now = counts_now.get(channel, 0)
        judged = len(past) >= min_history and mean is not None and mean > 0
        ok = not judged or now >= min_ratio * mean
        expectations.append({"key": f"volume:{channel}", "type": "volume", "policy": policy, "success": ok,
                             "count": now, "mean": mean, "runs": len(past), "min_ratio": min_ratio,
                             "ratio": None if not mean else now / mean, "judged": judged})
    failed = sum(not e["success"] for e in expectations)
    return QualityResult(VOLUME, failed == 0, len(expectations), failed,
                         {"counts": dict(counts_now), "expectations": expectations})


def freshness_check(newest_event_ms: int | None, now_ms: int, max_age_s: float, policy: str = REPORT
                    ) -> QualityResult:
    """The newest event is at most ``max_age_s`` old at ``now_ms``; no events at all fails too."""
    age_s = None if newest_event_ms is None else (now_ms - newest_event_ms) / 1000
    ok = age_s is not None and age_s <= max_age_s
    newest = (None if newest_event_ms is None
              else datetime.fromtimestamp(newest_event_ms / 1000, timezone.utc).isoformat())
    entry = {"key": "freshness:event_time", "type": "freshness", "policy": policy, "success": ok,
             "newest_event_at": newest, "age_s": age_s, "max_age_s": max_age_s}
    return QualityResult(FRESHNESS, ok, 1, int(not ok), {"expectations": [entry]})


def enforce(results: Iterable[QualityResult]) -> None:
    """Raises ``QualityFailure`` for the first result with a failed ``fail`` expectation or check."""
    for result in results:
        result.raise_on_fail()


def quality_run_row(run_id: str, suite: str, result: QualityResult, checked_at: datetime | int | None = None
                    ) -> dict:
    """A ``quality_runs`` row (contract section 3); ``checked_at`` ISO-8601 UTC (epoch ms or datetime in)."""
    if checked_at is None:
        checked_at = datetime.now(timezone.utc)
    elif isinstance(checked_at, (int, float)):
        checked_at = datetime.fromtimestamp(checked_at / 1000, timezone.utc)
    return {"run_id": run_id, "suite": suite, "checked_at": checked_at.isoformat(), "success": result.success,
            "evaluated": result.evaluated, "failed": result.failed, "details": result.details}
