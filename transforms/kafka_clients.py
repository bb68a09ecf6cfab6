"""Every Kafka client of the project, made with the ``[kafka]`` security settings.

``new_consumer`` and ``new_producer`` build kafka-python clients with
``kafka_client_kwargs(config.kafka)`` (journeys/core/kafka_settings.py): call
them where the client is used, in ``DoFn.setup`` on a worker, so the password
is read there and never pickled. ``explained_kafka_errors`` turns a client
that cannot connect (a wrong password, an untrusted certificate, no broker)
into one line: ``RuntimeError("Kafka at HOST:PORT (SASL_SSL SCRAM-SHA-512 as
USER): authentication failed ...")``, never with the password, and keeps
kafka-python's own retry logging off a non-verbose terminal.
"""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError

from journeys.core.config import KafkaConfig
from journeys.core.errors import Unreachable  # a RuntimeError: the CLI exits 5 on it
from journeys.core.kafka_settings import describe_security, kafka_client_kwargs

PROBE_TIMEOUT_MS = 5_000
AUTHENTICATION_FAILED = ("authentication failed (check kafka.sasl_username, kafka.sasl_mechanism and the password "
                         "in ${env} or kafka.sasl_password_file)")
# What kafka-python logs when a connection fails, and what it means to a user.
_CAUSES = (
    ("SaslAuthenticationFailedError", AUTHENTICATION_FAILED),
    ("CERTIFICATE_VERIFY_FAILED", ("the broker's TLS certificate is not trusted or does not match the host "
                                   "(check kafka.ssl_cafile and kafka.ssl_check_hostname)")),
    ("WRONG_VERSION_NUMBER", "TLS handshake failed: is this listener TLS? (check kafka.security_protocol)"),
    ("UNSUPPORTED_SASL_MECHANISM", "the broker does not offer kafka.sasl_mechanism on this listener"),
    ("UnsupportedSaslMechanism", "the broker does not offer kafka.sasl_mechanism on this listener"),
    ("Connection refused", "nothing listens there (check the HOST:PORT)"),
)


class _ConnectionFailures(logging.Handler):
    """Remembers the first known cause kafka-python logs; forwards records only when verbose."""

    def __init__(self, forward: bool = False, keep: bool = False):
        super().__init__(logging.DEBUG)
        self.cause: str | None = None
        self.messages: list[str] = []
        self._forward, self._keep = forward, keep

    def emit(self, record: logging.LogRecord) -> None:
        if self._keep:
            self.messages.append(record.getMessage())
        if self.cause is None and record.levelno >= logging.WARNING:
            text = record.getMessage()
            self.cause = next((cause for marker, cause in _CAUSES if marker in text), None)
        root = logging.getLogger()
        if self._forward and record.levelno >= root.getEffectiveLevel():
            root.handle(record)


def _diagnose(bootstrap: str, kafka: KafkaConfig) -> str | None:
    """After a failure: one short connection attempt, its DEBUG log read for how far it got.

    kafka-python does not always report a failed SCRAM exchange as such (the
    broker closes the connection): a connection that sent its SASL proof and
    was then dropped, never authenticated, had the wrong credentials.
    """
    logger = logging.getLogger("kafka")
    watcher, level = _ConnectionFailures(keep=True), logger.level
    logger.addHandler(watcher)
    logger.setLevel(logging.DEBUG)
    try:
        KafkaConsumer(bootstrap_servers=bootstrap, bootstrap_timeout_ms=PROBE_TIMEOUT_MS,
                      request_timeout_ms=PROBE_TIMEOUT_MS, **kafka_client_kwargs(kafka)).close()
        return None  # it works now: the first error stands
    except KafkaError:
        pass
    finally:
        logger.setLevel(level)
        logger.removeHandler(watcher)
    if watcher.cause:
        return watcher.cause
    text = "\n".join(watcher.messages)
    if "SaslAuthenticateRequest" in text and "Authenticated as" not in text:
        return AUTHENTICATION_FAILED
    return None


@contextlib.contextmanager
def explained_kafka_errors(bootstrap: str, kafka: KafkaConfig) -> Iterator[None]:
    """A KafkaError inside becomes RuntimeError with one line saying where, how and why; no password."""
    logger = logging.getLogger("kafka")
    watcher = _ConnectionFailures(forward=logging.getLogger().isEnabledFor(logging.INFO))
    propagate = logger.propagate
    logger.addHandler(watcher)
    logger.propagate = False
    try:
        yield
    except KafkaError as error:
        cause = watcher.cause or _diagnose(bootstrap, kafka) or str(error)
        cause = cause.replace("${env}", f"${kafka.sasl_password_env}")

        raise Unreachable(f"Kafka at {bootstrap} ({describe_security(kafka)}): {cause}") from None
    finally:
        logger.removeHandler(watcher)
        logger.propagate = propagate


def new_consumer(bootstrap: str, kafka: KafkaConfig, group: str | None, **extra: Any) -> KafkaConsumer:
    """A KafkaConsumer with the security of ``kafka`` (password read now), manual commits."""
    with explained_kafka_errors(bootstrap, kafka):
        return KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                             request_timeout_ms=kafka.request_timeout_ms,
                             bootstrap_timeout_ms=kafka.request_timeout_ms,  # fail fast on an unreachable broker
                             **kafka_client_kwargs(kafka), **extra)


def new_producer(bootstrap: str, kafka: KafkaConfig, **extra: Any) -> KafkaProducer:
    """A KafkaProducer with the security of ``kafka`` (password read now)."""
    with explained_kafka_errors(bootstrap, kafka):
        return KafkaProducer(bootstrap_servers=bootstrap, **kafka_client_kwargs(kafka), **extra)
