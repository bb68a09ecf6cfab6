"""Confluent schema ids resolved through a Schema Registry URL (GET /schemas/ids/{id})."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from support.paths import SCHEMAS_DIR

from journeys.core.errors import WireError
from journeys.wire import framing as wire
from journeys.wire.schema_catalog import SchemaCatalog

SCHEMAS = SCHEMAS_DIR
REGISTERED = {101: (SCHEMAS / "chat.avsc").read_text()}  # a registry numbers schemas its own way


class _Registry(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):
        _Registry.requests.append(self.path)
        prefix = "/schemas/ids/"
        schema_id = int(self.path[len(prefix):]) if self.path.startswith(prefix) else None
        if schema_id not in REGISTERED:
            self.send_response(404)
            self.end_headers()
            self.wfile.write(b'{"error_code": 40403, "message": "Schema not found"}')
            return
        body = json.dumps({"schema": REGISTERED[schema_id]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def registry_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Registry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_ids_resolve_through_the_registry_once(registry_url):
    catalog = SchemaCatalog(registry_url)
    record = {"event_id": "e1", "event_type": "message", "channel": "chat", "event_time": 1767571200000,
              "anonymous_id": "v1", "user_id": None, "properties": {}, "conversation_id": "c1",
              "sender": "bot", "message_text": "hi", "intent": None, "resolution": None, "csat_score": None}
    payload = b"\x00\x00\x00\x00\x65" + wire.encode_confluent(record, 3, SchemaCatalog())[5:]  # id 101
    _Registry.requests.clear()
    assert wire.decode(payload, catalog)["conversation_id"] == "c1"
    assert wire.decode(payload, catalog)["sender"] == "bot"
    assert _Registry.requests == ["/schemas/ids/101"]  # cached after the first look-up


def test_an_id_the_registry_does_not_know_is_a_dead_letter_reason(registry_url):
    with pytest.raises(WireError) as error:
        wire.decode(b"\x00\x00\x00\x00\x01" + b"\x02", SchemaCatalog(registry_url))
    assert error.value.reason == "unknown_schema_id"


def test_an_unreachable_registry_fails_clearly_instead_of_dead_lettering():
    from journeys.wire.schema_catalog import RegistryUnavailable

    with pytest.raises(RegistryUnavailable, match="unreachable"):
        wire.decode(b"\x00\x00\x00\x00\x01\x02", SchemaCatalog("http://127.0.0.1:9"))
