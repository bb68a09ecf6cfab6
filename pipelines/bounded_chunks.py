"""A bounded Kafka run's plan cut into consecutive chunks of at most ``max_events`` messages.

``journeys run --source kafka:`` plans, per partition, the committed offset to
the end offset seen at start (transforms/kafka_read.py ``plan_bounded_read``).
Run as one pipeline, its memory grows with the input; run_ingest lands the
plan as consecutive chunks instead (land, then commit, then the next), each
through the same pipeline and quality checks, so memory is bounded by the
chunk size. The warehouse is the state between chunks, as between streaming
micro-batches (pipelines/micro_batches.py): each chunk rebuilds the customers
it touches from their stored history, so the tables equal one run's.

Each chunk takes from every partition a proportional next slice of its range,
so event time advances about evenly across partitions and a customer's events
on several partitions land in nearby chunks. Exactly: the planned messages are
put in one order by the key ``((i + 1/2) / size_p, p)`` for the i-th message of
partition p (a divisor method of apportionment, so every prefix is a
proportional share of every partition), and the chunks are consecutive cuts of
that order into ``ceil(total / max_events)`` parts of equal size, give or take
one. A prefix of the order is what a chunk and all before it hold, so the
slices never overlap or go back, and the last chunk ends at every range's stop.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import fields
from fractions import Fraction
from itertools import pairwise

from journeys.core.summary import RunSummary
from journeys.transforms.kafka_read import PartitionRange


def plan_chunks(ranges: Sequence[PartitionRange], max_events: int) -> list[list[PartitionRange]]:
    """Consecutive chunks of ``ranges``, each with at most ``max_events`` messages.

    Every chunk has one range per planned partition, in the order given (an
    empty one, ``start == stop``, where that partition gives nothing to the
    chunk), so committing a chunk's ranges commits every partition's position.
    Chunk n + 1 of a partition starts where chunk n stopped; the first starts at
    the planned start, the last stops at the planned stop. Nothing to read is
    one chunk of the ranges as given (a run over nothing still runs and commits).
    """
    if max_events < 1:
        raise ValueError(f"max_events must be at least 1, not {max_events}")
    sizes = [max(r.size, 0) for r in ranges]
    total = sum(sizes)
    count = max(1, -(-total // max_events))
    bounds = [[0] * len(sizes)] + [prefix_counts(sizes, total * k // count) for k in range(1, count + 1)]
    return [[PartitionRange(r.topic, r.partition, r.start + low, r.start + high)
             for r, low, high in zip(ranges, before, after)]
            for before, after in pairwise(bounds)]


def prefix_counts(sizes: Sequence[int], taken: int) -> list[int]:
    """How many messages of each partition the first ``taken`` messages of the chunk order hold.

    Every message with key at most ``taken / total`` (each partition's exact
    share rounded half up), then the next keys in, or the last ones out, until
    exactly ``taken``: at most one step per two partitions.
    """
    total = sum(sizes)
    if not 0 <= taken <= total:
        raise ValueError(f"cannot take {taken} of {total} messages")
    if taken == total:
        return list(sizes)
    # (i + 1/2) / size <= taken / total for the first floor(share + 1/2) messages: the share rounded half up.
    counts = [(2 * taken * size + total) // (2 * total) for size in sizes]
    # Then one message at a time, the smallest key not held (or the largest held), so the counts stay a prefix.
    for _ in range(taken - sum(counts)):
        _, p = min((Fraction(2 * c + 1, 2 * s), p) for p, (c, s) in enumerate(zip(counts, sizes)) if c < s)
        counts[p] += 1
    for _ in range(sum(counts) - taken):
        _, p = max((Fraction(2 * c - 1, 2 * s), p) for p, (c, s) in enumerate(zip(counts, sizes)) if c > 0)
        counts[p] -= 1
    return counts


def total_summary(summaries: Iterable[RunSummary]) -> RunSummary:
    """The chunks' summaries added up: every count, and every count by key (dead letters by reason).

    Field by field, so a count added to RunSummary is summed without a change here.
    """
    summaries = list(summaries)
    totals = {}
    for f in fields(RunSummary):
        values = [getattr(summary, f.name) for summary in summaries]
        if f.default_factory is dict:
            by_key = Counter()
            for value in values:
                by_key.update(value)
            totals[f.name] = dict(sorted(by_key.items()))
        else:
            totals[f.name] = sum(values)
    return RunSummary(**totals)
