"""Kafka security: the ``[kafka]`` settings as kafka-python client keyword arguments.

Every Kafka client the project makes (the bounded reader's planning, reading
and committing consumers, the dead-letter producer, ``journeys produce``, the
admin client that creates topics, and any later streaming reader) takes its
security from ``kafka_client_kwargs(config.kafka)``, called where the client is
made: in a DoFn, in ``setup`` on the worker. The password is read then (from
the environment variable ``sasl_password_env``, else the first line of
``sasl_password_file``), so it is never part of a pickled DoFn, of the
configuration's repr, of Beam's options or display data, nor of an error
message. Pure: no Kafka import.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from journeys.core.config import KafkaConfig
from journeys.core.config_checks import (  # noqa: F401  (part of this module's API)
    PLAINTEXT,
    SASL_MECHANISMS,
    SASL_SSL,
    SECURITY_PROTOCOLS,
    SSL,
)

MASK = "***"


class Secret:
    """A value that shows as ``***`` whatever prints it, and refuses to be pickled.

    ``reveal()`` is the only way to the value; pickling fails so a secret can never
    travel inside a DoFn or a pipeline graph (resolve it on the worker instead).
    """

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return MASK

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self):
        raise TypeError("a Secret is not picklable: resolve it where it is used (e.g. in DoFn.setup)")


class _MaskedStr(str):
    """The password as kafka-python needs it (a ``str`` it can ``.encode()``), masked when printed.

    kafka-python logs its configuration at DEBUG (KafkaAdminClient); repr, str and
    format of this string give ``***``, so such logs and tracebacks do not show it.
    """

    def __repr__(self) -> str:
        return MASK

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __reduce__(self):
        raise TypeError("the Kafka password is not picklable: call kafka_client_kwargs where the client is made")


def check_security(kafka: KafkaConfig) -> None:
    """ValueError, naming the setting, when the security settings cannot work together (no secret read)."""
    protocol = kafka.security_protocol
    if protocol not in SECURITY_PROTOCOLS:
        raise ValueError(f"kafka.security_protocol {protocol!r}: expected one of {', '.join(SECURITY_PROTOCOLS)}")
    if protocol == SASL_SSL:
        if kafka.sasl_mechanism not in SASL_MECHANISMS:
            raise ValueError(f"kafka.sasl_mechanism {kafka.sasl_mechanism!r}: expected one of "
                             f"{', '.join(SASL_MECHANISMS)}")
        if not kafka.sasl_username:
            raise ValueError("kafka.security_protocol SASL_SSL needs kafka.sasl_username")
    elif kafka.sasl_username or kafka.sasl_password_file:
        raise ValueError(f"kafka.sasl_username/sasl_password_file are set but kafka.security_protocol is "
                         f"{protocol}: use SASL_SSL (or drop them)")
    if protocol == PLAINTEXT:
        tls = [name for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile") if getattr(kafka, name)]
        if tls:
            raise ValueError(f"kafka.{tls[0]} is set but kafka.security_protocol is PLAINTEXT: use SSL or SASL_SSL")
        return
    if kafka.ssl_keyfile and not kafka.ssl_certfile:
        raise ValueError("kafka.ssl_keyfile is set without kafka.ssl_certfile")
    for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
        path = getattr(kafka, name)
        if path and not Path(path).is_file():
            raise ValueError(f"kafka.{name} {path}: no such file")


def resolve_password(kafka: KafkaConfig, environ: Mapping[str, str] | None = None) -> Secret:
    """The SASL password: ``$sasl_password_env`` if set and not empty, else the first line of ``sasl_password_file``."""
    environ = os.environ if environ is None else environ
    value = environ.get(kafka.sasl_password_env, "") if kafka.sasl_password_env else ""
    if not value and kafka.sasl_password_file:
        try:
            lines = Path(kafka.sasl_password_file).read_text(encoding="utf-8").splitlines()
        except OSError as error:  # the message names the file, never its content
            raise ValueError(f"kafka.sasl_password_file {kafka.sasl_password_file}: cannot read it "
                             f"({error.strerror or type(error).__name__})") from None
        value = lines[0].strip() if lines else ""
    if not value:
        where = f"${kafka.sasl_password_env} is not set" if kafka.sasl_password_env else "no sasl_password_env"
        source = (f"kafka.sasl_password_file {kafka.sasl_password_file} is empty" if kafka.sasl_password_file
                  else "kafka.sasl_password_file is not given")
        raise ValueError(f"kafka.security_protocol SASL_SSL needs a password: {where} and {source}")
    return Secret(value)


def kafka_client_kwargs(kafka: KafkaConfig, environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``security_protocol``, ``ssl_*`` and ``sasl_*`` keyword arguments for KafkaConsumer, KafkaProducer
    and KafkaAdminClient, from ``kafka`` (a KafkaConfig).

    Reads the password now: call it where the client is made (on a worker, in
    ``DoFn.setup``), never keep the result in anything pickled or printed. The
    password in the result prints as ``***``.
    """
    check_security(kafka)
    kwargs: dict[str, Any] = {"security_protocol": kafka.security_protocol}
    if kafka.security_protocol == PLAINTEXT:
        return kwargs
    kwargs["ssl_check_hostname"] = bool(kafka.ssl_check_hostname)
    for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
        if getattr(kafka, name):
            kwargs[name] = str(getattr(kafka, name))
    if kafka.security_protocol == SASL_SSL:
        kwargs.update(sasl_mechanism=kafka.sasl_mechanism, sasl_plain_username=kafka.sasl_username,
                      sasl_plain_password=_MaskedStr(resolve_password(kafka, environ).reveal()))
    return kwargs


def describe_security(kafka: KafkaConfig) -> str:
    """One line for messages: protocol, mechanism and user, never the password."""
    if kafka.security_protocol == SASL_SSL:
        return f"{SASL_SSL} {kafka.sasl_mechanism} as {kafka.sasl_username}"
    return kafka.security_protocol
