"""What quality results are and what a failing expectation does: names, results, the policy file.

Suites are GX 1.x suite JSON files under ``schemas/quality/`` (``events.json``,
``aggregates.json``); what a failing expectation does is the policy
(``schemas/quality/policy.json``):

- ``quarantine``: the failing rows become dead letters with reason
  ``quality:<expectation_type>:<column>`` (event suites only);
- ``fail``: the run raises ``QualityFailure`` before anything is landed or
  committed;
- ``report``: the result is recorded in ``quality_runs`` and nothing else.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from journeys.core.errors import ConfigError
from journeys.core.schema_files import quality_dir  # noqa: F401  (part of this module's API)

QUARANTINE, FAIL, REPORT = "quarantine", "fail", "report"
POLICIES = (QUARANTINE, FAIL, REPORT)
EVENTS_SUITE, AGGREGATES_SUITE = "events", "aggregates"
VOLUME, FRESHNESS = "volume", "freshness"


class QualityFailure(RuntimeError):
    """An expectation whose policy is ``fail`` failed: the run must stop before landing."""

    def __init__(self, result: "QualityResult", keys: Sequence[str]):
        self.result = result
        self.keys = tuple(keys)
        super().__init__(f"quality suite {result.suite!r} failed: {', '.join(self.keys)}")


@dataclass(frozen=True)
class QualityResult:
    """One suite (or check) over one batch or one run.

    ``evaluated``/``failed`` count expectations (checks), as GX's statistics do;
    ``details["expectations"]`` has one entry per expectation with its key,
    policy, element and unexpected counts and a masked sample of unexpected
    values; ``failing`` maps an expectation key to the failing row positions
    (0-based, in the DataFrame's row order), for quarantine.
    """
    suite: str
    success: bool
    evaluated: int
    failed: int
    details: dict = field(default_factory=dict)
    failing: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "QualityResult":
        """Back from a ``quality_runs`` row (``run_checks.quality_run_row``); ``details`` a dict or JSON."""
        details = row.get("details")
        if not isinstance(details, dict):
            details = json.loads(details or "{}")
        return cls(row["suite"], bool(row["success"]), int(row["evaluated"]), int(row["failed"]), details)

    def keys_with_policy(self, policy: str) -> list[str]:
        return [e["key"] for e in self.details.get("expectations", [])
                if not e["success"] and e["policy"] == policy]

    def raise_on_fail(self) -> "QualityResult":
        failing = self.keys_with_policy(FAIL)
        if failing:
            raise QualityFailure(self, failing)
        return self


@dataclass(frozen=True)
class Policy:
    """What a failing expectation or check does. File format (``schemas/quality/policy.json``)::

        {"version": 1,
         "suites": {"<suite>": {"default": "quarantine|fail|report",
                                "expectations": {"<expectation_type>:<column>": "<policy>",
                                                 "<expectation_type>": "<policy>"}}},
         "checks": {"volume": {"policy": "report", "min_ratio": 0.5, "window": 7, "min_history": 3},
                    "freshness": {"policy": "report", "max_age_s": 21600}}}

    The most specific entry wins: ``type:column``, then ``type``, then the
    suite's ``default`` (``fail`` when the suite is not listed). ``quarantine``
    is refused for suites over a run's outputs (aggregates): there is no row
    to dead-letter.
    """
    suites: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    checks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self):
        for name, spec in self.suites.items():
            for value in (spec.get("default", FAIL), *spec.get("expectations", {}).values()):
                if value not in POLICIES:
                    raise ValueError(f"policy {value!r} in suite {name!r} is not one of {POLICIES}")
            if name != EVENTS_SUITE and QUARANTINE in (spec.get("default"), *spec.get("expectations", {}).values()):
                raise ValueError(f"suite {name!r}: quarantine applies to event rows only")
        for name, spec in self.checks.items():
            if spec.get("policy", REPORT) not in (FAIL, REPORT):
                raise ValueError(f"check {name!r}: policy must be fail or report")

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Policy":
        with open(path or quality_dir() / "policy.json", encoding="utf-8") as stream:
            data = json.load(stream)
        return cls(suites=data.get("suites", {}), checks=data.get("checks", {}))

    def for_key(self, suite: str, key: str) -> str:
        spec = self.suites.get(suite, {})
        rules = spec.get("expectations", {})
        return rules.get(key) or rules.get(key.split(":", 1)[0]) or spec.get("default", FAIL)

    def check(self, name: str) -> dict:
        return dict(self.checks.get(name, {}))


def check_policy_setting(policy_path: str | None) -> None:
    """``[quality] policy_path`` names a readable policy file whose policies are known (ConfigError if not)."""
    if policy_path is None:
        return
    try:
        Policy.load(policy_path)
    except (OSError, ValueError):
        raise ConfigError("quality.policy_path", policy_path,
                          "a readable policy JSON file whose policies are quarantine, fail or report") from None
