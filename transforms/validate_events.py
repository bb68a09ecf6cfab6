"""ValidateEvents: the events expectation suite (Great Expectations) on batches of events.

``PCollection[list[Event]]`` -> ``ValidatedEvents(events, dead_letters, results, quality_runs, failures)``
(``events`` lists of events, the others one element each):

- lists of events are grouped with ``beam.BatchElements`` by their total size,
  and each batch, sorted by (source, partition, offset), becomes a pandas
  DataFrame validated by GX;
- the GX context and the suite are built once per worker, in ``DoFn.setup``;
- rows failing a ``quarantine`` expectation (found with GX's COMPLETE result
  format, ``unexpected_index_list``) become ``DeadLetter``s with reason
  ``quality:<expectation_type>:<column>`` and the masked stored event as
  payload;
- a batch failing a ``fail`` expectation goes, as its ``QualityResult``, to
  ``failures``: data, so the driver recognises it whatever the runner (a
  runner may hand a worker's exception back as text only) and lands and
  commits nothing. With ``raise_on_fail`` (the default) a step after the
  validation raises ``QualityFailure`` on it, which fails the pipeline;
- ``results``: one ``QualityResult`` per batch; ``quality_runs``: those merged
  into one ``quality_runs`` row (a dict) for the run, when a ``run_id`` is
  given (the table's key is (run_id, suite), and batch boundaries are not
  deterministic, so per-batch rows would not be reproducible).

Counters keep the run's arithmetic balanced: a quarantined event moves from
``processed`` to ``dead_letters`` (reason ``dead_letter.quality:...``);
``validator_setups`` counts the GX contexts built (one per DoFn set up).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import apache_beam as beam
from apache_beam.metrics import Metrics

from journeys import quality
from journeys.transforms.batches import Batch, flatten

NAMESPACE = "journeys"
VALID, DEAD, RESULTS, FAILURES = "valid", "quarantined", "results", "failures"
# Events per GX validation. A suite is checked per batch; every expectation of ours is row by row, so
# the batch size changes none of its results, only the cost. A 50,000-event run validated in one batch
# peaked at 984 MiB in 27.2 s, in batches of 25,000 at 822 MiB in 24.4 s, of 10,000 at 744 MiB in
# 25.7 s: GX's frames and results, not its per-call cost, decide.
MIN_EVENTS_PER_VALIDATION = 10_000
MAX_EVENTS_PER_VALIDATION = 10_000


def _position(event):
    return event.position


class ValidatedEvents(NamedTuple):
    events: beam.PCollection  # Event that passed (or only failed report-policy expectations)
    dead_letters: beam.PCollection  # DeadLetter, reason quality:<expectation_type>:<column>
    results: beam.PCollection  # QualityResult per batch
    quality_runs: beam.PCollection | None  # one quality_runs row (dict) for the run, if run_id was given
    failures: beam.PCollection  # QualityResult of each batch that failed a ``fail`` expectation


class _ValidateBatchFn(beam.DoFn):
    def __init__(self, suite_path: str | None, policy: quality.Policy | str | None, parameters: Mapping[str, Any]):
        self._suite_path = suite_path or quality.EVENTS_SUITE
        self._policy_spec = policy
        self._parameters = dict(parameters)
        self._validator = self._suite = self._policy = None
        self._validator_built = False

    def setup(self):
        # One per process: a bounded Kafka run is a pipeline per chunk, and a GX context costs seconds.
        self._validator = quality.default_validator()
        self._validator_built = True  # counted in the first bundle: Beam drops metrics updated in setup()
        self._suite = quality.load_suite(self._suite_path)
        spec = self._policy_spec
        self._policy = spec if isinstance(spec, quality.Policy) else quality.Policy.load(spec)
        self._processed = Metrics.counter(NAMESPACE, "processed")
        self._dead = Metrics.counter(NAMESPACE, "dead_letters")
        self._quarantined = Metrics.counter(NAMESPACE, "quarantined")
        self._batches = Metrics.counter(NAMESPACE, "quality_batches")
        self._size = Metrics.distribution(NAMESPACE, "quality_batch_size")
        self._setups = Metrics.counter(NAMESPACE, "validator_setups")

    def start_bundle(self):
        if self._validator_built:
            self._setups.inc()
            self._validator_built = False

    def process(self, batches):
        events = sorted(flatten(batches), key=_position)
        frame = quality.events_frame(events)
        result = self._validator.validate(frame, self._suite, self._policy, self._parameters,
                                          policy_suite=quality.EVENTS_SUITE)
        self._batches.inc()
        self._size.update(len(events))
        if result.keys_with_policy(quality.FAIL):
            yield beam.pvalue.TaggedOutput(FAILURES, result)
        bad = quality.quarantine_rows(result, frame)
        kept = [event for i, event in enumerate(events) if i not in bad]
        if kept:
            yield kept
        for i in sorted(bad):
            dead = quality.quarantined_dead_letter(events[i], bad[i])
            Metrics.counter(NAMESPACE, f"dead_letter.{dead.reason}").inc()
            yield beam.pvalue.TaggedOutput(DEAD, dead)
        if bad:
            self._processed.dec(len(bad))
            self._dead.inc(len(bad))
            self._quarantined.inc(len(bad))
        yield beam.pvalue.TaggedOutput(RESULTS, quality.QualityResult(
            result.suite, result.success, result.evaluated, result.failed,
            {**result.details, "quarantined": len(bad)}))


def _raise_on_fail(result: quality.QualityResult) -> None:
    result.raise_on_fail()


class _MergeResults(beam.CombineFn):
    def create_accumulator(self):
        return []

    def add_input(self, acc, result):
        acc.append(result)
        return self._compact(acc)

    def merge_accumulators(self, accs):
        return self._compact([r for acc in accs for r in acc])

    def extract_output(self, acc):
        merged = quality.merge_results(acc, quality.EVENTS_SUITE)
        merged.details["quarantined"] = sum(r.details.get("quarantined", 0) for r in acc)
        return merged

    @staticmethod
    def _compact(acc):
        if len(acc) < 64:
            return acc
        quarantined = sum(r.details.get("quarantined", 0) for r in acc)
        merged = quality.merge_results(acc, quality.EVENTS_SUITE)
        merged.details["quarantined"] = quarantined
        return [merged]


class ValidateEvents(beam.PTransform):
    """Validates events in batches with a GX suite file and a policy.

    ``suite_path``: a suite name under schemas/quality or a JSON path (default
    ``events``); ``policy``: a ``quality.Policy``, a policy file path, or None
    for schemas/quality/policy.json; ``parameters``: the suite's
    ``$PARAMETER`` values (default ``quality.event_parameters()`` — the
    contract's event_time bounds from now); ``run_id`` and ``checked_at_ms``
    make the ``quality_runs`` output; ``raise_on_fail``: fail the pipeline
    on a failed ``fail`` expectation (false: only the ``failures`` output,
    for a driver that acts on it after the run).
    """

    def __init__(self, suite_path: str | None = None, policy: quality.Policy | str | None = None, *,
                 parameters: Mapping[str, Any] | None = None, run_id: str | None = None,
                 checked_at_ms: int | None = None, min_batch_size: int = MIN_EVENTS_PER_VALIDATION,
                 max_batch_size: int = MAX_EVENTS_PER_VALIDATION,
                 raise_on_fail: bool = True):
        """``min_batch_size`` is capped at ``max_batch_size``."""
        super().__init__()
        self._raise_on_fail = raise_on_fail
        self._suite_path = suite_path
        self._policy = policy
        self._parameters = dict(parameters) if parameters is not None else quality.event_parameters()
        self._run_id = run_id
        self._checked_at_ms = checked_at_ms
        self._batch = (min(min_batch_size, max_batch_size), max_batch_size)

    def expand(self, events):
        outputs = (events
                   | "Batch" >> beam.BatchElements(min_batch_size=self._batch[0], max_batch_size=self._batch[1],
                                                   element_size_fn=len)
                   | "Validate" >> beam.ParDo(_ValidateBatchFn(self._suite_path, self._policy, self._parameters)
                                              ).with_output_types(Batch).with_outputs(DEAD, RESULTS, FAILURES, main=VALID))
        if self._raise_on_fail:
            _ = outputs[FAILURES] | "RaiseOnFail" >> beam.Map(_raise_on_fail)
        runs = None
        if self._run_id is not None:
            run_id, checked_at_ms = self._run_id, self._checked_at_ms
            runs = (outputs[RESULTS]
                    | "MergeResults" >> beam.CombineGlobally(_MergeResults())
                    | "QualityRunRow" >> beam.Map(
                        lambda r: quality.quality_run_row(run_id, quality.EVENTS_SUITE, r, checked_at_ms)))
        return ValidatedEvents(outputs[VALID], outputs[DEAD], outputs[RESULTS], runs, outputs[FAILURES])
