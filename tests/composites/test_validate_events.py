"""ValidateEvents under the DirectRunner: quarantine, failure, one GX context per worker, counters."""
from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to
from support.quality_events import STRICT_POLICY, T0, event, params

from journeys.pipelines.runners import make_runner
from journeys.quality import FAIL, QUARANTINE, Policy
from journeys.transforms.validate_events import ValidateEvents


def broken_batch():
    return [event(1), event(2, "csat", "chat", csat_score=9), event(3, "purchase", revenue=-5.0),
            event(4, "tap"), event(5, event_time=T0 + 10 * 86_400_000), event(6, "search", search_results=3)]


def test_broken_events_are_quarantined_and_one_quality_runs_row_is_made():
    p = TestPipeline(runner=make_runner())
    out = (p | beam.Create([[e] for e in broken_batch()])
           | ValidateEvents(policy=str(STRICT_POLICY), parameters=params(), run_id="run-1", checked_at_ms=T0,
                            max_batch_size=2))
    # 4 has an event type outside the contract's lists: reported (policy "report"), kept
    assert_that(out.events | "Ids" >> beam.FlatMap(lambda b: [e.offset for e in b]), equal_to([1, 4, 6]), label="valid")
    assert_that(out.dead_letters | "Reasons" >> beam.Map(lambda d: (d.offset, d.reason)), equal_to([
        (2, "quality:expect_column_values_to_be_between:csat_score"),
        (3, "quality:expect_column_values_to_be_between:revenue"),
        (5, "quality:expect_column_values_to_be_between:event_time")]), label="dead")
    assert_that(out.quality_runs | "Row" >> beam.Map(
        lambda r: (r["run_id"], r["suite"], r["checked_at"], r["success"], r["failed"], r["details"]["rows"],
                   r["details"]["quarantined"])),
        equal_to([("run-1", "events", "2023-11-14T22:13:20+00:00", False, 4, 6, 3)]), label="runs")
    result = p.run()
    result.wait_until_finish()
    counters = {c.key.metric.name: c.committed
                for c in result.metrics().query(MetricsFilter().with_namespace("journeys"))["counters"]}
    assert counters["quarantined"] == 3 and counters["dead_letters"] == 3 and counters["processed"] == -3
    assert counters["dead_letter.quality:expect_column_values_to_be_between:csat_score"] == 1


def test_fail_policy_fails_the_pipeline():
    policy = Policy(suites={"events": {"default": QUARANTINE,
                                       "expectations": {"expect_column_values_to_be_between:revenue": FAIL}}})
    p = TestPipeline(runner=make_runner())
    _ = p | beam.Create([broken_batch()]) | ValidateEvents(policy=policy, parameters=params())
    with pytest.raises(Exception, match="revenue"):
        p.run().wait_until_finish()


def test_gx_context_and_suite_are_built_once_per_worker_not_per_batch():
    events = [event(i) for i in range(400)]
    p = TestPipeline(runner=make_runner())
    out = p | beam.Create([[e] for e in events]) | ValidateEvents(parameters=params(), min_batch_size=10, max_batch_size=10)
    batches = out.results | beam.combiners.Count.Globally()
    assert_that(batches, equal_to([40]))
    result = p.run()
    result.wait_until_finish()
    counters = {c.key.metric.name: c.committed
                for c in result.metrics().query(MetricsFilter().with_namespace("journeys"))["counters"]}
    assert counters["quality_batches"] == 40
    # one Validator (GX context) per DoFn set up: the FnApiRunner may set up a second instance, never one per batch
    assert 1 <= counters["validator_setups"] <= 2


def test_an_empty_run_still_reports():
    p = TestPipeline(runner=make_runner())
    out = p | beam.Create([]) | ValidateEvents(parameters=params(), run_id="run-0", checked_at_ms=T0)
    assert_that(out.quality_runs | beam.Map(lambda r: (r["success"], r["evaluated"], r["failed"])),
                equal_to([(True, 0, 0)]))
    p.run().wait_until_finish()
