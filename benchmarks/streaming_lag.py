"""Sustained events/s of ``journeys run --streaming`` on embedded Flink: produce at a steady rate, sample lag.

    unshare --net --pid --fork --kill-child --mount-proc sh -c 'ip link set lo up; \
        .venv/bin/python benchmarks/streaming_lag.py --rate 100 --seconds 90 [--micro-batch 5]'

Run it in a private network namespace (Beam's servers listen on every
interface). It starts a broker there, the streaming driver as a subprocess,
produces synthetic events with event_time = now at ``--rate`` per second for
``--seconds``, and every ``--sample`` seconds prints the consumer group's lag
(end offsets minus committed offsets, kafka-python) as a JSON line. At the end
it sends SIGTERM (a clean stop) and prints a summary: the lag's trend over the
second half (lag not growing = the rate is sustained) and, from the landed
micro-batches' log, how long a message waited for its row (landed_at minus its
Kafka timestamp: oldest and newest message of each micro-batch).
"""
from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kafka import KafkaProducer

from journeys.commands.produce import MIXED, encode
from journeys.core.config import Config, KafkaConfig
from journeys.generators.synthetic import generate_events
from journeys.servers.flink import ensure_flink_jars
from journeys.servers.kafka_broker import LocalKafka, create_topics
from journeys.transforms.kafka_stream import end_offsets_and_lag, plan_stream_start
from journeys.wire.schema_catalog import SchemaCatalog

GROUP = "bench-stream"


def lag(bootstrap: str, topics: list[str]) -> int:
    """Messages on ``topics`` the streaming job's group has not committed: what its driver watches."""
    kafka = KafkaConfig(consumer_group=GROUP)
    return end_offsets_and_lag(bootstrap, kafka, plan_stream_start(bootstrap, topics, kafka))[1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=100, help="events per second")
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--sample", type=float, default=5)
    parser.add_argument("--micro-batch", type=int, default=5)
    args = parser.parse_args()
    ensure_flink_jars()
    work = Path(tempfile.mkdtemp(prefix="bench-stream-"))
    broker = LocalKafka(work / "kafka")
    bootstrap = broker.start(die_with_parent=True)
    topics = Config().topics
    names = list(topics.by_channel().values())
    create_topics(bootstrap, [*names, topics.dead_letters], partitions=3)
    config = work / "bench.toml"
    config.write_text(f'[kafka]\nconsumer_group = "{GROUP}"\n\n[streaming]\nmicro_batch_s = {args.micro_batch}\n')
    out = work / "runs"
    driver = subprocess.Popen([sys.executable, "-m", "journeys.commands.cli", "run", "--source", f"kafka:{bootstrap}",
                               "--warehouse", f"duckdb:{work / 'bench.duckdb'}", "--config", str(config),
                               "--output-dir", str(out), "--streaming", "--runner", "FlinkRunner"],
                              stdout=open(work / "driver.log", "wb"), stderr=subprocess.STDOUT, start_new_session=True)
    catalog, topic_of = SchemaCatalog(), topics.by_channel()
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    pool = generate_events(int(args.rate * args.seconds) + 1, seed=5)
    began = time.monotonic()
    samples, sent, next_sample = [], 0, began + args.sample
    try:
        while time.monotonic() - began < args.seconds:
            due = int((time.monotonic() - began) * args.rate)
            while sent < min(due, len(pool)):
                event = {**pool[sent], "event_time": int(time.time() * 1000)}
                producer.send(topic_of[event["channel"]], key=event["anonymous_id"].encode(),
                              value=encode(event, MIXED, catalog))
                sent += 1
            if time.monotonic() >= next_sample:
                producer.flush()
                sample = {"t_s": round(time.monotonic() - began, 1), "sent": sent, "lag": lag(bootstrap, names)}
                samples.append(sample)
                print(json.dumps(sample), flush=True)
                next_sample += args.sample
            time.sleep(0.01)
        producer.flush()
    finally:
        driver.send_signal(signal.SIGTERM)
        try:
            driver.wait(timeout=300)
        except subprocess.TimeoutExpired:
            driver.kill()
        broker.stop()
    second_half = [s["lag"] for s in samples[len(samples) // 2:]]
    batches = [json.loads(line) for log in out.glob("stream-*/micro_batches.jsonl")
               for line in log.read_text().splitlines()]
    waits_old = [b["landed_at"] - b["oldest_message_ms"] / 1000 for b in batches]
    waits_new = [b["landed_at"] - b["newest_message_ms"] / 1000 for b in batches]
    landing = [b["landed_at"] - b["started_at"] for b in batches]
    print(json.dumps({"rate": args.rate, "sent": sent, "micro_batches": len(batches),
                      "lag_second_half": second_half,
                      "lag_growing": len(second_half) > 1 and second_half[-1] > 2 * max(second_half[0], args.rate),
                      "landing_s_median": statistics.median(landing) if landing else None,
                      "wait_for_row_s_max": max(waits_old) if waits_old else None,
                      "wait_for_row_s_median_newest": statistics.median(waits_new) if waits_new else None,
                      "driver_exit": driver.returncode}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
