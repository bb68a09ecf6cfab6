"""StitchIdentities and SessioniseJourneys under TestPipeline and TestStream."""
import json

import apache_beam as beam
import duckdb
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms import trigger, window
from support.model_helpers import MINUTE, SECOND, T0, ev, screen, view

from journeys.core.config import Config
from journeys.pipelines.ingest import build_journeys
from journeys.pipelines.runners import make_runner
from journeys.rules.journey_builder import build_customer_journeys
from journeys.warehouses.duckdb_warehouse import DuckDBWarehouse

CONFIG = Config()


def cross_channel_events():
    """cookie-1 browses, later logs in as cust-1; device-1 (app, logged in) and chat-1
    (verified as cust-1) join the same customer; cookie-2 stays anonymous."""
    return [
        view("w1", "/", 0, "cookie-1"),
        view("w2", "/offers", 30 * SECOND, "cookie-1"),
        ev("w3", "login", 50 * SECOND, "cookie-1", page_url="https://shop.example.com/login", user_id="cust-1"),
        screen("a1", "home", 5 * MINUTE, "device-1")._replace(user_id="cust-1"),
        ev("c1", "conversation_start", 10 * MINUTE, "chat-1"),
        ev("c2", "message", 10 * MINUTE + SECOND, "chat-1", sender="system", user_id="cust-1"),
        view("x1", "/", 0, "cookie-2"),
        view("x2", "/", 3 * 60 * MINUTE, "cookie-2"),  # 3 h later: a second journey
    ]


def test_identities_are_stitched_across_channels_into_journeys():
    with TestPipeline(runner=make_runner()) as p:
        built = build_journeys(p | beam.Create([cross_channel_events()]), CONFIG)
        assert_that(built.journeys | beam.Map(lambda j: (j.customer_id, j.channels, j.event_count)),
                    equal_to([("cust-1", "web,app,chat", 6), ("cookie-2", "web", 1), ("cookie-2", "web", 1)]),
                    label="Journeys")
        assert_that(built.friction | beam.Map(lambda f: (f.customer_id, f.friction_type)),
                    equal_to([("cust-1", "channel_switch")]), label="Friction")


def test_arrival_order_does_not_matter():
    events = cross_channel_events()
    expected = build_customer_journeys("cust-1", [e for e in events if e.anonymous_id != "cookie-2"], CONFIG)
    with TestPipeline(runner=make_runner()) as p:
        built = build_journeys(p | beam.Create([[e] for e in reversed(events)]), CONFIG)
        assert_that(built.customers | beam.Filter(lambda c: c.journeys[0].customer_id == "cust-1"),
                    equal_to([expected]))


# --- event time: TestStream ----------------------------------------------------

def bridging_stream():
    """Journey A (0-5 min) and journey B (50-55 min) are 45 min apart: two journeys.
    A late event at 27 min (behind the watermark) leaves gaps of 22 and 23 min: one journey."""
    a = [view("a1", "/", 0), view("a2", "/offers", 5 * MINUTE)]
    b = [view("b1", "/help", 50 * MINUTE), view("b2", "/", 55 * MINUTE)]
    late = view("late", "/search", 27 * MINUTE)
    stream = (TestStream()
              .add_elements([window.TimestampedValue(e, e.event_time / 1000) for e in reversed(a)])
              .advance_watermark_to((T0 + 10 * MINUTE) / 1000)
              .add_elements([window.TimestampedValue(e, e.event_time / 1000) for e in b])
              .advance_watermark_to((T0 + 60 * MINUTE) / 1000)
              .advance_processing_time(60)
              .add_elements([window.TimestampedValue(late, late.event_time / 1000)])
              .advance_watermark_to_infinity())
    return a + b + [late], stream


class _WithPane(beam.DoFn):
    def process(self, customer, pane=beam.DoFn.PaneInfoParam):
        yield (pane.index, customer)


def streaming_pipeline():
    options = PipelineOptions()
    options.view_as(StandardOptions).streaming = True
    return TestPipeline(runner="BundleBasedDirectRunner", options=options)


def test_late_bridging_event_merges_two_journeys_and_replaces_both_rows(tmp_path):
    all_events, stream = bridging_stream()
    in_order = build_customer_journeys("cookie-1", all_events, CONFIG)
    warehouse = tmp_path / "w.duckdb"

    def check(snapshots):
        ordered = [customer for _, customer in sorted(snapshots, key=lambda s: s[0])]
        journey_counts = [len(c.journeys) for c in ordered]
        assert 2 in journey_counts, journey_counts  # before the late event: two journeys
        final = ordered[-1]
        assert final == in_order  # the last pane equals the in-order batch result
        assert len(final.journeys) == 1 and final.journeys[0].page_view_count == 5
        for n, snapshot in enumerate(ordered):  # each pane lands as a streaming sink would
            land_snapshot(warehouse, tmp_path / f"pane-{n}", snapshot)

    with streaming_pipeline() as p:
        events = (p | stream
                  | "EveryArrival" >> beam.WindowInto(
                      window.GlobalWindows(), trigger=trigger.Repeatedly(trigger.AfterCount(1)),
                      accumulation_mode=trigger.AccumulationMode.ACCUMULATING)
                  | "OneEventLists" >> beam.Map(lambda e: [e]))
        assert_that(build_journeys(events, CONFIG).customers | beam.ParDo(_WithPane()), check)

    con = duckdb.connect(str(warehouse))
    rows = con.execute("SELECT journey_id, page_view_count FROM journeys").fetchall()
    assert rows == [(in_order.journeys[0].journey_id, 5)]  # the merged row replaced both
    assert con.execute("SELECT count(*) FROM page_views").fetchone()[0] == 5


def land_snapshot(warehouse, run_dir, snapshot):
    run_dir.mkdir()
    for name, rows in (("journeys", snapshot.journeys), ("page_views", snapshot.page_views),
                       ("friction_events", snapshot.friction)):
        (run_dir / f"{name}-00000-of-00001.jsonl").write_text(
            "".join(json.dumps(r._asdict()) + "\n" for r in rows))
    target = DuckDBWarehouse(f"duckdb:{warehouse}")
    target.migrate()
    target.land(run_dir)
