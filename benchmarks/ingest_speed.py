"""Prints ingestion throughput: pure decoding, and the Beam pipeline on files.

    python benchmarks/ingest_speed.py [N]

1. Decoding alone: N synthetic events framed as on Kafka (half each framing),
   through wire.decode + the contract's validation, in one process.
2. The bounded pipeline on the DirectRunner over a JSONL file of N events:
   read, decode, validate, drop duplicates, write outputs.
"""
import sys
import tempfile
import time
from pathlib import Path

from journeys.commands.produce import MIXED, encode
from journeys.core.config import Config, ValidationConfig
from journeys.core.events import EventRules
from journeys.generators.synthetic import generate_events, write_jsonl
from journeys.pipelines.run import RunRequest, run_ingest
from journeys.pipelines.sources import FILE, Source
from journeys.wire.decode import RawMessage, to_event_or_dead_letter
from journeys.wire.schema_catalog import SchemaCatalog


def rate(n: int, seconds: float) -> str:
    return f"{n} events in {seconds:.2f} s = {n / seconds:,.0f} events/s"


def bench_decode(events, catalog) -> None:
    payloads = [RawMessage("web.events", 0, i, encode(e, MIXED, catalog)) for i, e in enumerate(events)]
    rules = EventRules(ValidationConfig(), now_ms=int(time.time() * 1000))
    began = time.perf_counter()
    for message in payloads:
        to_event_or_dead_letter(message, catalog, rules, 0)
    print("decode + validate (pure):", rate(len(payloads), time.perf_counter() - began))


def bench_pipeline(events) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.jsonl"
        write_jsonl(events, path)
        began = time.perf_counter()
        summary = run_ingest(RunRequest(Source(FILE, str(path)), Path(tmp) / "runs", config=Config()))
        seconds = time.perf_counter() - began
    print("pipeline, DirectRunner, file source:", rate(summary.input, seconds), f"({summary.lines()[0]})")


def main(n: int = 50_000) -> None:
    events = generate_events(n, seed=1)
    bench_decode(events, SchemaCatalog())
    bench_pipeline(events)


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
