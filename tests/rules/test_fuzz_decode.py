"""Bounded runs of the decoding fuzz target (tests/fuzz/fuzz_decode.py): a fixed random corpus, and atheris."""
import importlib.util
import json
import os
import random
import subprocess
import sys

import pytest
from fuzz.fuzz_decode import CATALOG, check_one
from support.hostile import NOW_MS, POISON

from journeys.wire import framing as wire

FUZZ_TARGET = "tests/fuzz/fuzz_decode.py"


def _seeds() -> list[bytes]:
    line = {"event_id": "e1", "event_type": "purchase", "channel": "web", "event_time": NOW_MS,
            "anonymous_id": "a1", "revenue": 9.5, "x": 3, "page_title": "t", "properties": {"k": "v"}}
    record = {f["name"]: None for f in CATALOG.by_id(1)["fields"]}
    record.update({k: v for k, v in line.items() if k in record})
    return [json.dumps(line).encode(), wire.encode_confluent(record, 1, CATALOG)]


def _mutate(rng: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        action = rng.random()
        at = rng.randrange(len(data) + 1)
        if action < 0.4 and data:
            data[min(at, len(data) - 1)] = rng.randrange(256)
        elif action < 0.7:
            data[at:at] = rng.choice(POISON).encode("utf-8", "surrogatepass")
        elif action < 0.85:
            data[at:at] = rng.choice([b"NaN", b"1e400", b"2147483648", b"-Infinity", b"\\ud800", b'"', b"{"])
        else:
            del data[at:at + rng.randint(1, 8)]
    return bytes(data)


def test_a_fixed_random_corpus_never_breaks_decoding():
    rng = random.Random(10)
    for seed in _seeds():
        for mode in range(16):
            for _ in range(150):
                check_one(bytes([mode]) + _mutate(rng, seed))


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris not installed (the fuzz extra)")
def test_the_atheris_target_runs_clean_for_a_few_seconds():
    done = subprocess.run([sys.executable, FUZZ_TARGET, "-max_total_time=5", "-runs=20000"],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "JOURNEYS_FUZZ_INSTRUMENT": "0"})
    assert done.returncode == 0, done.stderr[-3000:]
