"""Data quality: Great Expectations suites over event batches and a run's outputs.

Suites are GX 1.x suite JSON files under ``schemas/quality/`` (``events.json``,
``aggregates.json``), loaded with ``gx.ExpectationSuite``; what a failing
expectation does is the policy (``schemas/quality/policy.json``):

- ``quarantine``: the failing rows become dead letters with reason
  ``quality:<expectation_type>:<column>`` (event suites only);
- ``fail``: the run raises ``QualityFailure`` before anything is landed or
  committed;
- ``report``: the result is recorded in ``quality_runs`` and nothing else.

Everything returns a ``QualityResult`` that becomes one ``quality_runs`` row
(``quality_run_row``). Volume and freshness checks are plain Python (they
compare this run with earlier runs or with the clock, which a suite over one
DataFrame cannot), but report the same way.
"""
from __future__ import annotations

import html
import json
import logging
import os
import threading
import uuid
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

# Before GX is imported: no usage statistics sent anywhere, no noise.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import pandas as pd  # noqa: E402

QUARANTINE, FAIL, REPORT = "quarantine", "fail", "report"
POLICIES = (QUARANTINE, FAIL, REPORT)
EVENTS_SUITE, AGGREGATES_SUITE = "events", "aggregates"
VOLUME, FRESHNESS = "volume", "freshness"
REASON_PREFIX = "quality:"
# Columns of an events batch (journeys.events.Event fields the events suite reads).
EVENT_COLUMNS = ("event_id", "event_type", "channel", "event_time", "anonymous_id", "conversation_id",
                 "csat_score", "x", "y", "revenue", "search_results")
_NUMERIC_EVENT_COLUMNS = ("csat_score", "x", "y", "revenue", "search_results")
SAMPLE_SIZE = 20  # unexpected values kept per expectation in details


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

    def keys_with_policy(self, policy: str) -> list[str]:
        return [e["key"] for e in self.details.get("expectations", [])
                if not e["success"] and e["policy"] == policy]

    def raise_on_fail(self) -> "QualityResult":
        failing = self.keys_with_policy(FAIL)
        if failing:
            raise QualityFailure(self, failing)
        return self


# -- files ---------------------------------------------------------------------

def quality_dir() -> Path:
    return Path(str(resources.files("journeys.schemas").joinpath("quality")))


def _suite_path(name_or_path: str | Path) -> Path:
    path = Path(name_or_path)
    if path.suffix == ".json" or path.exists():
        return path
    return quality_dir() / f"{name_or_path}.json"


def load_suite(name_or_path: str | Path = EVENTS_SUITE):
    """A ``gx.ExpectationSuite`` from its GX JSON file (a name under schemas/quality, or a path)."""
    gx = _gx()
    with open(_suite_path(name_or_path), encoding="utf-8") as stream:
        data = json.load(stream)
    return gx.ExpectationSuite(**data)


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


# -- GX, once per process (a Beam worker builds its Validator in DoFn.setup) ----------

def _gx():
    # Quiet before the import: GX logs at INFO while importing and creating contexts.
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx

    # Some GX modules pin their own logger at INFO (e.g. the ephemeral docs site notice).
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("great_expectations."):
            logging.getLogger(name).setLevel(logging.ERROR)
    return gx


def expectation_key(config) -> str:
    """``<expectation_type>:<column>`` (pairs: ``column_A,column_B``), as in reasons and the policy."""
    kwargs = config.kwargs
    if "column" in kwargs:
        column = kwargs["column"]
    elif "column_A" in kwargs:
        column = f"{kwargs['column_A']},{kwargs['column_B']}"
    elif "column_list" in kwargs:
        column = ",".join(kwargs["column_list"])
    else:
        column = ""
    return f"{config.type}:{column}"


class Validator:
    """An ephemeral GX context with one pandas whole-DataFrame batch definition.

    Building it imports GX and creates the context: do it once per process or
    worker (``DoFn.setup``), then call ``validate`` per batch.
    """
    created = 0  # how many were built in this process (tests count worker setups)
    _lock = threading.Lock()

    def __init__(self):
        gx = _gx()
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        source = self.context.data_sources.add_pandas(f"journeys-{uuid.uuid4().hex[:8]}")
        self.batch_definition = source.add_dataframe_asset("frame").add_batch_definition_whole_dataframe("whole")
        with Validator._lock:
            Validator.created += 1

    def validate(self, df: pd.DataFrame, suite, policy: Policy | None = None,
                 parameters: Mapping[str, Any] | None = None, policy_suite: str | None = None) -> QualityResult:
        """``policy_suite``: the suite name the policy knows (default the suite's own name)."""
        policy = policy or Policy()
        df = df.reset_index(drop=True)
        batch = self.batch_definition.get_batch(batch_parameters={"dataframe": df})
        gx_result = batch.validate(suite, result_format={"result_format": "COMPLETE"},
                                   expectation_parameters=dict(parameters or {}))
        return _to_quality_result(suite.name, gx_result, len(df), policy, policy_suite or suite.name)


_DEFAULT_VALIDATOR: Validator | None = None


def default_validator() -> Validator:
    global _DEFAULT_VALIDATOR
    if _DEFAULT_VALIDATOR is None:
        _DEFAULT_VALIDATOR = Validator()
    return _DEFAULT_VALIDATOR


def _sample(values: Iterable[Any]) -> list:
    from journeys.rules.masking import mask_text

    out = []
    for value in list(values or [])[:SAMPLE_SIZE]:
        if isinstance(value, str):
            value = mask_text(value[:200])
        elif hasattr(value, "item"):
            value = value.item()
        elif isinstance(value, (list, tuple)):
            value = [v.item() if hasattr(v, "item") else v for v in value]
        out.append(value)
    return out


def _condition_text(condition) -> str:
    """``channel == 'web'`` from a GX comparison condition (object or its JSON dict)."""
    if hasattr(condition, "model_dump"):
        condition = condition.model_dump()
    elif hasattr(condition, "dict") and not isinstance(condition, dict):
        condition = condition.dict()
    if isinstance(condition, dict) and {"column", "operator", "parameter"} <= set(condition):
        column = condition["column"]
        name = column.get("name") if isinstance(column, dict) else getattr(column, "name", column)
        return f"{name} {condition['operator']} {condition['parameter']!r}"
    return str(condition)


def _to_quality_result(suite_name: str, gx_result, rows: int, policy: Policy, policy_suite: str) -> QualityResult:
    expectations, failing = [], {}
    for r in gx_result.results:
        config = r.expectation_config
        key = expectation_key(config)
        raised = bool(r.exception_info and r.exception_info.get("raised_exception"))
        result = r.result or {}
        indices = tuple(int(i) for i in (result.get("unexpected_index_list") or []))
        entry = {"key": key, "type": config.type, "policy": policy.for_key(policy_suite, key),
                 "success": bool(r.success), "element_count": int(result.get("element_count") or 0),
                 "unexpected_count": int(result.get("unexpected_count") or 0),
                 "sample": _sample(result.get("partial_unexpected_list"))}
        if config.kwargs.get("row_condition"):
            entry["row_condition"] = _condition_text(config.kwargs["row_condition"])
        if raised:
            # A suite that cannot run (a missing column, a bad kwarg) stops the run whatever the policy.
            entry.update(success=False, policy=FAIL, error=str(r.exception_info.get("exception_message"))[:500])
        if "observed_value" in result:
            entry["observed_value"] = _sample([result["observed_value"]])[0]
        expectations.append(entry)
        if not entry["success"] and indices:
            failing[key] = tuple(sorted(set(failing.get(key, ())) | set(indices)))
    failed = sum(not e["success"] for e in expectations)
    return QualityResult(suite=suite_name, success=failed == 0, evaluated=len(expectations), failed=failed,
                         details={"rows": rows, "batches": 1, "expectations": expectations}, failing=failing)


def validate_frame(df: pd.DataFrame, suite, policy: Policy | None = None,
                   parameters: Mapping[str, Any] | None = None, validator: Validator | None = None,
                   policy_suite: str | None = None) -> QualityResult:
    """Validates one DataFrame with a GX suite (a loaded suite or a suite name/path)."""
    if isinstance(suite, (str, Path)):
        suite = load_suite(suite)
    return (validator or default_validator()).validate(df, suite, policy, parameters, policy_suite)


def merge_results(results: Iterable[QualityResult], suite: str | None = None) -> QualityResult:
    """Several batches of one suite as one run: counts add up, an expectation fails if it failed anywhere."""
    results = list(results)
    name = suite or (results[0].suite if results else EVENTS_SUITE)
    by_key: dict[str, dict] = {}
    rows = batches = 0
    for result in results:
        rows += result.details.get("rows", 0)
        batches += result.details.get("batches", 1)
        for e in result.details.get("expectations", []):
            merged = by_key.get(e["key"] + e.get("row_condition", ""))
            if merged is None:
                by_key[e["key"] + e.get("row_condition", "")] = {**e, "sample": list(e["sample"]),
                                                                 "failed_batches": int(not e["success"])}
                continue
            merged["success"] = merged["success"] and e["success"]
            merged["failed_batches"] += int(not e["success"])
            merged["element_count"] += e["element_count"]
            merged["unexpected_count"] += e["unexpected_count"]
            merged["sample"] = (merged["sample"] + e["sample"])[:SAMPLE_SIZE]
            if "error" in e:
                merged.setdefault("error", e["error"])
    expectations = list(by_key.values())
    failed = sum(not e["success"] for e in expectations)
    return QualityResult(suite=name, success=failed == 0, evaluated=len(expectations), failed=failed,
                         details={"rows": rows, "batches": batches, "expectations": expectations})


def quality_run_row(run_id: str, suite: str, result: QualityResult, checked_at: datetime | int | None = None
                    ) -> dict:
    """A ``quality_runs`` row (contract section 3); ``checked_at`` ISO-8601 UTC (epoch ms or datetime in)."""
    if checked_at is None:
        checked_at = datetime.now(timezone.utc)
    elif isinstance(checked_at, (int, float)):
        checked_at = datetime.fromtimestamp(checked_at / 1000, timezone.utc)
    return {"run_id": run_id, "suite": suite, "checked_at": checked_at.isoformat(), "success": result.success,
            "evaluated": result.evaluated, "failed": result.failed, "details": result.details}


# -- events ---------------------------------------------------------------------

def events_frame(events: Sequence) -> pd.DataFrame:
    """A batch of ``Event`` as the DataFrame the events suite validates (row i = events[i])."""
    data = {name: [getattr(e, name) for e in events] for name in EVENT_COLUMNS}
    frame = pd.DataFrame(data, columns=list(EVENT_COLUMNS))
    for name in _NUMERIC_EVENT_COLUMNS:
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    frame["event_time"] = frame["event_time"].astype("int64")
    return frame


def event_parameters(validation=None, run_started_ms: int | None = None) -> dict[str, int]:
    """The events suite's ``$PARAMETER`` values: event_time bounds as in contract section 4."""
    from journeys.core.config import ValidationConfig
    from journeys.core.events import parse_event_time

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


def quarantined_dead_letter(event, keys: Sequence[str]):
    """A ``DeadLetter`` for an event failing ``keys``: reason from the first, payload the masked stored event.

    ``received_at`` is the event's own time (an Event does not carry the Kafka
    timestamp), so a re-run writes the same row.
    """
    from journeys.rules.masking import mask_text
    from journeys.warehouses.rows import stored_event
    from journeys.wire.decode import DeadLetter

    payload = mask_text(json.dumps(stored_event(event), sort_keys=True))
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


# -- aggregates (the run's outputs, before landing) ----------------------------------------

def _day_of_ms(value) -> str:
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value / 1000, timezone.utc).date().isoformat()
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(timezone.utc).date().isoformat()


def read_run_tables(run_dir: str | Path, tables: Iterable[str] | None = None) -> dict[str, list[dict]]:
    """A run directory's JSON-lines outputs as rows per table."""
    from journeys.warehouses.base import read_rows, run_files

    names = tables or ("journeys", "page_views", "page_stats_daily", "friction_daily", "journey_stats_daily",
                       "path_edges_daily", "chat_stats_daily", "task_effort_daily", "touched_days", "customers",
                       "events")
    return {name: list(read_rows(run_files(Path(run_dir), name))) for name in names}


def stored_day_counts(warehouse_url: str | None, tables: Mapping[str, list[dict]]) -> dict[str, tuple[int, int]]:
    """Per touched day, (journeys, page views) already stored for customers this run does not rebuild.

    Landing replaces every row of a rebuilt customer, so after landing a day
    holds these plus this run's own rows: what its daily rows must add up to.
    Read before landing; no warehouse (or nothing stored) means {}.
    """
    if not warehouse_url:
        return {}
    from journeys.warehouses.history import History

    days = sorted({row["day"] for row in tables.get("touched_days", [])})
    if not days:
        return {}
    rebuilt = {row["customer_id"] for row in tables.get("customers", [])}
    history = History(warehouse_url)
    try:
        counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for customer in history.customers_on_days(days, rebuilt):
            started = {j.journey_id: _day_of_ms(j.started_at) for j in customer.journeys}
            for day in started.values():
                counts[day][0] += 1
            for view in customer.page_views:
                counts[started[view.journey_id]][1] += 1
        return {day: (j, v) for day, (j, v) in counts.items()}
    finally:
        history.close()


def aggregate_frames(tables: Mapping[str, list[dict]], stored: Mapping[str, tuple[int, int]] | None = None
                     ) -> dict[str, pd.DataFrame]:
    """The frames the aggregates suite reads: the run's tables plus derived ones.

    - ``page_views`` gains ``engaged_minus_time_on_page_s`` (null where time
      on page is unknown);
    - ``day_totals``: per day of the run's daily rows, journeys and page view
      rows after landing (this run's + ``stored``) against the daily sums;
    - ``run_totals``: sum of journeys.page_view_count against page_views rows.
    """
    frames = {name: pd.DataFrame(list(rows)) for name, rows in tables.items()}
    views = frames.get("page_views")
    if views is not None and not views.empty:
        views["engaged_minus_time_on_page_s"] = (pd.to_numeric(views["engaged_time_s"])
                                                 - pd.to_numeric(views["time_on_page_s"]))
    journeys = tables.get("journeys", [])
    journey_day = {j["journey_id"]: _day_of_ms(j["started_at"]) for j in journeys}
    rows_by_day: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for day, (j, v) in (stored or {}).items():
        rows_by_day[day][0] += j
        rows_by_day[day][1] += v
    for day in journey_day.values():
        rows_by_day[day][0] += 1
    for view in tables.get("page_views", []):
        rows_by_day[journey_day.get(view["journey_id"], "?")][1] += 1
    daily: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in tables.get("journey_stats_daily", []):
        daily[row["day"]][0] += row["journeys"]
    for row in tables.get("page_stats_daily", []):
        daily[row["day"]][1] += row["views"]
    days = sorted(set(daily) | set(rows_by_day))
    frames["day_totals"] = pd.DataFrame(
        {"day": days, "journeys_rows": [rows_by_day[d][0] if d in rows_by_day else 0 for d in days],
         "journeys_daily": [daily[d][0] if d in daily else 0 for d in days],
         "page_view_rows": [rows_by_day[d][1] if d in rows_by_day else 0 for d in days],
         "page_views_daily": [daily[d][1] if d in daily else 0 for d in days]},
        columns=["day", "journeys_rows", "journeys_daily", "page_view_rows", "page_views_daily"])
    frames["run_totals"] = pd.DataFrame({"page_view_count_sum": [sum(j["page_view_count"] for j in journeys)],
                                         "page_view_rows": [len(tables.get("page_views", []))]})
    return frames


def _column_names(kwargs: Mapping[str, Any]) -> list[str]:
    names = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    return names + list(kwargs.get("column_list", []))


def split_suite(suite) -> dict[str, Any]:
    """The aggregates suite split by each expectation's ``meta.table``: {table: sub-suite}."""
    gx = _gx()
    data = suite.to_json_dict()
    by_table: dict[str, list[dict]] = defaultdict(list)
    for e in data["expectations"]:
        spec = {"type": e["type"], "kwargs": e["kwargs"], "meta": e.get("meta") or {}}
        by_table[spec["meta"]["table"]].append(spec)
    return {table: gx.ExpectationSuite(name=f"{data['name']}.{table}", expectations=specs)
            for table, specs in by_table.items()}


def check_aggregates(tables: Mapping[str, list[dict]], stored: Mapping[str, tuple[int, int]] | None = None,
                     suite=AGGREGATES_SUITE, policy: Policy | None = None, journey_config=None,
                     validator: Validator | None = None, raise_on_fail: bool = True) -> QualityResult:
    """The aggregates suite over a run's output rows (lists of dicts per table), before landing.

    Raises ``QualityFailure`` when an expectation whose policy is ``fail``
    fails (unless ``raise_on_fail`` is false), so nothing gets landed.
    """
    from journeys.core.config import JourneyConfig

    policy = policy or Policy.load()
    journey_config = journey_config or JourneyConfig()
    if isinstance(suite, (str, Path)):
        suite = load_suite(suite)
    parameters = {"engaged_tolerance_s": journey_config.heartbeat_s + journey_config.min_visit_s}
    frames = aggregate_frames(tables, stored)
    results = []
    for table, sub in split_suite(suite).items():
        frame = frames.get(table)
        columns = sorted({c for e in sub.expectations for c in _column_names(e.configuration.kwargs)})
        if frame is None or frame.empty:
            frame = pd.DataFrame({c: pd.Series([], dtype="float64") for c in columns})
        else:
            for c in columns:
                if c not in frame:
                    frame[c] = None
        one = validate_frame(frame, sub, policy, parameters, validator, policy_suite=suite.name)
        for e in one.details["expectations"]:
            e["table"] = table
        results.append(replace(one, suite=suite.name))
    merged = merge_results(results, suite.name)
    merged.details["rows"] = {t: len(r) for t, r in tables.items() if t not in ("customers", "events")}
    merged.details.pop("batches", None)
    return merged.raise_on_fail() if raise_on_fail else merged


# -- volume and freshness ---------------------------------------------------------

def channel_counts(event_rows: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for row in event_rows:
        counts[row["channel"]] += 1
    return dict(sorted(counts.items()))


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


def recent_volume_counts(connection, window: int = 7) -> list[dict[str, int]]:
    """Channel counts of the last ``window`` ``volume`` rows of quality_runs, oldest first (a DB-API connection)."""
    cursor = connection.cursor()
    cursor.execute("SELECT details FROM quality_runs WHERE suite = 'volume' ORDER BY checked_at DESC, run_id DESC "
                   f"LIMIT {int(window)}")
    out = []
    for (details,) in cursor.fetchall():
        if isinstance(details, (str, bytes)):
            details = json.loads(details)
        out.append({k: int(v) for k, v in (details or {}).get("counts", {}).items()})
    return out[::-1]


def enforce(results: Iterable[QualityResult]) -> None:
    """Raises ``QualityFailure`` for the first result with a failed ``fail`` expectation or check."""
    for result in results:
        result.raise_on_fail()


# -- a page of the latest results -------------------------------------------------

def data_docs(html_dir: str | Path, results: Mapping[str, QualityResult] | Sequence[QualityResult],
              run_id: str = "") -> Path:
    """Writes ``index.html`` under ``html_dir``: one table per suite or check of the latest run.

    A self-made page, not GX Data Docs: a run's results are merged across
    batches and include checks GX does not run (volume, freshness), which GX
    Data Docs (rendered from GX validation results in a file-backed context's
    stores) cannot show.
    """
    if isinstance(results, Mapping):
        results = list(results.values())
    out = Path(html_dir)
    out.mkdir(parents=True, exist_ok=True)
    esc = html.escape
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>journeys quality</title><style>",
             "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}"
             "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:13px}"
             ".ok{color:#176d2c}.bad{color:#b00020;font-weight:bold}</style></head><body>",
             f"<h1>Data quality{(' — run ' + esc(run_id)) if run_id else ''}</h1>"]
    for r in results:
        cls = "ok" if r.success else "bad"
        parts.append(f"<h2>{esc(r.suite)}: <span class='{cls}'>{'passed' if r.success else 'FAILED'}</span> "
                     f"({r.evaluated - r.failed}/{r.evaluated} passed)</h2>")
        parts.append("<table><tr><th>expectation</th><th>table / condition</th><th>policy</th><th>result</th>"
                     "<th>unexpected / elements</th><th>sample / observed</th></tr>")
        for e in r.details.get("expectations", []):
            ok = e["success"]
            where = e.get("table") or e.get("row_condition") or ""
            counts = (f"{e.get('unexpected_count', '')} / {e.get('element_count', '')}"
                      if "element_count" in e else "")
            observed = {k: v for k, v in e.items() if k in ("sample", "observed_value", "count", "mean", "ratio",
                                                            "age_s", "max_age_s", "newest_event_at", "error")}
            parts.append(f"<tr><td>{esc(e['key'])}</td><td>{esc(str(where))}</td><td>{esc(e['policy'])}</td>"
                         f"<td class='{'ok' if ok else 'bad'}'>{'ok' if ok else 'failed'}</td>"
                         f"<td>{esc(counts)}</td><td><code>{esc(json.dumps(observed, default=str))}</code></td></tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    index = out / "index.html"
    index.write_text("\n".join(parts), encoding="utf-8")
    return index
