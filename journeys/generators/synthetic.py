"""Deterministic synthetic customer journeys across web, app and chat.

Models the customers of a small online shop (https://shop.example.com). Each
customer owns one to three devices: a web cookie, an app install and a chat
visitor id. Some have an account and sign in (web/app ``login``; chat identity
comes from the signed-in widget or a bot verification), which links those
devices to one ``user_id``; most stay anonymous. A customer has one or more
journeys over the day, separated by more than 30 minutes of inactivity.

A web or app session has an intent (browse, purchase, account, support), an
acquisition source on the first web page view, page pings every heartbeat
while reading, and, at a few per cent each, every friction pattern of contract
section 2. Support sessions may continue in chat (bot, handoff, agent, CSAT,
personal data in messages). Delivery is imperfect like a real tracker
pipeline: a few events arrive seconds late and some are re-sent as exact
duplicates. Every rate is in :class:`SyntheticProfile`; the only source of
randomness is ``random.Random(seed)``, so a seed always gives the same events.
"""
from __future__ import annotations

import json
import random
from datetime import datetime, timezone
from typing import Iterable

from journeys.generators.catalogue import FIELDS, HOST, SyntheticProfile, card_number, phone_number
from journeys.generators.simulator import Simulator

__all__ = ["DEFAULT_START", "FIELDS", "HOST", "SyntheticProfile", "card_number", "generate_events",
           "phone_number", "write_jsonl"]

DEFAULT_START = datetime(2026, 1, 5, tzinfo=timezone.utc)


def _publish(rng: random.Random, p: SyntheticProfile, events: list[dict], n_dup: int) -> list[dict]:
    """Arrival order: event time, except a few late events and re-sent duplicates."""
    keyed = []
    for i, ev in enumerate(events):
        late = int(rng.uniform(*p.late_s) * 1000) if rng.random() < p.late_rate else 0
        keyed.append((ev["event_time"] + late, i, ev))
    for i in sorted(rng.sample(range(len(events)), n_dup)):
        arrival, _, ev = keyed[i]
        copy = {**ev, "properties": dict(ev["properties"])}
        keyed.append((arrival + int(rng.uniform(*p.duplicate_delay_s) * 1000), len(keyed), copy))
    keyed.sort(key=lambda k: (k[0], k[1]))
    return [ev for _, _, ev in keyed]


def generate_events(n: int, seed: int = 0, start: datetime = DEFAULT_START, span_s: int = 86_400,
                    profile: SyntheticProfile | None = None) -> list[dict]:
    """Exactly n events (duplicates included), in publish (arrival) order."""
    if n <= 0:
        return []
    p = profile or SyntheticProfile()
    rng = random.Random(seed)
    n_dup = min(int(n * p.duplicate_rate + rng.random()), n // 2)  # stochastic rounding keeps the rate for small n
    wanted, span_ms = n - n_dup, span_s * 1000
    start_ms = int(start.timestamp() * 1000)
    sim, events, index = Simulator(rng, p), [], 0
    while len(events) < wanted:
        timeline = sim.customer(index, span_ms)
        index += 1
        shift = start_ms + rng.randrange(max(1, span_ms - timeline[-1]["event_time"]))
        for ev in timeline[: wanted - len(events)]:
            ev["event_time"] += shift
            events.append(ev)
    return _publish(rng, p, events, n_dup)


def write_jsonl(events: Iterable[dict], path) -> int:
    """Write one JSON object per line (UTF-8); return how many were written."""
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        for ev in events:
            out.write(json.dumps(ev, ensure_ascii=False, separators=(",", ":")))
            out.write("\n")
            count += 1
    return count
