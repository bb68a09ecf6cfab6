"""Elements that are batches: the event-level steps move lists of events, not single events.

Beam costs a few microseconds per element and per step, more than most of
our per-event rules, so the read, decode, de-duplication, validation and
identity steps pass lists and shuffle them by a shard of their key: one
element per shard and bundle crosses each shuffle instead of one per event.
"""
from __future__ import annotations

import io
import pickle
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

import apache_beam as beam

T = TypeVar("T")

# Messages per element from a reader: large enough that Beam's per-element cost
# vanishes, small enough that a bundle's buffers stay a few MB.
MESSAGES_PER_ELEMENT = 2_000
# What Beam's byte-count metric is told one item of a batch takes (BatchCoder).
ESTIMATED_BYTES_PER_ITEM = 500
# Shards per shuffle: the parallelism a multi-worker runner gets for the
# keyed steps; each shard's group holds about 1/SHARDS of a run's events.
SHARDS = 16


def chunked(items: Iterable[T], size: int = MESSAGES_PER_ELEMENT) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` items; never an empty list."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def shard_of(key: str, shards: int = SHARDS) -> int:
    """The same shard for the same key in every process (unlike ``hash``, which is salted per process)."""
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) % shards


def by_shard(items: Iterable[T], key: Callable[[T], str], shards: int = SHARDS) -> list[tuple[int, bytes]]:
    """``items`` split into (shard, that shard's items packed), each shard once, in first-seen order.

    Packed: one pickle of the whole list. Beam's default coder would pickle
    each event on its own, its class's name included, at every shuffle.
    """
    groups: dict[int, list[T]] = {}
    for item in items:
        groups.setdefault(shard_of(key(item), shards), []).append(item)
    return [(shard, pack(group)) for shard, group in groups.items()]


def pack(items: list) -> bytes:
    # Fast mode keeps no memo of the objects written (a third of pickle's time for events):
    # right for these trees of tuples and strings, which hold no cycles.
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.fast = True
    pickler.dump(items)
    return buffer.getvalue()


def unpacked(blobs: Iterable[bytes]) -> list:
    """The items of every packed list, in order."""
    return [item for blob in blobs for item in pickle.loads(blob)]  # noqa: S301 (our own shuffle's bytes)


def flatten(groups: Iterable[Iterable[T]]) -> list[T]:
    return [item for group in groups for item in group]


class Batch(list):
    """The element type of a PCollection of lists (``chunked``): ``with_output_types(Batch)`` gives it BatchCoder.
    The elements stay plain lists; only the coder is chosen by it."""


class BatchCoder(beam.coders.Coder):
    """A list as one ``pack``; its size estimate is its length times ESTIMATED_BYTES_PER_ITEM.

    Beam estimates the bytes of the first elements of every step's output by
    encoding them, for a metric; with the default coder, each event of a batch
    was pickled once more per step that way (a tenth of a run's time), since a
    PCollection of batches has few elements, all of them among the first.
    """

    def encode(self, value: list) -> bytes:
        return pack(value)

    def decode(self, encoded: bytes) -> list:
        return pickle.loads(encoded)  # noqa: S301 (our own pipeline's bytes)

    def estimate_size(self, value: list) -> int:
        return len(value) * ESTIMATED_BYTES_PER_ITEM

    def is_deterministic(self) -> bool:
        return False

    def to_type_hint(self):
        return Batch


beam.coders.registry.register_coder(Batch, BatchCoder)
