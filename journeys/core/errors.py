"""Bad input, with a stable short reason code for dead letters and counters."""

import json


class BadInput(ValueError):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class WireError(BadInput):
    """Bytes that are not a decodable framed Avro record."""


class InvalidEvent(BadInput):
    """A decoded record that breaks the contract (section 4)."""


class ConfigError(ValueError):
    """A configuration file or flag that is not allowed: names the key, the value and what is allowed.

    ``key`` is dotted (``journey.inactivity_gap_s``); ``allowed`` reads after
    "expected" ("an integer >= 1"). ``message`` replaces the standard text
    (a file that cannot be read or parsed, unknown keys).
    """

    def __init__(self, key: str, value: object = None, allowed: str = "", message: str = ""):
        self.key, self.value, self.allowed = key, value, allowed
        super().__init__(message or f"{key} = {show_value(value)}: expected {allowed}")


def show_value(value: object, limit: int = 80) -> str:
    """A value as a config file spells it (JSON), ASCII only (a control character cannot reach a terminal)."""

    try:
        text = json.dumps(value, default=repr)
    except ValueError:  # NaN and infinities with allow_nan, or a cycle
        text = repr(value).encode("ascii", "backslashreplace").decode()
    return text if len(text) <= limit else text[:limit - 3] + "..."


class Unreachable(RuntimeError):
    """A server the command needs cannot be reached or refused it (Kafka broker, PostgreSQL): exit 5."""


class NotWritable(OSError):
    """Where the command must write is not writable or is held by another process (a locked DuckDB file,
    an unwritable ``--output-dir``): exit 6."""
