"""The configuration's checks: every value against its dataclass field's type and ``LIMITS``.

``build`` turns a file's (and the flags') nested mapping into the typed
dataclasses of ``journeys/core/config.py``, raising ``ConfigError`` with the
key, the value and what is allowed. What a quality policy file may hold is
the quality layer's to say (``journeys.quality.policy.check_policy_setting``).
"""
from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from dataclasses import fields
from typing import Any, Mapping

import phonenumbers

from journeys.core.errors import ConfigError, show_value
from journeys.core.event_time import parse_event_time
from journeys.core.schema_files import suite_path

PLAINTEXT, SSL, SASL_SSL = "PLAINTEXT", "SSL", "SASL_SSL"
SECURITY_PROTOCOLS = (PLAINTEXT, SSL, SASL_SSL)
# SCRAM only: PLAIN would send the password itself to the broker.
SASL_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256")


def _phone_regions() -> frozenset:
    return frozenset(phonenumbers.SUPPORTED_REGIONS)


def _event_time_ok(value: str) -> bool:
    try:
        parse_event_time(value)
    except ValueError:
        return False
    return True


def _regex_ok(value: str) -> bool:
    try:
        re.compile(value)
    except re.error:
        return False
    return True


def _suite_ok(value: str) -> bool:
    return suite_path(value).is_file()


# What each setting allows beyond its type (the dataclass annotation): "min"/"max" inclusive, "gt" exclusive,
# "choices" (a tuple, or a function returning one, for the values or, for tuples, each item), "keys" for
# dicts (the default's keys), "min_items" for tuples, "check" (a predicate) with "allowed" saying what it
# wants, "non_empty" for strings. A setting not listed here is checked for its type only.
LIMITS: dict[str, dict[str, Any]] = {
    **{f"topics.{name}": {"non_empty": True} for name in ("web", "app", "chat", "dead_letters")},
    "topics.partitions": {"min": 1},
    "validation.min_event_time": {"check": _event_time_ok, "allowed": "an ISO-8601 time with offset or Z"},
    "validation.max_future_s": {"min": 0},
    "validation.max_string_bytes": {"min": 1},
    "kafka.consumer_group": {"non_empty": True},
    "kafka.poll_timeout_ms": {"min": 1},
    "kafka.max_poll_records": {"min": 1},
    "kafka.max_partition_fetch_bytes": {"min": 1024},
    "kafka.fetch_max_bytes": {"min": 1024},
    "kafka.request_timeout_ms": {"min": 1},
    "kafka.max_events_per_chunk": {"min": 1},
    "kafka.security_protocol": {"choices": SECURITY_PROTOCOLS},
    "kafka.sasl_mechanism": {"choices": SASL_MECHANISMS},
    "journey.inactivity_gap_s": {"min": 1},
    "journey.max_journey_s": {"min": 1},
    "journey.heartbeat_s": {"min": 1},
    "journey.min_visit_s": {"min": 0},
    "journey.engaged_min_page_views": {"min": 1},
    "journey.engaged_min_time_s": {"min": 0},
    "friction.rage_click_min_clicks": {"min": 2},
    "friction.rage_click_max_interval_ms": {"min": 1},
    "friction.rage_click_radius_px": {"min": 1},
    "friction.quick_back_max_s": {"gt": 0},
    "friction.page_loop_min_views": {"min": 2},
    "friction.search_refine_min_searches": {"min": 2},
    "friction.search_refine_window_s": {"gt": 0},
    "friction.long_wait_s": {"min": 0},
    "friction.repeat_contact_window_s": {"min": 1},
    "friction.weights": {"keys": True, "min": 0},
    "effort.friction_points_per_step": {"gt": 0},
    "effort.long_journey_s": {"min": 1},
    "effort.unmet_outcome_step": {"min": 0},
    "effort.lowest": {"min": 0},
    "effort.highest": {"min": 1},
    "acquisition.paid_medium_pattern": {"check": _regex_ok, "allowed": "a regular expression"},
    "quality.events_suite": {"check": _suite_ok, "allowed": "a suite name under schemas/quality or a JSON file"},
    "quality.aggregates_suite": {"check": _suite_ok,
                                 "allowed": "a suite name under schemas/quality or a JSON file"},
    "masking.phone_regions": {"choices": _phone_regions},
    "masking.pseudonym_key_env": {"non_empty": True},
    "dashboard.funnel_steps": {"min_items": 1},
    **{f"streaming.{name}": {"gt": 0} for name in ("micro_batch_s", "poll_batch_s", "end_offsets_poll_s",
                                                   "idle_partition_s", "partition_discovery_s")},
    "streaming.resume_delay_s": {"min": 0},
    "streaming.out_of_orderness_s": {"min": 0},
}
def _key(where: str, name: str) -> str:
    return f"{where}.{name}".removeprefix("config.")


def _describe(kind: str, limits: Mapping[str, Any]) -> str:
    text = kind
    if "min" in limits and "max" in limits:
        return f"{text} from {limits['min']} to {limits['max']}"
    if "min" in limits:
        text += f" >= {limits['min']}"
    if "gt" in limits:
        text += f" > {limits['gt']}"
    if "max" in limits:
        text += f" <= {limits['max']}"
    return text


def _choices(limits: Mapping[str, Any]):
    choices = limits.get("choices")
    return choices() if callable(choices) else choices


def _in_range(value, limits: Mapping[str, Any]) -> bool:
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return (value >= limits.get("min", value) and value <= limits.get("max", value)
            and ("gt" not in limits or value > limits["gt"]))


def _scalar(key: str, hint: Any, value: Any, limits: Mapping[str, Any]):
    """``value`` checked against ``hint`` (bool, int, float, str) and ``limits``; ints are accepted as floats."""
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(key, value, "true or false")
    if hint is int or hint is float:
        kind = "an integer" if hint is int else "a number"
        allowed = _describe(kind, limits)
        number = isinstance(value, int) or (hint is float and isinstance(value, float))
        if isinstance(value, bool) or not number or not _in_range(value, limits):
            raise ConfigError(key, value, allowed)
        return float(value) if hint is float else value
    if hint is str:
        choices = _choices(limits)
        allowed = ("one of " + ", ".join(sorted(choices)) if choices else limits.get("allowed")
                   or ("a non-empty string" if limits.get("non_empty") else "a string"))
        if (not isinstance(value, str) or (limits.get("non_empty") and not value.strip())
                or (choices and value not in choices) or ("check" in limits and not limits["check"](value))):
            raise ConfigError(key, value, allowed)
        return value
    return value  # Any and other annotations: as given


def _hint(kind: type, name: str):
    hint = typing.get_type_hints(kind).get(name, Any)
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return [a for a in typing.get_args(hint) if a is not type(None)][0], True
    return hint, False


def _value(key: str, hint: Any, optional: bool, default: Any, value: Any):
    limits = LIMITS.get(key, {})
    if value is None and optional:
        return None
    if dataclasses.is_dataclass(hint) or dataclasses.is_dataclass(default):
        kind = hint if dataclasses.is_dataclass(hint) else type(default)
        if isinstance(value, kind):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(key, value, "a table of settings")
        return build(kind, value, f"config.{key}")
    if hint is tuple or isinstance(default, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(key, value, "a list")
        if len(value) < limits.get("min_items", 0):
            raise ConfigError(key, value, f"a list of at least {limits['min_items']}")
        samples = [item for item in (default or ()) if item is not None]
        item_kind = type(samples[0]) if samples else None
        items = []
        for n, item in enumerate(value):
            if item_kind is not None and dataclasses.is_dataclass(item_kind):
                items.append(_value(f"{key}[{n}]", item_kind, False, None, item))
            elif item_kind in (str, int, float, bool):
                item_limits = {k: v for k, v in limits.items() if k != "min_items"}
                try:
                    items.append(_scalar(key, item_kind, item, item_limits))
                except ConfigError as error:
                    raise ConfigError(f"{key}[{n}]", item, error.allowed) from None
            else:
                items.append(item)
        return tuple(items)
    if hint is dict or isinstance(default, dict):
        if not isinstance(value, Mapping):
            raise ConfigError(key, value, "a table")
        default = default or {}
        merged = dict(default)
        for name, item in value.items():
            if limits.get("keys") and name not in default:
                raise ConfigError(f"{key}.{name}", item, "a key of " + ", ".join(sorted(default)),
                                  message=f"{key}: unknown key {show_value(name)}; known: {', '.join(sorted(default))}")
            sample = default.get(name)
            item_kind = type(sample) if sample is not None else None
            merged[name] = _scalar(f"{key}.{name}", item_kind, item, limits) if item_kind else item
        return merged
    return _scalar(key, hint, value, limits)


def build(kind: type, data: Mapping[str, Any], where: str):
    """``kind`` from ``data``: every value checked against its field's type and ``LIMITS`` (ConfigError)."""
    if not isinstance(data, Mapping):
        raise ConfigError(_key(where, "")[:-1] or "config", data, "a table of settings")
    known = {f.name: f for f in fields(kind)}
    unknown = set(data) - set(known)
    if unknown:
        raise ConfigError(f"{where}.{sorted(unknown)[0]}".removeprefix("config."), message=(
            f"{where}: unknown setting(s) {sorted(unknown)}; known: {sorted(known)}"))
    values = {}
    for name, spec in known.items():
        if name not in data:
            if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
                raise ConfigError(_key(where, name), message=f"{_key(where, name)}: required")
            continue
        default = spec.default_factory() if spec.default_factory is not dataclasses.MISSING else spec.default
        default = None if default is dataclasses.MISSING else default
        hint, optional = _hint(kind, name)
        values[name] = _value(_key(where, name), hint, optional, default, data[name])
    return kind(**values)
