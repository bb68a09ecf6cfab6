"""The two Avro wire framings of contract section 1, and schema fingerprints.

- Confluent Schema Registry framing: ``0x00`` + 4-byte big-endian schema id +
  Avro binary.
- Avro single-object encoding: ``0xC3 0x01`` + 8-byte little-endian
  CRC-64-AVRO fingerprint of the writer schema + Avro binary.

Decoding resolves the writer schema to the channel's latest reader schema, so
producers on an older or newer compatible schema are read alike.
"""
from __future__ import annotations

import io
import struct
from typing import Any, Mapping

import fastavro

from journeys.core.errors import WireError
from journeys.wire.fingerprint import schema_fingerprint
from journeys.wire.schema_catalog import SchemaCatalog

CONFLUENT_MAGIC = b"\x00"
SINGLE_OBJECT_MAGIC = b"\xc3\x01"
_CONFLUENT_HEADER = struct.Struct(">bI")
_SINGLE_OBJECT_HEADER = struct.Struct("<2sQ")

def _avro_body(record: Mapping[str, Any], schema: Any) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, schema, dict(record))
    return out.getvalue()


def encode_confluent(record: Mapping[str, Any], schema_id: int, catalog: SchemaCatalog) -> bytes:
    schema = catalog.by_id(schema_id)
    return _CONFLUENT_HEADER.pack(0, schema_id) + _avro_body(record, schema)


def encode_single_object(record: Mapping[str, Any], schema: Any) -> bytes:
    header, parsed = _single_object_writer(schema)
    return header + _avro_body(record, parsed)


# id(schema) -> (schema, header, parsed): parsing and fingerprinting a schema cost a millisecond, per
# message before. The schema is kept, so its id is never reused for another while it is cached.
_WRITERS: dict[int, tuple[Any, bytes, Any]] = {}


def _single_object_writer(schema: Any) -> tuple[bytes, Any]:
    cached = _WRITERS.get(id(schema))
    if cached is None or cached[0] is not schema:
        parsed = fastavro.parse_schema(schema)
        cached = (schema, _SINGLE_OBJECT_HEADER.pack(SINGLE_OBJECT_MAGIC, schema_fingerprint(parsed)), parsed)
        _WRITERS[id(schema)] = cached
    return cached[1], cached[2]


def decode(payload: bytes, catalog: SchemaCatalog) -> dict[str, Any]:
    """Decode one framed message into a record of the channel's latest schema.

    Raises WireError with reason ``empty``, ``unknown_framing``,
    ``truncated_header``, ``unknown_schema_id``, ``unknown_fingerprint``,
    ``avro_decode_error`` or ``trailing_bytes``.
    """
    if not payload:
        raise WireError("empty", "message has no bytes")
    if payload[:1] == CONFLUENT_MAGIC:
        if len(payload) < _CONFLUENT_HEADER.size:
            raise WireError("truncated_header", f"{len(payload)} bytes, Confluent header needs 5")
        _, schema_id = _CONFLUENT_HEADER.unpack_from(payload)
        writer = catalog.by_id(schema_id)
        body_at = _CONFLUENT_HEADER.size
    elif payload[:2] == SINGLE_OBJECT_MAGIC:
        if len(payload) < _SINGLE_OBJECT_HEADER.size:
            raise WireError("truncated_header", f"{len(payload)} bytes, single-object header needs 10")
        _, fingerprint = _SINGLE_OBJECT_HEADER.unpack_from(payload)
        writer = catalog.by_fingerprint(fingerprint)
        body_at = _SINGLE_OBJECT_HEADER.size
    else:
        raise WireError("unknown_framing", f"first byte 0x{payload[0]:02x} is neither 0x00 nor 0xc3 0x01")
    return _read_body(payload, body_at, writer, catalog.reader_for(writer))


def _read_body(payload: bytes, body_at: int, writer: Any, reader: Any) -> dict[str, Any]:
    stream = io.BytesIO(payload)
    stream.seek(body_at)
    try:
        record = fastavro.schemaless_reader(stream, writer, reader)
    except Exception as exc:  # fastavro raises EOFError, StopIteration, ValueError, UnicodeDecodeError...
        raise WireError("avro_decode_error", f"{type(exc).__name__}: {exc}") from None
    left = len(payload) - stream.tell()
    if left:
        raise WireError("trailing_bytes", f"{left} bytes after the record")
    return record
