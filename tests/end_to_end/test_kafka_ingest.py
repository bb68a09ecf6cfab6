"""End to end on the real broker: both framings in, the same events out.

Publishes synthetic and hand-written events in Confluent and single-object
framing plus malformed messages, runs the bounded pipeline on the
DirectRunner, and checks events, dead letters, the dead-letter topic, the
run's arithmetic and the committed offsets.
"""
import json
import struct
import uuid
from collections import Counter

import duckdb
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from journeys.commands.produce import CONFLUENT, SINGLE_OBJECT, avro_record, publish
from journeys.core.config import Config
from journeys.generators.synthetic import generate_events
from journeys.pipelines.run import RunRequest, run_ingest
from journeys.pipelines.sources import KAFKA, Source
from journeys.wire import framing as wire
from journeys.wire.schema_catalog import SchemaCatalog

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def topic_config(topics):
    return Config.load(topics__web=topics["web"], topics__app=topics["app"], topics__chat=topics["chat"],
                       topics__dead_letters=topics["dead_letters"],
                       kafka__consumer_group=f"test-{uuid.uuid4().hex[:8]}")


HAND_WRITTEN = [
    {"event_id": "hw-1", "event_type": "page_view", "channel": "web", "event_time": "2026-01-05T09:00:00Z",
     "anonymous_id": "cookie-1", "page_url": "https://shop.example.com/help?email=jo%40example.com"},
    {"event_id": "hw-2", "event_type": "login", "channel": "app", "event_time": "2026-01-05T09:01:00+01:00",
     "anonymous_id": "device-1", "user_id": "cust-1", "os": "ios"},
    {"event_id": "hw-3", "event_type": "message", "channel": "chat", "event_time": 1767604000000,
     "anonymous_id": "chat-1", "conversation_id": "conv-1", "sender": "customer",
     "message_text": "my card is 4111 1111 1111 1111"},
]


def bad_messages(catalog):
    """(payload, expected reason) for what a real topic sees now and then."""
    web = catalog.latest("web")
    good = wire.encode_confluent(avro_record(HAND_WRITTEN[0], web), 4, catalog)
    missing = avro_record({**HAND_WRITTEN[0], "event_id": "bad-missing", "anonymous_id": ""}, web)
    absurd = avro_record({**HAND_WRITTEN[0], "event_id": "bad-future", "event_time": "2300-01-01T00:00:00Z"}, web)
    ancient = avro_record({**HAND_WRITTEN[0], "event_id": "bad-old", "event_time": 86_400_000}, web)
    return [
        (b"\xde\xad\xbe\xef contact jo@example.com", "unknown_framing"),
        (b"\x00" + struct.pack(">I", 4242) + good[5:], "unknown_schema_id"),
        (good[:-7], "avro_decode_error"),
        (wire.encode_confluent(missing, 4, catalog), "missing_field"),
        (wire.encode_single_object(absurd, web), "event_time_in_future"),
        (wire.encode_confluent(ancient, 4, catalog), "event_time_too_old"),
        (b"", "empty"),
    ]


def send_raw(bootstrap, topic, payloads):
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for payload in payloads:
        producer.send(topic, key=b"bad", value=payload)
    producer.flush()
    producer.close()


def test_both_framings_round_trip_with_dead_letters_and_counts(kafka_topics, tmp_path):
    config = topic_config(kafka_topics)
    bootstrap = kafka_topics["bootstrap"]
    catalog = SchemaCatalog()
    synthetic = generate_events(1_200, seed=11)
    first, second = synthetic[:600] + HAND_WRITTEN[:2], synthetic[600:] + HAND_WRITTEN[2:]
    assert publish(bootstrap, first, config.topics, framing=CONFLUENT).sent == len(first)
    assert publish(bootstrap, second, config.topics, framing=SINGLE_OBJECT).sent == len(second)
    bad = bad_messages(catalog)
    send_raw(bootstrap, kafka_topics["web"], [payload for payload, _ in bad])

    warehouse = tmp_path / "w.duckdb"
    summary = run_ingest(RunRequest(Source(KAFKA, bootstrap), tmp_path / "runs", f"duckdb:{warehouse}",
                                    config=config))

    sent = synthetic + HAND_WRITTEN
    unique = {r["event_id"]: r for r in reversed(sent)}  # first occurrence wins
    assert summary.input == len(sent) + len(bad)
    assert summary.duplicates == len(sent) - len(unique) > 0
    assert summary.processed == len(unique)
    assert summary.dead_letter_reasons == dict(Counter(reason for _, reason in bad))
    assert summary.balanced

    con = duckdb.connect(str(warehouse))
    rows = con.execute("SELECT event_id, channel, epoch_ms(event_time), anonymous_id, user_id, record FROM events"
                       ).fetchall()
    assert {r[0] for r in rows} == set(unique)
    by_id = {r[0]: r for r in rows}
    for event_id in ("hw-1", "hw-2", "hw-3", synthetic[0]["event_id"], synthetic[-1]["event_id"]):
        expected = unique[event_id]
        row = by_id[event_id]
        assert row[1] == expected["channel"] and row[3] == expected["anonymous_id"]
        assert row[4] == expected.get("user_id")
    # 09:01+01:00 is 08:01Z: 1767571200000 (2026-01-05Z) + 8 h + 1 min.
    assert by_id["hw-2"][2] == 1767571200000 + 8 * 3_600_000 + 60_000
    stored = json.loads(by_id["hw-1"][5])
    assert stored["page_url"] == "https://shop.example.com/help?email=[email]"
    assert json.loads(by_id["hw-3"][5])["message_text"] is None  # raw chat text is never stored
    dead = con.execute("SELECT reason, payload FROM dead_letters ORDER BY \"offset\"").fetchall()
    assert Counter(r[0] for r in dead) == Counter(reason for _, reason in bad)
    assert all("jo@example.com" not in (payload or "") for _, payload in dead)

    dlq = read_topic(bootstrap, kafka_topics["dead_letters"], len(bad))
    assert Counter(dict(m.headers)["reason"].decode() for m in dlq) == Counter(reason for _, reason in bad)
    assert {m.value for m in dlq} == {payload for payload, _ in bad}  # untouched bytes

    con.close()  # DuckDB: no other connection while the next run reads and writes the file
    again = run_ingest(RunRequest(Source(KAFKA, bootstrap), tmp_path / "runs", f"duckdb:{warehouse}",
                                  config=config))
    assert again.input == 0  # offsets were committed after the write
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM events").fetchone()[0] == len(unique)


def read_topic(bootstrap, topic, expected):
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=10_000)
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    messages = []
    for message in consumer:
        messages.append(message)
        if len(messages) == expected:
            break
    consumer.close()
    return messages
