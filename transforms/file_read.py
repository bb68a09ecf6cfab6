"""Archived events from files: JSONL backfills and Avro object container files.

Both go through the same decoding and validation as Kafka messages. A file
whose name ends in ``.avro`` is read as an Avro container (as a Kafka Connect
S3 sink writes); anything else as one JSON object per line.
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import apache_beam as beam
import fastavro
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from journeys.transforms.batches import Batch, chunked
from journeys.wire.decode import JSON, UNREADABLE, RawMessage, RawRecord

AVRO_SUFFIX = ".avro"
FILE_PREFIX = "file:"  # as in ``--source file:PATH``


class InputFile(NamedTuple):
    """One file a run reads, as the driver decided it when it expanded the glob."""
    key: str  # the ``source`` of its events and dead letters: see file_source_key
    path: str  # what is opened: the resolved absolute path, or the URL
    modified_ms: int | None  # when its records were received


def file_source_key(path: str) -> str:
    """The stored ``source`` of a file, whatever the spelling of its path or the working directory.

    A local file is ``file:`` + its resolved absolute path (``os.path.realpath``:
    symlinks, ``.`` and ``..`` resolved), so ``x.jsonl``, ``./x.jsonl`` and
    ``/data/x.jsonl`` are one key and re-runs upsert the same rows. A URL with
    a scheme (``gs://...``) is already absolute and stays as it is.
    """
    if FileSystems.get_scheme(path) is not None:
        return path
    return FILE_PREFIX + os.path.realpath(path)


def expand_files(pattern: str) -> tuple[InputFile, ...]:
    """Every file matching ``pattern`` once (a symlink and its target are one file), sorted by key.

    A relative local pattern is taken from the working directory of the caller
    (the driver), where ``--source`` was typed, never from a worker's. Empty
    when nothing matches.
    """
    local = FileSystems.get_scheme(pattern) is None
    if local:
        pattern = os.path.join(os.getcwd(), pattern)  # a relative glob like ``*.jsonl`` matches too
    found: dict[str, InputFile] = {}
    for result in FileSystems.match([pattern]):
        for metadata in result.metadata_list:
            key = file_source_key(metadata.path)
            path = key[len(FILE_PREFIX):] if local else metadata.path
            seconds = metadata.last_updated_in_seconds
            found.setdefault(key, InputFile(key, path, int(seconds * 1000) if seconds else None))
    return tuple(found[key] for key in sorted(found))


def read_event_file(path: str, stream, modified_ms: int | None = None,
                    source: str | None = None) -> Iterator[RawMessage | RawRecord]:
    """Lines or records of one file; ``offset`` is the 1-based line or record number.

    ``modified_ms``, the file's modification time, is when its records were received;
    ``source`` (default ``path``) is their stored source, the file's canonical key.
    """
    source = source or path
    if path.endswith(AVRO_SUFFIX):
        yield from _read_avro_container(source, stream, modified_ms)
        return
    for number, line in enumerate(stream, start=1):
        line = line.rstrip(b"\r\n")
        if line.strip():
            yield RawMessage(source=source, partition=0, offset=number, value=line, framing=JSON,
                             timestamp_ms=modified_ms)


def _read_avro_container(source: str, stream, modified_ms: int | None):
    number = 0
    try:
        for number, record in enumerate(fastavro.reader(stream), start=1):
            yield RawRecord(source=source, partition=0, offset=number, record=record, timestamp_ms=modified_ms)
    except Exception as exc:  # a corrupt block: the rest of the file is one dead letter
        detail = f"{type(exc).__name__}: {exc} after record {number}"
        yield RawMessage(source=source, partition=0, offset=number + 1, value=detail.encode(), framing=UNREADABLE,
                         timestamp_ms=modified_ms)


class _ReadFileFn(beam.DoFn):
    def process(self, element: tuple):
        file = InputFile(*element)
        # Compression as fileio.ReadMatches opens files: by suffix (``.gz`` ...).
        with FileSystems.open(file.path, compression_type=CompressionTypes.AUTO) as stream:
            yield from chunked(read_event_file(file.path, stream, file.modified_ms, source=file.key))


class ReadEventFiles(beam.PTransform):
    """PBegin -> PCollection[list[RawMessage | RawRecord]] for every file matching ``pattern``.

    ``pattern`` is a path or glob, expanded here in the driver when the
    pipeline is built (expand_files), or files the driver expanded already.
    Each record's ``source`` is its file's canonical key (``file:`` + resolved
    absolute path, or the URL), however the pattern was spelled. Bounded;
    global window; one record per non-blank line or Avro record. Fails at
    start, naming the pattern, when nothing matches. Elements are lists of up
    to MESSAGES_PER_ELEMENT consecutive records of one file (transforms/batches.py).
    """

    def __init__(self, pattern: str | Sequence[InputFile]):
        super().__init__()
        self._pattern = pattern

    def expand(self, pbegin):
        files = expand_files(self._pattern) if isinstance(self._pattern, str) else tuple(self._pattern)
        if not files:
            raise FileNotFoundError(f"--source file:{self._pattern}: no file matches")
        return (pbegin
                | "Files" >> beam.Create([tuple(f) for f in files])
                | "SpreadFiles" >> beam.Reshuffle()
                | "ReadRecords" >> beam.ParDo(_ReadFileFn()).with_output_types(Batch))
