"""Microseconds per event of the pure per-event functions, stage by stage, without Beam.

    nice .venv/bin/python benchmarks/model_speed.py [--events N] [--seed S] [--repeat R] [--profile STAGE]

Stages, each timed on its own over the same synthetic day
(``generate_events(N, seed)``, JSON-encoded as ``journeys produce`` sends it):

- decode: ``to_event_or_dead_letter`` on each JSON line (``json.loads`` and
  ``EventRules.event_from_record``: the contract's input rules);
- dedup+stitch: first-wins per event_id, then ``device_customer`` per device,
  grouping the events by customer;
- build: ``build_customer_journeys`` per customer (journeys, page views,
  friction, conversations, task attempts).

Times are this process's CPU time (``time.process_time``), which other work
on a shared machine disturbs far less than wall time (also shown); run it
with ``nice`` all the same. ``--repeat R`` runs each stage R times and shows
the fastest run (later runs find the masking caches warm, as a long-running
worker does).

The fingerprint line is a SHA-256 over every event, dead letter and built
output (their reprs, in order): an optimisation must leave it unchanged for
the same --events and --seed. ``--profile STAGE`` runs that stage once under
cProfile and prints its top entries by internal time.
"""
from __future__ import annotations

import argparse
import collections
import cProfile
import hashlib
import json
import pstats
import time

from journeys.core.config import Config
from journeys.core.events import EventRules
from journeys.generators.synthetic import generate_events
from journeys.rules.identity import device_customer
from journeys.rules.journey_builder import build_customer_journeys
from journeys.wire.decode import JSON, DeadLetter, RawMessage, to_event_or_dead_letter
from journeys.wire.schema_catalog import SchemaCatalog

# A fixed clock, so that the future bound (and so every result) does not depend on when it runs.
NOW_MS = 1_900_000_000_000


def decode(raws, catalog, rules):
    return [to_event_or_dead_letter(raw, catalog, rules, 0) for raw in raws]


def dedup_and_stitch(events):
    first = {}
    for event in events:
        kept = first.get(event.event_id)
        if kept is None or event.position < kept.position:
            first[event.event_id] = event
    by_device = collections.defaultdict(list)
    for event in first.values():
        by_device[event.anonymous_id].append(event)
    by_customer = collections.defaultdict(list)
    for device_events in by_device.values():
        by_customer[device_customer(device_events)].extend(device_events)
    return by_customer


def build(by_customer, config):
    return [build_customer_journeys(customer, events, config) for customer, events in by_customer.items()]


def _timed(label, n, profile, repeat, func, *args):
    profiler = cProfile.Profile() if profile == label else None
    best = None
    for _ in range(1 if profiler else repeat):
        began, began_cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        result = func(*args)
        if profiler:
            profiler.disable()
        took = (time.process_time() - began_cpu, time.perf_counter() - began)
        best = took if best is None or took < best else best
    cpu, wall = best
    print(f"{label:<13} {cpu * 1e6 / n:8.1f} µs/event CPU  ({cpu:.2f} s CPU, {wall:.2f} s wall)")
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="synthetic events (default 100000)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument("--repeat", type=int, default=1, help="run each stage this often, report the fastest")
    parser.add_argument("--profile", choices=("decode", "dedup+stitch", "build"), help="cProfile this stage")
    args = parser.parse_args(argv)
    config = Config()
    lines = [json.dumps(e).encode("utf-8") for e in generate_events(args.events, seed=args.seed)]
    raws = [RawMessage("file:bench.jsonl", 0, i, line, JSON) for i, line in enumerate(lines)]
    rules = EventRules(config.validation, now_ms=NOW_MS)
    n = len(raws)
    print(f"{n} events, seed {args.seed}")
    decoded = _timed("decode", n, args.profile, args.repeat, decode, raws, SchemaCatalog(None), rules)
    events = [d for d in decoded if not isinstance(d, DeadLetter)]
    by_customer = _timed("dedup+stitch", n, args.profile, args.repeat, dedup_and_stitch, events)
    built = _timed("build", n, args.profile, args.repeat, build, by_customer, config)
    digest = hashlib.sha256()
    for item in decoded + built:
        digest.update(repr(item).encode("utf-8", "backslashreplace"))
    print(f"{len(events)} events, {len(decoded) - len(events)} dead letters, {len(by_customer)} customers")
    print(f"fingerprint {digest.hexdigest()}")


if __name__ == "__main__":
    main()
