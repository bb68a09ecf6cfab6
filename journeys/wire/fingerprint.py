"""CRC-64-AVRO schema fingerprints, as the Avro specification defines them."""
from __future__ import annotations

from typing import Any

from fastavro.schema import to_parsing_canonical_form

# The Rabin fingerprint polynomial of the Avro specification ("CRC-64-AVRO").
_CRC64_EMPTY = 0xC15D213AA4D7A795


def _crc64_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        fp = byte
        for _ in range(8):
            fp = (fp >> 1) ^ (_CRC64_EMPTY & -(fp & 1))
        table.append(fp)
    return tuple(table)


_CRC64_TABLE = _crc64_table()


def crc64_avro(data: bytes) -> int:
    """CRC-64-AVRO of ``data`` as an unsigned 64-bit integer."""
    fp = _CRC64_EMPTY
    for byte in data:
        fp = (fp >> 8) ^ _CRC64_TABLE[(fp ^ byte) & 0xFF]
    return fp


def schema_fingerprint(schema: Any) -> int:
    """CRC-64-AVRO over the schema's Parsing Canonical Form (unsigned)."""
    return crc64_avro(to_parsing_canonical_form(schema).encode("utf-8"))
