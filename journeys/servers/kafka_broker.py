"""A real single-node KRaft Kafka broker (official Apache jars) managed from Python.

The broker runs detached so it can outlive the process that started it; its pid and
ports live in ``<data_dir>/state.json`` so any other process can ask for its status
or stop it.
"""
from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Iterable

from kafka import KafkaAdminClient

from journeys.servers import local_server, maven
from journeys.servers.kafka_tls import LISTENER as SASL_SSL
from journeys.servers.kafka_tls import SaslSslListener
from journeys.servers.local_server import HOST, LocalServer, free_ports, port_open
from journeys.servers.maven import copy_dependencies, java_executable, repo_root

KAFKA_JAR_GLOB = "kafka_2.13-*.jar"
FORMAT_TIMEOUT_S = 120
LOG_TAIL_LINES = 40
POLL_INTERVAL_S = 0.25
CONNECT_TIMEOUT_S = 1.0
ADMIN_TIMEOUT_MS = 5_000
TOPIC_READY_TIMEOUT_MS = 30_000
TOPIC_EXISTS_ERRNO = 36  # TOPIC_ALREADY_EXISTS: creating is idempotent for us
NODE_ID = 1
REPLICATION_FACTOR = 1  # single node: every replica set is just this broker
SEGMENT_BYTES = 16 * 1024 * 1024
RETENTION_BYTES_PER_PARTITION = 256 * 1024 * 1024
CLEANER_BUFFER_BYTES = 16 * 1024 * 1024  # default 128 MiB would eat a small heap
DEFAULT_PARTITIONS = 3
INTERNAL_TOPIC_PARTITIONS = 3  # default 50 makes the first consumer-group join slow

LOG4J = """\
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
# These dump every config value / every request; keep them to warnings.
log4j.logger.org.apache.kafka.common.config.AbstractConfig=WARN
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.common.utils.AppInfoParser=WARN
"""


def kafka_lib_dir() -> Path:
    override = os.environ.get("JOURNEYS_KAFKA_LIB")
    return Path(override) if override else repo_root() / "deploy" / "kafka" / "lib"


def ensure_kafka_jars() -> Path:
    return copy_dependencies("deploy/kafka/pom.xml", kafka_lib_dir(), KAFKA_JAR_GLOB, "Kafka")


def _cluster_id() -> str:
    # Kafka's Uuid text form; one starting with '-' would be parsed as a CLI flag.
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


class LocalKafka(LocalServer):
    # SIGTERM lets Kafka flush and close its logs; SIGKILL only if it hangs.
    stop_signals = (signal.SIGTERM, signal.SIGKILL)
    poll_interval_s = POLL_INTERVAL_S

    def __init__(self, data_dir: Path, sasl_ssl: SaslSslListener | None = None):
        """``sasl_ssl``: also listen for SASL_SSL clients (kafka_tls.make_broker_keystore) on another port."""
        super().__init__(data_dir)
        self.sasl_ssl = sasl_ssl

    def _owns(self, pid: int) -> bool:
        # Only a JVM running kafka.Kafka counts.
        cmdline = Path(f"/proc/{pid}/cmdline")
        return not cmdline.exists() or b"kafka.Kafka" in cmdline.read_bytes()

    @property
    def bootstrap(self) -> str | None:
        state = self._state()
        return state.get("bootstrap") if self._alive(state.get("pid")) else None

    @property
    def sasl_ssl_bootstrap(self) -> str | None:
        """HOST:PORT of the SASL_SSL listener, when it has one and runs."""
        state = self._state()
        return state.get("sasl_ssl_bootstrap") if self._alive(state.get("pid")) else None

    def status(self) -> dict:
        state = self._state()
        running = self._alive(state.get("pid"))
        return {"running": running, "bootstrap": state.get("bootstrap") if running else None,
                "pid": state.get("pid") if running else None, "data_dir": str(self.data_dir)}

    def start(self, port: int | None = None, *, die_with_parent: bool = False,
              heap_mb: int = 512, timeout_s: float = 120) -> str:
        if self.bootstrap:
            return self.bootstrap
        lib = ensure_kafka_jars()
        java = java_executable()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        picked = free_ports(1 if port else 2)
        port, cport = port or picked[-1], picked[0]
        sport = _another_port({port, cport}) if self.sasl_ssl else None
        props = self._write_config(port, cport, sport)
        log4j = self.data_dir / "log4j.properties"
        log4j.write_text(LOG4J)
        jvm = [java, f"-Dlog4j.configuration={log4j.as_uri()}", "-Djava.awt.headless=true",
               "-cp", str(lib / "*")]
        self._format(jvm, props)
        with open(self.log_file, "wb") as log:
            self._proc = subprocess.Popen(
                [*jvm[:1], f"-Xmx{heap_mb}m", *jvm[1:], "kafka.Kafka", str(props)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.data_dir,
                start_new_session=True,
                preexec_fn=local_server.die_with_parent(os.getpid(), signal.SIGTERM) if die_with_parent else None)
        bootstrap = f"{HOST}:{port}"
        self.state_file.write_text(json.dumps(
            {"pid": self._proc.pid, "bootstrap": bootstrap, "controller_port": cport,
             **({"sasl_ssl_bootstrap": f"{HOST}:{sport}"} if sport else {})}))
        try:
            self._wait_ready(bootstrap, port, timeout_s)
            if sport:
                self._wait_port(sport, timeout_s)
        except BaseException:
            self.stop()
            raise
        return bootstrap

    def _write_config(self, port: int, cport: int, sport: int | None = None) -> Path:
        settings = {
            "process.roles": "broker,controller",
            "node.id": NODE_ID,
            "controller.quorum.voters": f"{NODE_ID}@{HOST}:{cport}",
            "listeners": f"PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{cport}",
            "advertised.listeners": f"PLAINTEXT://{HOST}:{port}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": self.data_dir / "kraft-logs",
            "num.partitions": DEFAULT_PARTITIONS,
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": REPLICATION_FACTOR,
            "offsets.topic.num.partitions": INTERNAL_TOPIC_PARTITIONS,
            "transaction.state.log.replication.factor": REPLICATION_FACTOR,
            "transaction.state.log.min.isr": REPLICATION_FACTOR,
            "transaction.state.log.num.partitions": INTERNAL_TOPIC_PARTITIONS,
            "group.initial.rebalance.delay.ms": 0,
            "log.segment.bytes": SEGMENT_BYTES,
            # Size-bounded, never time-based: replayed events carry old timestamps and
            # time retention would silently delete them.
            "log.retention.ms": -1,
            "log.retention.bytes": RETENTION_BYTES_PER_PARTITION,
            "log.cleaner.dedupe.buffer.size": CLEANER_BUFFER_BYTES,
        }
        if sport:
            # Clients authenticate on SASL_SSL; the broker and its controller still talk PLAINTEXT on HOST.
            settings["listeners"] += f",{SASL_SSL}://{HOST}:{sport}"
            settings["advertised.listeners"] += f",{SASL_SSL}://{HOST}:{sport}"
            settings["listener.security.protocol.map"] += f",{SASL_SSL}:{SASL_SSL}"
            settings.update(self.sasl_ssl.broker_settings(sport))
        path = self.data_dir / "server.properties"
        path.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
        return path

    def _format(self, jvm: list[str], props: Path) -> None:
        # Formatting twice would fail (or, forced, wipe data); meta.properties marks done.
        if (self.data_dir / "kraft-logs" / "meta.properties").exists():
            return
        cmd = [*jvm, "kafka.tools.StorageTool", "format", "-t", _cluster_id(), "-c", str(props),
               *(self.sasl_ssl.format_args() if self.sasl_ssl else ())]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=FORMAT_TIMEOUT_S)
        if proc.returncode != 0:
            tail = maven.tail((proc.stdout + proc.stderr).splitlines())
            raise RuntimeError(f"kafka storage format failed:\n{tail}")

    def _wait_ready(self, bootstrap: str, port: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"Kafka exited with {self._proc.returncode}:\n{self._log_tail()}")
            # A bound port is not enough: the broker must have joined its own KRaft quorum.
            if port_open(port, CONNECT_TIMEOUT_S):
                with contextlib.suppress(Exception):  # not ready yet; the deadline is the limit
                    with KafkaAdminClient(bootstrap_servers=bootstrap, client_id="journeys-ready",
                                          bootstrap_timeout_ms=ADMIN_TIMEOUT_MS,
                                          request_timeout_ms=ADMIN_TIMEOUT_MS) as admin:
                        admin.list_topics()
                        return
            time.sleep(POLL_INTERVAL_S)
        raise TimeoutError(f"Kafka not ready on {bootstrap} after {timeout_s}s:\n{self._log_tail()}")

    def _wait_port(self, port: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not port_open(port, CONNECT_TIMEOUT_S):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Kafka's {SASL_SSL} listener on {HOST}:{port} did not open:\n{self._log_tail()}")
            time.sleep(POLL_INTERVAL_S)

    def _log_tail(self) -> str:
        try:
            lines = self.log_file.read_text(errors="replace").splitlines()
        except OSError:
            return "(no server.log)"
        # The cause (e.g. a bind failure) is logged early and buried under shutdown chatter.
        errors = [line for line in lines if " ERROR " in line or line.startswith("Caused by")]
        return "\n".join(["errors:", *errors[-LOG_TAIL_LINES:], "tail:", maven.tail(lines)])



def _another_port(taken: set[int]) -> int:
    while True:
        (port,) = free_ports(1)
        if port not in taken:
            return port


def create_topics(bootstrap: str, names: Iterable[str], partitions: int = DEFAULT_PARTITIONS,
                  **client_kwargs: Any) -> None:
    """``client_kwargs``: the admin client's security (journeys.core.kafka_settings.kafka_client_kwargs)."""
    names = list(names)
    if not names:
        return
    with KafkaAdminClient(bootstrap_servers=bootstrap, client_id="journeys-topics", **client_kwargs) as admin:
        spec = {"num_partitions": partitions, "replication_factor": REPLICATION_FACTOR}
        result = admin.create_topics({n: spec for n in names}, raise_errors=False)
        failed = {t["name"]: t.get("error_message") or t["error_code"] for t in result["topics"]
                  if t["error_code"] not in (0, TOPIC_EXISTS_ERRNO)}
        if failed:
            raise RuntimeError(f"creating topics failed: {failed}")
        # CreateTopics returns before the metadata cache has leaders; producers need them.
        admin.wait_for_topics(names, timeout_ms=TOPIC_READY_TIMEOUT_MS)

