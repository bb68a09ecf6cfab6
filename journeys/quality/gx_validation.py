"""Great Expectations: suites from their files, one GX context per process, results as QualityResult.

A Beam worker builds its ``Validator`` (GX import and an ephemeral context)
once, in ``DoFn.setup``, and validates each batch with it; ``merge_results``
adds a run's batches up.
"""
from __future__ import annotations

import json
import logging
import os
import uuid
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from journeys.core.schema_files import suite_path
from journeys.quality.policy import EVENTS_SUITE, FAIL, Policy, QualityResult
from journeys.rules.masking import mask_text

SAMPLE_SIZE = 20  # unexpected values kept per expectation in details


def import_gx():
    """The ``great_expectations`` module, imported quietly and without usage statistics.

    Imported here, on first use, rather than at module level: GX takes seconds
    to import, which would slow down every command (``journeys --help``
    included), and its analytics switch and loggers must be set before the
    import, since GX logs at INFO while importing and creating contexts.
    """
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx  # lazy on purpose, see above

    # Some GX modules pin their own logger at INFO (e.g. the ephemeral docs site notice).
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("great_expectations."):
            logging.getLogger(name).setLevel(logging.ERROR)
    return gx


def load_suite(name_or_path: str | Path = EVENTS_SUITE):
    """A ``gx.ExpectationSuite`` from its GX JSON file (a name under schemas/quality, or a path)."""
    gx = import_gx()
    with open(suite_path(name_or_path), encoding="utf-8") as stream:
        data = json.load(stream)
    return gx.ExpectationSuite(**data)


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

    def __init__(self):
        gx = import_gx()
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = gx.data_context.types.base.ProgressBarsConfig(globally=False)
        source = self.context.data_sources.add_pandas(f"journeys-{uuid.uuid4().hex[:8]}")
        self.batch_definition = source.add_dataframe_asset("frame").add_batch_definition_whole_dataframe("whole")

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
    """This process's Validator, built on first use (for validation outside Beam)."""
    global _DEFAULT_VALIDATOR
    if _DEFAULT_VALIDATOR is None:
        _DEFAULT_VALIDATOR = Validator()
    return _DEFAULT_VALIDATOR


def _sample(values: Iterable[Any]) -> list:
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
    """A GX suite validation result as a QualityResult: per expectation its key, policy, counts, sample."""
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
