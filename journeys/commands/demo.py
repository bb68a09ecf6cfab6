"""``journeys demo``: the whole path on one machine with embedded defaults.

Starts a local single-node Kafka, publishes a synthetic day of web, app and
chat events in both wire framings plus a handful of bad messages, runs the
pipeline into a DuckDB file and prints the run summary and the report.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from kafka import KafkaProducer

from journeys.commands.produce import MIXED, publish, report_lines
from journeys.commands.report import report
from journeys.core.config import Config
from journeys.core.summary import RunSummary
from journeys.generators.synthetic import generate_events
from journeys.servers.kafka_broker import LocalKafka, create_topics, ensure_kafka_jars

# Messages a real topic sees now and then; the demo shows them dead-lettered.
BAD_MESSAGES = (
    b"\x00\x00\x00\x03\xe7 schema id 999 is not pinned",
    b"\x7fnot avro at all",
    b"\xc3\x01\x00\x00\x00\x00\x00\x00\x00\x00 unknown fingerprint",
    b"\x00\x00\x00\x00\x01\x02",
)


@dataclass(frozen=True)
class DemoRequest:
    workdir: Path
    events: int
    seed: int
    config: Config = Config()


def run_demo(request: DemoRequest, say: Callable[[str], None] = print, console=None) -> RunSummary:
    """``console``: where the report goes (a rich Console; default the terminal)."""
    # Lazy: Beam takes seconds to import; `journeys --help` should not wait for it.
    from journeys.pipelines.run import RunRequest, run_ingest
    from journeys.pipelines.sources import KAFKA, Source

    # The demo's own broker listens PLAINTEXT on 127.0.0.1: a config's [kafka] security is not for it.
    config = replace(request.config, kafka=replace(request.config.kafka, security_protocol="PLAINTEXT",
                                                   sasl_username=None, sasl_password_file=None, ssl_cafile=None,
                                                   ssl_certfile=None, ssl_keyfile=None))
    request.workdir.mkdir(parents=True, exist_ok=True)
    say("checking the Kafka broker jars (fetched from Maven Central on first use) ...")
    ensure_kafka_jars()
    broker = LocalKafka(request.workdir / "kafka")
    if broker.status()["running"]:
        broker.stop()
    say("starting a local Kafka broker ...")
    bootstrap = broker.start(die_with_parent=True)
    try:
        create_topics(bootstrap, [*config.topics.by_channel().values(), config.topics.dead_letters],
                      partitions=config.topics.partitions)
        events = generate_events(request.events, seed=request.seed)
        sent = publish(bootstrap, events, config.topics, framing=MIXED)
        _send_bad_messages(bootstrap, config.topics.web)
        for line in report_lines(sent):
            say(line)
        say(f"sent {len(BAD_MESSAGES)} malformed messages to {config.topics.web}")
        warehouse = request.workdir / "journeys.duckdb"
        summary = run_ingest(RunRequest(source=Source(KAFKA, bootstrap), output_dir=request.workdir / "runs",
                                        warehouse=f"duckdb:{warehouse}", config=config))
        for line in summary.lines():
            say(line)
        report(f"duckdb:{warehouse}", console=console)
        say(f"warehouse: {warehouse}; again with: journeys report --warehouse duckdb:{warehouse}")
        return summary
    finally:
        broker.stop()


def _send_bad_messages(bootstrap: str, topic: str) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        for value in BAD_MESSAGES:
            producer.send(topic, key=b"demo-bad", value=value)
        producer.flush()
    finally:
        producer.close()
