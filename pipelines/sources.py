"""Where a run reads: ``kafka:HOST:PORT`` or ``file:PATH_OR_GLOB`` (contract section 6)."""
from __future__ import annotations

from typing import NamedTuple

KAFKA = "kafka"
FILE = "file"


class Source(NamedTuple):
    kind: str
    location: str  # bootstrap servers, or a path or glob

    @classmethod
    def parse(cls, text: str) -> Source:
        kind, sep, location = text.partition(":")
        if not sep or kind not in (KAFKA, FILE) or not location:
            raise ValueError(f"--source {text!r}: expected kafka:HOST:PORT or file:PATH_OR_GLOB")
        if kind == KAFKA and ":" not in location:
            raise ValueError(f"--source {text!r}: Kafka needs HOST:PORT, e.g. kafka:127.0.0.1:9092")
        return cls(kind, location)
