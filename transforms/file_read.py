"""Archived events from files: JSONL backfills and Avro object container files.

Both go through the same decoding and validation as Kafka messages. A file
whose name ends in ``.avro`` is read as an Avro container (as a Kafka Connect
S3 sink writes); anything else as one JSON object per line.
"""
from __future__ import annotations

from typing import Iterator

import apache_beam as beam
import fastavro
from apache_beam.io import fileio

from journeys.wire.decode import JSON, UNREADABLE, RawMessage, RawRecord

AVRO_SUFFIX = ".avro"


def read_event_file(path: str, stream, modified_ms: int | None = None) -> Iterator[RawMessage | RawRecord]:
    """Lines or records of one file; ``offset`` is the 1-based line or record number.

    ``modified_ms``, the file's modification time, is when its records were received.
    """
    if path.endswith(AVRO_SUFFIX):
        yield from _read_avro_container(path, stream, modified_ms)
        return
    for number, line in enumerate(stream, start=1):
        line = line.rstrip(b"\r\n")
        if line.strip():
            yield RawMessage(source=path, partition=0, offset=number, value=line, framing=JSON,
                             timestamp_ms=modified_ms)


def _read_avro_container(path: str, stream, modified_ms: int | None):
    number = 0
    try:
        for number, record in enumerate(fastavro.reader(stream), start=1):
            yield RawRecord(source=path, partition=0, offset=number, record=record, timestamp_ms=modified_ms)
    except Exception as exc:  # a corrupt block: the rest of the file is one dead letter
        detail = f"{type(exc).__name__}: {exc} after record {number}"
        yield RawMessage(source=path, partition=0, offset=number + 1, value=detail.encode(), framing=UNREADABLE,
                         timestamp_ms=modified_ms)


class _ReadFileFn(beam.DoFn):
    def process(self, readable: fileio.ReadableFile):
        seconds = readable.metadata.last_updated_in_seconds
        with readable.open() as stream:
            yield from read_event_file(readable.metadata.path, stream, int(seconds * 1000) if seconds else None)


class ReadEventFiles(beam.PTransform):
    """PBegin -> PCollection[RawMessage | RawRecord] for every file matching ``pattern``.

    Bounded; global window; one element per non-blank line or Avro record.
    Fails at start, naming the pattern, when nothing matches.
    """

    def __init__(self, pattern: str):
        super().__init__()
        self._pattern = pattern

    def expand(self, pbegin):
        return (pbegin
                | "MatchFiles" >> fileio.MatchFiles(self._pattern)
                | "OpenFiles" >> fileio.ReadMatches()
                | "SpreadFiles" >> beam.Reshuffle()
                | "ReadRecords" >> beam.ParDo(_ReadFileFn()))
