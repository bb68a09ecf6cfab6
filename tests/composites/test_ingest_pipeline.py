"""ParseEvents, DropDuplicateEvents and the file source under TestPipeline."""
import json

import apache_beam as beam
import fastavro
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from journeys.core.config import Config
from journeys.core.events import Event
from journeys.pipelines.ingest import build_ingest, read_raw
from journeys.pipelines.runners import make_runner
from journeys.pipelines.sources import FILE, Source
from journeys.transforms.dedup import DropDuplicateEvents
from journeys.wire import framing as wire
from journeys.wire.decode import JSON, RawMessage
from journeys.wire.schema_catalog import SchemaCatalog

NOW_MS = 1_767_571_200_000
CONFIG = Config()


def pipeline():
    return TestPipeline(runner=make_runner())


def record(event_id, channel="web", event_type="page_view", **extra):
    rec = {"event_id": event_id, "event_type": event_type, "channel": channel, "event_time": NOW_MS - 1000,
           "anonymous_id": "anon-1", "user_id": None, "properties": {}}
    if channel == "chat":
        rec["conversation_id"] = "conv-1"
    rec.update(extra)
    return rec


def test_events_and_dead_letters_split_and_duplicates_drop():
    catalog = SchemaCatalog()
    messages = [
        RawMessage("web.events", 0, 0, wire.encode_confluent(record("a"), 1, catalog), channel="web"),
        RawMessage("web.events", 1, 5, wire.encode_single_object(record("a"), catalog.by_id(4)), channel="web"),
        RawMessage("chat.events", 0, 0, wire.encode_confluent(record("b", "chat", "message"), 3, catalog),
                   channel="chat"),
        RawMessage("web.events", 0, 1, b"\x00\x00\x00\x00\x63junk", channel="web"),
        RawMessage("app.events", 0, 0, wire.encode_confluent(record("c"), 1, catalog), channel="app"),
        RawMessage("f.jsonl", 0, 1, b'{"event_id": "d", "channel": "web"}', framing=JSON),
    ]
    with pipeline() as p:
        out = build_ingest(p | beam.Create([messages[:3], messages[3:]]), CONFIG, run_started_ms=NOW_MS)
        # "a" twice: the first read (partition 0 offset 0 before partition 1) wins.
        assert_that(out.events | beam.FlatMap(lambda b: [(e.event_id, e.source, e.partition, e.offset) for e in b]),
                    equal_to([("a", "web.events", 0, 0), ("b", "chat.events", 0, 0)]), label="Events")
        assert_that(out.dead_letters | beam.Map(lambda d: (d.source, d.offset, d.reason)),
                    equal_to([("web.events", 1, "unknown_schema_id"), ("app.events", 0, "channel_mismatch"),
                              ("f.jsonl", 1, "missing_field")]), label="DeadLetters")


def test_first_read_wins_whatever_the_arrival_order():
    first = Event("e", "click", "web", NOW_MS, "a1", source="t", partition=0, offset=1, element_id="first")
    later = first._replace(offset=9, element_id="later")
    other = first._replace(source="s", element_id="other-topic")  # "s" < "t": read first by position
    with pipeline() as p:
        kept = p | beam.Create([[later], [first, later]]) | DropDuplicateEvents()
        assert_that(kept | beam.FlatMap(lambda b: [e.element_id for e in b]), equal_to(["first"]))
    with pipeline() as p:
        kept = p | beam.Create([[later, first], [other]]) | DropDuplicateEvents()
        assert_that(kept | beam.FlatMap(lambda b: [e.element_id for e in b]), equal_to(["other-topic"]))


def test_jsonl_and_avro_container_files_read_through_the_same_path(tmp_path):
    lines = [json.dumps(record("j1", event_time="2026-01-04T10:00:00Z")), "", "{broken",
             json.dumps(record("j1")), json.dumps(record("j2", "chat", "message", message_text="hi"))]
    (tmp_path / "events.jsonl").write_text("\n".join(lines) + "\n")
    catalog = SchemaCatalog()
    with open(tmp_path / "archive.avro", "wb") as out:
        fastavro.writer(out, catalog.latest("web"), [
            {**{f["name"]: f.get("default") for f in catalog.latest("web")["fields"]}, **record("v1")},
            {**{f["name"]: f.get("default") for f in catalog.latest("web")["fields"]}, **record("v2"),
             "event_time": 5},
        ])
    with pipeline() as p:
        out = build_ingest(read_raw(p, Source(FILE, str(tmp_path / "*")), CONFIG), CONFIG, run_started_ms=NOW_MS)
        assert_that(out.events | beam.FlatMap(lambda b: [(e.event_id, e.offset) for e in b]),
                    equal_to([("j1", 1), ("j2", 5), ("v1", 1)]), label="Events")
        assert_that(out.dead_letters | beam.Map(lambda d: (d.source.rsplit("/", 1)[-1], d.offset, d.reason)),
                    equal_to([("events.jsonl", 3, "invalid_json"), ("archive.avro", 2, "event_time_too_old")]),
                    label="DeadLetters")


def test_a_corrupt_avro_container_is_a_dead_letter_not_a_crash(tmp_path):
    catalog = SchemaCatalog()
    path = tmp_path / "broken.avro"
    with open(path, "wb") as out:
        fastavro.writer(out, catalog.latest("web"), [
            {**{f["name"]: f.get("default") for f in catalog.latest("web")["fields"]}, **record(f"r{i}")}
            for i in range(50)])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    with pipeline() as p:
        out = build_ingest(read_raw(p, Source(FILE, str(path)), CONFIG), CONFIG, run_started_ms=NOW_MS)
        assert_that(out.dead_letters | beam.Map(lambda d: d.reason), equal_to(["unreadable_file"]))
