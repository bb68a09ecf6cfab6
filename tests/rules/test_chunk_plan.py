"""A bounded Kafka plan cut into chunks (pipelines/bounded_chunks.py): consecutive, capped, proportional.

Worked example (``test_three_partitions_by_hand``): partitions of 600, 300
and 100 messages, at most 400 a chunk. 1,000 messages make ceil(1000/400) = 3
chunks, cut after 1000 x 1/3 = 333 and 1000 x 2/3 = 666 messages. A cut
takes every partition's share rounded half up, then fixes the sum:
- 333: 333 x 0.6 = 199.8 -> 200, 333 x 0.3 = 99.9 -> 100, 333 x 0.1 = 33.3 -> 33; 333 in all.
- 666: 399.6 -> 400, 199.8 -> 200, 66.6 -> 67; 667, one too many. The largest
  key held goes: the last messages' keys (i + 1/2) / size are 399.5/600 =
  0.6658, 199.5/300 = 0.665, 66.5/100 = 0.665, so 400 -> 399.
Slices: 200/100/33, then 399-200 = 199, 100, 67-33 = 34, then 201, 100, 33.
"""
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeys.core.config import Config
from journeys.core.errors import ConfigError
from journeys.core.summary import RunSummary
from journeys.pipelines.bounded_chunks import plan_chunks, prefix_counts, total_summary
from journeys.transforms.kafka_read import PartitionRange

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def ranges_of(sizes, start=10):
    return [PartitionRange(f"t{p % 3}", p, start + p, start + p + size) for p, size in enumerate(sizes)]


def slices(chunks):
    return [[r.size for r in chunk] for chunk in chunks]


def test_three_partitions_by_hand():
    chunks = plan_chunks(ranges_of([600, 300, 100]), 400)
    assert slices(chunks) == [[200, 100, 33], [199, 100, 34], [201, 100, 33]]
    assert [(r.start, r.stop) for r in chunks[0]] == [(10, 210), (11, 111), (12, 45)]


def test_a_plan_that_fits_is_one_chunk_as_planned():
    ranges = ranges_of([5, 0, 7])
    assert plan_chunks(ranges, 12) == [ranges]
    assert plan_chunks(ranges, 200_000) == [ranges]


def test_nothing_to_read_is_one_chunk_so_the_run_still_commits():
    ranges = [PartitionRange("web", 0, 4, 4), PartitionRange("web", 1, 9, 9)]
    assert plan_chunks(ranges, 10) == [ranges]
    assert plan_chunks([], 10) == [[]]  # a file source: no ranges


def test_one_event_a_chunk_in_key_order():
    # Keys (i + 1/2)/size: a 0.25, 0.75; b 0.5 -> a, b, a.
    chunks = plan_chunks([PartitionRange("a", 0, 0, 2), PartitionRange("b", 0, 0, 1)], 1)
    assert slices(chunks) == [[1, 0], [0, 1], [1, 0]]


def test_max_events_below_one_is_refused():
    with pytest.raises(ValueError):
        plan_chunks(ranges_of([3]), 0)


@PROPERTY
@given(st.lists(st.integers(0, 3_000), min_size=1, max_size=12), st.integers(1, 2_500))
def test_chunks_are_consecutive_capped_and_cover_the_plan(sizes, max_events):
    ranges = ranges_of(sizes)
    chunks = plan_chunks(ranges, max_events)
    total = sum(sizes)
    assert len(chunks) == max(1, -(-total // max_events))
    assert all(sum(r.size for r in chunk) <= max_events for chunk in chunks)
    for p, planned in enumerate(ranges):
        mine = [chunk[p] for chunk in chunks]
        assert all((r.topic, r.partition) == (planned.topic, planned.partition) for r in mine)
        assert mine[0].start == planned.start and mine[-1].stop == planned.stop
        assert all(r.size >= 0 for r in mine)
        assert all(a.stop == b.start for a, b in pairwise(mine))


@PROPERTY
@given(st.lists(st.integers(0, 100_000), min_size=1, max_size=30), st.data())
def test_every_prefix_is_the_first_messages_of_one_order_and_proportional(sizes, data):
    total = sum(sizes)
    taken = data.draw(st.integers(0, total))
    counts = prefix_counts(sizes, taken)
    assert sum(counts) == taken and all(0 <= c <= s for c, s in zip(counts, sizes))
    # Within (partitions + 1) / 2 of each partition's exact share: rounded half up, then at most P/2 steps.
    assert all(abs(c - Fraction(taken * s, total or 1)) <= Fraction(len(sizes) + 1, 2) for c, s in zip(counts, sizes))
    # A prefix: every key held is below every key not held (ties by partition).
    held = max(((Fraction(2 * c - 1, 2 * s), p) for p, (c, s) in enumerate(zip(counts, sizes)) if c), default=None)
    free = min(((Fraction(2 * c + 1, 2 * s), p) for p, (c, s) in enumerate(zip(counts, sizes)) if c < s),
               default=None)
    assert held is None or free is None or held < free
    assert all(a <= b for a, b in zip(counts, prefix_counts(sizes, min(total, taken + 1))))  # nested


def test_total_summary_adds_every_count_and_reason():
    a = RunSummary(10, 7, 1, 2, {"empty": 1, "invalid_json": 1}, journeys=3, page_views=5, friction_points=1)
    b = RunSummary(5, 4, 0, 1, {"empty": 1}, journeys=2, page_views=0, friction_points=4)
    total = total_summary([a, b])
    assert total == RunSummary(15, 11, 1, 3, {"empty": 2, "invalid_json": 1}, journeys=5, page_views=5,
                               friction_points=5)
    assert total.balanced
    assert total_summary([]) == RunSummary(0, 0, 0, 0)


@pytest.mark.parametrize("value", [0, -5, 2.5, "many", True])
def test_max_events_per_chunk_is_a_positive_integer(value):
    with pytest.raises(ConfigError) as caught:
        Config.load(kafka__max_events_per_chunk=value)
    assert caught.value.key == "kafka.max_events_per_chunk"
    assert "expected an integer >= 1" in str(caught.value)


def test_max_events_per_chunk_default():
    assert Config().kafka.max_events_per_chunk == 50_000
    assert Config.load(kafka__max_events_per_chunk=1).kafka.max_events_per_chunk == 1
