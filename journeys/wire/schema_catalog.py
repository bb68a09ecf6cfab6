"""The Avro schemas of ``schemas/``: by pinned id, by fingerprint, by channel.

Confluent schema ids resolve through a Schema Registry when a URL is given
(``GET {url}/schemas/ids/{id}``), else through the ids pinned in
``schemas/registry.json``.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from importlib import resources
from typing import Any

import fastavro

from journeys.core.errors import WireError
from journeys.wire.fingerprint import schema_fingerprint

_REGISTRY_FILE = "registry.json"
_REGISTRY_TIMEOUT_S = 10


def _load_file(name: str) -> Any:
    return json.loads(resources.files("journeys.schemas").joinpath(name).read_text())


class RegistryUnavailable(RuntimeError):
    """The registry could not answer; the run fails rather than dead-letter good messages."""


class SchemaCatalog:
    def __init__(self, registry_url: str | None = None):
        pins = _load_file(_REGISTRY_FILE)
        self._registry_url = registry_url.rstrip("/") if registry_url else None
        self._files = {int(k): v for k, v in pins["ids"].items()}
        self._by_id: dict[int, Any] = {}
        self._by_fingerprint: dict[int, Any] = {}
        self._latest: dict[str, Any] = {}
        for schema_id, name in self._files.items():
            schema = fastavro.parse_schema(_load_file(name))
            if not self._registry_url:
                self._by_id[schema_id] = schema
            self._by_fingerprint[schema_fingerprint(schema)] = schema
        for channel, name in pins["latest"].items():
            self._latest[channel] = fastavro.parse_schema(_load_file(name))
        self._latest_by_name = {s["name"]: s for s in self._latest.values()}
        # id(writer) -> (writer, whether it is its reader): the writer is kept, so its id is not reused
        self._same_as_reader: dict[int, tuple[Any, bool]] = {}
        id_of_file = {name: schema_id for schema_id, name in self._files.items()}
        self._latest_id = {channel: id_of_file[name] for channel, name in pins["latest"].items()}

    def by_id(self, schema_id: int) -> Any:
        schema = self._by_id.get(schema_id)
        if schema is None and self._registry_url:
            schema = self._by_id[schema_id] = self._fetch(schema_id)
        if schema is None:
            raise WireError("unknown_schema_id", f"schema id {schema_id} is not pinned in schemas/{_REGISTRY_FILE}")
        return schema

    def by_fingerprint(self, fingerprint: int) -> Any:
        try:
            return self._by_fingerprint[fingerprint]
        except KeyError:
            raise WireError("unknown_fingerprint", f"no schema in schemas/ has fingerprint {fingerprint:#018x}") from None

    def reader_for(self, writer: Any) -> Any:
        """The latest schema of the writer's record; unknown records read as written. None when that
        schema is the writer's own: fastavro then reads without resolving one schema against another,
        a third faster, with the same record."""
        reader = self._latest_by_name.get(writer["name"], writer)
        same = self._same_as_reader.get(id(writer))
        if same is None or same[0] is not writer:
            same = self._same_as_reader[id(writer)] = (writer, reader is writer or reader == writer)
        return None if same[1] else reader

    def latest(self, channel: str) -> Any:
        return self._latest[channel]

    def latest_id(self, channel: str) -> int:
        return self._latest_id[channel]

    def _fetch(self, schema_id: int) -> Any:
        url = f"{self._registry_url}/schemas/ids/{schema_id}"
        try:
            with urllib.request.urlopen(url, timeout=_REGISTRY_TIMEOUT_S) as response:
                body = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                raise WireError("unknown_schema_id", f"registry has no schema id {schema_id}") from None
            raise RegistryUnavailable(f"schema registry {url} answered {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, ValueError) as exc:
            # Not the message's fault: fail the bundle so the runner retries, never dead-letter.
            raise RegistryUnavailable(f"schema registry {url} unreachable: {exc}") from None
        return fastavro.parse_schema(json.loads(body["schema"]))
