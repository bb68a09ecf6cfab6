"""Data quality: Great Expectations suites over event batches and a run's outputs.

Suites are GX 1.x suite JSON files under ``schemas/quality/``; the policy
(``schemas/quality/policy.json``) says what a failing expectation does:
quarantine the rows (events only), fail the run before anything is landed
or committed, or only report. Everything returns a ``QualityResult`` that
becomes one ``quality_runs`` row.

One job per module:

- ``policy``: names, ``QualityResult``, ``QualityFailure``, ``Policy``;
- ``gx_validation``: the GX import, suites, ``Validator``, merging batches;
- ``event_gate``: the events suite on a batch, quarantine as dead letters;
- ``aggregate_gate``: the aggregates suite over a run's output rows;
- ``run_checks``: volume and freshness, ``enforce``, ``quality_run_row``;
- ``results_page``: journeys' own HTML page of a run's results;
- ``gx_data_docs``: GX's own Data Docs of stored events.

Quality reads no warehouse: callers read run files, stored rows and earlier
results (``journeys.warehouses``) and pass them in.
"""
from journeys.quality.aggregate_gate import aggregate_frames, check_aggregates, split_suite
from journeys.quality.event_gate import (
    EVENT_COLUMNS,
    REASON_PREFIX,
    check_events,
    event_parameters,
    events_frame,
    quarantine_rows,
    quarantined_dead_letter,
)
from journeys.quality.gx_data_docs import build_data_docs
from journeys.quality.gx_validation import (
    SAMPLE_SIZE,
    Validator,
    default_validator,
    expectation_key,
    import_gx,
    load_suite,
    merge_results,
    suite_path,
    validate_frame,
)
from journeys.quality.policy import (
    AGGREGATES_SUITE,
    EVENTS_SUITE,
    FAIL,
    FRESHNESS,
    POLICIES,
    QUARANTINE,
    REPORT,
    VOLUME,
    Policy,
    QualityFailure,
    QualityResult,
    quality_dir,
)
from journeys.quality.results_page import data_docs
from journeys.quality.run_checks import enforce, freshness_check, quality_run_row, volume_check

__all__ = [
    "AGGREGATES_SUITE", "EVENTS_SUITE", "EVENT_COLUMNS", "FAIL", "FRESHNESS", "POLICIES", "QUARANTINE",
    "REASON_PREFIX", "REPORT", "SAMPLE_SIZE", "VOLUME",
    "Policy", "QualityFailure", "QualityResult", "Validator",
    "aggregate_frames", "build_data_docs", "check_aggregates", "check_events", "data_docs",
    "default_validator", "enforce", "event_parameters", "events_frame", "expectation_key", "freshness_check",
    "import_gx", "load_suite", "merge_results", "quality_dir", "quality_run_row", "quarantine_rows",
    "quarantined_dead_letter", "split_suite", "suite_path", "validate_frame", "volume_check",
]
