"""Publishes events to the channel topics in either wire framing.

Keyed by anonymous_id, so one visitor's events keep their order within a
partition (contract section 1). Records that cannot be encoded are reported
with their reason and not sent; the rest still go out.
"""
from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from journeys.core.config import KafkaConfig, TopicConfig
from journeys.core.errors import BadInput
from journeys.core.events import CHANNELS, parse_event_time
from journeys.transforms.kafka_clients import explained_kafka_errors, new_producer
from journeys.wire import framing as wire
from journeys.wire.schema_catalog import SchemaCatalog

CONFLUENT = "confluent"
SINGLE_OBJECT = "single-object"
MIXED = "mixed"
FRAMINGS = (CONFLUENT, SINGLE_OBJECT, MIXED)
_LINGER_MS = 20
_MAX_REPORTED = 20


@dataclass
class ProduceReport:
    sent: int = 0
    by_topic: dict[str, int] = field(default_factory=dict)
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (record number, reason)


def avro_record(record: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """The record shaped to ``schema``: missing fields take their defaults, time in ms."""
    shaped = {}
    for spec in schema["fields"]:
        name = spec["name"]
        shaped[name] = record.get(name, spec.get("default"))
    shaped["event_time"] = parse_event_time(record.get("event_time"))
    return shaped


def encode(record: Mapping[str, Any], framing: str, catalog: SchemaCatalog) -> bytes:
    channel = record.get("channel")
    if channel not in CHANNELS:
        raise BadInput("invalid_channel", f"{channel!r} is not one of {CHANNELS}")
    if framing == MIXED:
        # Deterministic per event, so a re-send uses the same framing.
        framing = (CONFLUENT, SINGLE_OBJECT)[zlib.crc32(str(record.get("event_id")).encode()) % 2]
    schema = catalog.latest(channel)
    shaped = avro_record(record, schema)
    try:
        if framing == CONFLUENT:
            return wire.encode_confluent(shaped, catalog.latest_id(channel), catalog)
        return wire.encode_single_object(shaped, schema)
    except (ValueError, TypeError, AttributeError) as exc:
        raise BadInput("not_encodable", str(exc)[:200]) from None


def read_jsonl(path: str | Path) -> Iterator[dict[str, Any] | BadInput]:
    with open(path, "rb") as stream:
        for line in stream:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                yield BadInput("invalid_json", str(exc)[:200])
                continue
            yield record if isinstance(record, dict) else BadInput("not_an_object", type(record).__name__)


def publish(bootstrap: str, records: Iterable[Mapping[str, Any] | BadInput], topics: TopicConfig,
            framing: str = MIXED, catalog: SchemaCatalog | None = None,
            kafka: KafkaConfig | None = None) -> ProduceReport:
    """``kafka``: the security settings (README, Kafka security); default PLAINTEXT."""
    if framing not in FRAMINGS:
        raise ValueError(f"--framing {framing!r}: expected one of {FRAMINGS}")
    catalog = catalog or SchemaCatalog()
    kafka = kafka or KafkaConfig()
    report = ProduceReport()
    producer = new_producer(bootstrap, kafka, acks="all", linger_ms=_LINGER_MS)
    topic_of = topics.by_channel()
    try:
        with explained_kafka_errors(bootstrap, kafka):
            for number, record in enumerate(records, start=1):
                try:
                    if isinstance(record, BadInput):
                        raise record
                    value = encode(record, framing, catalog)
                except BadInput as error:
                    report.rejected.append((number, str(error)))
                    continue
                topic = topic_of[record["channel"]]
                key = str(record.get("anonymous_id") or "").encode("utf-8")
                producer.send(topic, key=key, value=value)
                report.sent += 1
                report.by_topic[topic] = report.by_topic.get(topic, 0) + 1
            producer.flush()
    finally:
        producer.close()
    return report


def report_lines(report: ProduceReport) -> list[str]:
    lines = [f"sent {report.sent} events: " + ", ".join(f"{t} {n}" for t, n in sorted(report.by_topic.items()))]
    if report.rejected:
        lines.append(f"rejected {len(report.rejected)} records:")
        lines += [f"  record {n}: {reason}" for n, reason in report.rejected[:_MAX_REPORTED]]
    return lines
