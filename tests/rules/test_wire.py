"""Wire framings, CRC-64-AVRO fingerprints and schema evolution."""
import io
import json
import struct

import fastavro
import pytest
from support.paths import SCHEMAS_DIR

from journeys.core.errors import WireError
from journeys.wire import framing as wire
from journeys.wire.fingerprint import crc64_avro, schema_fingerprint
from journeys.wire.schema_catalog import SchemaCatalog

SCHEMAS = SCHEMAS_DIR

# Known vectors from the Avro project's own fingerprint tests
# (share/test/data/schema-tests.txt, as ported to the C# implementation's
# SchemaFingerprint tests): Java longs, i.e. signed 64-bit.
AVRO_SPEC_VECTORS = [
    ('"null"', 7195948357588979594),
    ('"boolean"', -6970731678124411036),
    ('"int"', 8247732601305521295),
    ('"long"', -3434872931120570953),
    ('"float"', 5583340709985441680),
    ('"double"', -8181574048448539266),
    ('"bytes"', 5746618253357095269),
    ('"string"', -8142146995180207161),
    ('[]', -1241056759729112623),
    ('["int"]', -5232228896498058493),
    ('["int","boolean"]', 5392556393470105090),
    ('{"name":"x.y.foo","type":"record","fields":[]}', 5916914534497305771),
]


@pytest.mark.parametrize("canonical,java_long", AVRO_SPEC_VECTORS)
def test_crc64_avro_matches_the_avro_test_vectors(canonical, java_long):
    assert crc64_avro(canonical.encode()) == java_long % 2**64


def test_schema_fingerprint_agrees_with_fastavro_wire_bytes():
    schema = fastavro.parse_schema(json.loads((SCHEMAS / "web.avsc").read_text()))
    pcf = fastavro.schema.to_parsing_canonical_form(schema)
    # fastavro gives the 8 little-endian bytes as hex, as they stand on the wire.
    assert struct.pack("<Q", schema_fingerprint(schema)).hex() == fastavro.schema.fingerprint(pcf, "CRC-64-AVRO")


@pytest.fixture(scope="module")
def catalog():
    return SchemaCatalog()


def web_record(**extra):
    record = {"event_id": "e-1", "event_type": "page_view", "channel": "web", "event_time": 1767571200000,
              "anonymous_id": "anon-1", "user_id": None, "properties": {"k": "v"},
              "page_url": "https://shop.example.com/", "x": 10, "revenue": 9.5}
    record.update(extra)
    return record


def test_confluent_framing_layout_and_round_trip(catalog):
    payload = wire.encode_confluent(web_record(), 1, catalog)
    assert payload[:5] == b"\x00\x00\x00\x00\x01"
    decoded = wire.decode(payload, catalog)
    assert decoded["event_id"] == "e-1" and decoded["properties"] == {"k": "v"} and decoded["x"] == 10


def test_single_object_framing_layout_and_round_trip(catalog):
    schema = catalog.by_id(1)
    payload = wire.encode_single_object(web_record(), schema)
    assert payload[:2] == b"\xc3\x01"
    assert struct.unpack_from("<Q", payload, 2)[0] == schema_fingerprint(schema)
    assert wire.decode(payload, catalog)["page_url"] == "https://shop.example.com/"


def test_old_writer_is_read_by_new_reader_with_the_default(catalog):
    v1 = catalog.by_id(1)
    decoded = wire.decode(wire.encode_single_object(web_record(), v1), catalog)
    assert decoded["user_agent"] is None  # web.v2 adds user_agent with default null


def test_new_writer_is_read_by_old_reader(catalog):
    v1, v2 = catalog.by_id(1), catalog.by_id(4)
    body = io.BytesIO()
    fastavro.schemaless_writer(body, v2, web_record(user_agent="Mozilla/5.0"))
    body.seek(0)
    old = fastavro.schemaless_reader(body, v2, v1)
    assert "user_agent" not in old and old["event_id"] == "e-1"
    assert wire.decode(wire.encode_confluent(web_record(user_agent="UA"), 4, catalog), catalog)["user_agent"] == "UA"


@pytest.mark.parametrize("payload,reason", [
    (b"", "empty"),
    (b"\x7fhello", "unknown_framing"),
    (b"\x00\x00\x01", "truncated_header"),
    (b"\xc3\x01\x00", "truncated_header"),
    (b"\x00\x00\x00\x03\xe7rest", "unknown_schema_id"),
    (b"\xc3\x01" + b"\x01" * 8 + b"rest", "unknown_fingerprint"),
])
def test_bad_frames_have_reasons(catalog, payload, reason):
    with pytest.raises(WireError) as error:
        wire.decode(payload, catalog)
    assert error.value.reason == reason


def test_truncated_and_padded_bodies(catalog):
    good = wire.encode_confluent(web_record(), 1, catalog)
    with pytest.raises(WireError) as truncated:
        wire.decode(good[:-6], catalog)
    assert truncated.value.reason == "avro_decode_error"
    with pytest.raises(WireError) as padded:
        wire.decode(good + b"\x00\x00", catalog)
    assert padded.value.reason == "trailing_bytes"


def test_every_channel_schema_is_pinned_and_flat(catalog):
    pins = json.loads((SCHEMAS / "registry.json").read_text())
    assert set(pins["latest"]) == {"web", "app", "chat"}
    for file_name in set(pins["ids"].values()):
        schema = json.loads((SCHEMAS / file_name).read_text())
        assert all(not (isinstance(f["type"], dict) and f["type"].get("type") == "record") for f in schema["fields"])
