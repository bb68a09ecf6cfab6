"""One typed configuration object with the contract's defaults.

Loaded from a JSON or TOML file (``--config``) and then overridden by flags.
Every threshold the pipeline uses lives here; code reads it, never a literal.
"""
from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping


@dataclass(frozen=True)
class TopicConfig:
    web: str = "web.events"
    app: str = "app.events"
    chat: str = "chat.events"
    dead_letters: str = "journeys.dead_letters"
    partitions: int = 3

    def by_channel(self) -> dict[str, str]:
        return {"web": self.web, "app": self.app, "chat": self.chat}

    def by_channel_topic(self) -> dict[str, str]:
        return {topic: channel for channel, topic in self.by_channel().items()}


@dataclass(frozen=True)
class ValidationConfig:
    """Contract section 4: what makes a record a dead letter."""
    min_event_time: str = "2000-01-01T00:00:00Z"
    max_future_s: int = 86_400
    max_string_bytes: int = 65_536


@dataclass(frozen=True)
class KafkaConfig:
    consumer_group: str = "journeys"
    registry_url: str | None = None
    poll_timeout_ms: int = 1_000
    max_poll_records: int = 5_000
    request_timeout_ms: int = 30_000


@dataclass(frozen=True)
class Config:
    topics: TopicConfig = field(default_factory=TopicConfig)
    validation: ValidationConfig = field(default_factory=ValidationConfig)
    kafka: KafkaConfig = field(default_factory=KafkaConfig)

    @classmethod
    def load(cls, path: str | Path | None = None, **overrides: Any) -> "Config":
        """Defaults, then the file, then ``overrides`` as ``section__name=value``."""
        data: dict[str, Any] = {}
        if path:
            text = Path(path).read_text()
            data = tomllib.loads(text) if str(path).endswith(".toml") else json.loads(text)
        for key, value in overrides.items():
            if value is None:
                continue
            section, _, name = key.partition("__")
            data.setdefault(section, {})[name] = value
        return _build(cls, data, "config")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _build(kind: type, data: Mapping[str, Any], where: str):
    known = {f.name: f for f in fields(kind)}
    unknown = set(data) - set(known)
    if unknown:
        raise ValueError(f"{where}: unknown setting(s) {sorted(unknown)}; known: {sorted(known)}")
    values = {}
    for name, value in data.items():
        default = known[name].default_factory() if known[name].default_factory is not dataclasses.MISSING else None
        if dataclasses.is_dataclass(default):
            values[name] = _build(type(default), value, f"{where}.{name}")
        else:
            values[name] = value
    return kind(**values)
