"""Kafka security end to end: a broker with a SASL_SSL listener (SCRAM-SHA-512 over TLS, certificate from keytool).

``journeys produce`` and ``journeys run`` (as subprocesses, verbose) read and
write only through that listener: events land in DuckDB, offsets are
committed, a dead letter reaches the dead-letter topic; a wrong password is
one line on stderr; the password is in no output, log or file of the run.
"""
import os
import secrets
import subprocess
import sys
import uuid

import duckdb
import pytest
from kafka import KafkaConsumer, KafkaProducer

from journeys.core.config import KafkaConfig
from journeys.core.kafka_settings import kafka_client_kwargs
from journeys.servers.kafka_broker import LocalKafka, create_topics, ensure_kafka_jars
from journeys.servers.kafka_tls import make_broker_keystore

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
USER = "journeys"
PARTITIONS = 2
PASSWORD_ENV = "JOURNEYS_KAFKA_PASSWORD"
BAD_MESSAGE = b"\x7fnot avro at all"


@pytest.fixture(scope="module")
def secure_kafka(tmp_path_factory):
    """A broker whose clients authenticate with SCRAM-SHA-512 over TLS; its topics made over SASL_SSL."""
    ensure_kafka_jars()
    root = tmp_path_factory.mktemp("secure-kafka")
    password = "pw-" + secrets.token_hex(16)  # unique, so any leak is found by a plain search
    listener = make_broker_keystore(root / "tls", {USER: password})
    broker = LocalKafka(root / "kafka", sasl_ssl=listener)
    broker.start(die_with_parent=True)  # a killed pytest takes the JVM with it
    try:
        suffix = uuid.uuid4().hex[:8]
        topics = {name: f"sec-{suffix}.{name}" for name in ("web", "app", "chat", "dead_letters")}
        kafka = KafkaConfig(security_protocol="SASL_SSL", sasl_username=USER, ssl_cafile=str(listener.cafile))
        create_topics(broker.sasl_ssl_bootstrap, topics.values(), PARTITIONS,
                      **kafka_client_kwargs(kafka, environ={PASSWORD_ENV: password}))
        yield {"bootstrap": broker.sasl_ssl_bootstrap, "cafile": str(listener.cafile), "password": password,
               "topics": topics, "kafka": kafka, "broker_log": broker.log_file, "root": root}
    finally:
        broker.stop()


def config_toml(secure, path, group, password_file=None):
    topics = secure["topics"]
    where = f'sasl_password_file = "{password_file}"' if password_file else f'sasl_password_env = "{PASSWORD_ENV}"'
    path.write_text(f"""
[topics]
web = "{topics['web']}"
app = "{topics['app']}"
chat = "{topics['chat']}"
dead_letters = "{topics['dead_letters']}"
partitions = {PARTITIONS}

[kafka]
consumer_group = "{group}"
security_protocol = "SASL_SSL"
sasl_mechanism = "SCRAM-SHA-512"
sasl_username = "{USER}"
{where}
ssl_cafile = "{secure['cafile']}"
ssl_check_hostname = true
""")
    return str(path)


def journeys(*args, password=None):
    """``journeys -v ARGS`` in a subprocess (INFO logging: Beam's and kafka-python's logs included)."""
    env = {k: v for k, v in os.environ.items() if k != PASSWORD_ENV}
    if password is not None:
        env[PASSWORD_ENV] = password
    return subprocess.run([sys.executable, "-m", "journeys.commands.cli", "-v", *args], env=env, check=False,
                          capture_output=True, text=True, timeout=420)


def files_containing(folder, needle: bytes):
    return [str(p) for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


def dead_letter_topic(secure):
    consumer = KafkaConsumer(secure["topics"]["dead_letters"], bootstrap_servers=secure["bootstrap"],
                             auto_offset_reset="earliest", consumer_timeout_ms=10_000,
                             **kafka_client_kwargs(secure["kafka"], environ={PASSWORD_ENV: secure["password"]}))
    try:
        return [(m.value, dict(m.headers)) for m in consumer]
    finally:
        consumer.close()


def test_produce_run_commit_and_dead_letters_over_sasl_ssl(secure_kafka, tmp_path):
    password = secure_kafka["password"]
    password_file = tmp_path / "kafka-password"
    password_file.write_text(password + "\n")
    password_file.chmod(0o600)
    group = f"sec-{uuid.uuid4().hex[:8]}"
    produce_config = config_toml(secure_kafka, tmp_path / "produce.toml", group, password_file=password_file)
    config = config_toml(secure_kafka, tmp_path / "journeys.toml", group)
    outputs = []

    # The producer's password from a file, the runs' from the environment.
    produced = journeys("produce", "--bootstrap", secure_kafka["bootstrap"], "--synthetic", "200",
                        "--config", produce_config)
    outputs.append(produced)
    assert produced.returncode == 0, produced.stderr
    assert "sent 200 events" in produced.stdout
    producer = KafkaProducer(bootstrap_servers=secure_kafka["bootstrap"], acks="all",
                             **kafka_client_kwargs(secure_kafka["kafka"], environ={PASSWORD_ENV: password}))
    producer.send(secure_kafka["topics"]["web"], key=b"bad", value=BAD_MESSAGE)
    producer.flush()
    producer.close()

    warehouse, runs = tmp_path / "w.duckdb", tmp_path / "runs"
    run_args = ("run", "--source", f"kafka:{secure_kafka['bootstrap']}", "--warehouse", f"duckdb:{warehouse}",
                "--config", config, "--output-dir", str(runs))
    first = journeys(*run_args, password=password)
    outputs.append(first)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "input 201 = " in first.stdout and "dead letters 1 (ok)" in first.stdout, first.stdout
    db = duckdb.connect(str(warehouse))
    try:
        assert db.execute("SELECT count(*) FROM events").fetchone()[0] > 150
        assert db.execute("SELECT count(*) FROM journeys").fetchone()[0] > 0
        assert db.execute("SELECT count(*) FROM dead_letters").fetchone()[0] == 1
    finally:
        db.close()
    published = dead_letter_topic(secure_kafka)
    assert [value for value, _ in published] == [BAD_MESSAGE]
    assert published[0][1]["source"] == secure_kafka["topics"]["web"].encode()

    second = journeys(*run_args, password=password)  # the first run committed its offsets
    outputs.append(second)
    assert second.returncode == 0, second.stderr[-3000:]
    assert "input 0 = processed 0 + duplicates 0 + dead letters 0 (ok)" in second.stdout

    for proc in outputs:
        assert password not in proc.stdout and password not in proc.stderr
    assert files_containing(runs, password.encode()) == []
    assert password.encode() not in warehouse.read_bytes()
    assert password.encode() not in secure_kafka["broker_log"].read_bytes()


def test_a_wrong_password_is_one_clear_line(secure_kafka, tmp_path):
    config = config_toml(secure_kafka, tmp_path / "journeys.toml", f"sec-{uuid.uuid4().hex[:8]}")
    wrong = "wrong-" + secrets.token_hex(8)
    proc = subprocess.run(
        [sys.executable, "-m", "journeys.commands.cli", "run", "--source", f"kafka:{secure_kafka['bootstrap']}",
         "--config", config, "--output-dir", str(tmp_path / "runs")],
        env={**os.environ, PASSWORD_ENV: wrong}, check=False, capture_output=True, text=True, timeout=300)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    # 5: the CLI's "a server cannot be reached or refused us" (kafka_clients raises core.errors.Unreachable).
    assert proc.returncode == 5, proc.stderr
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"journeys run: Kafka at {secure_kafka['bootstrap']} (SASL_SSL SCRAM-SHA-512 as "
                               f"{USER}): authentication failed"), lines[0]
    assert PASSWORD_ENV in lines[0]
    assert "Traceback" not in proc.stderr
    for secret in (wrong, secure_kafka["password"]):
        assert secret not in proc.stderr and secret not in proc.stdout
    assert not (tmp_path / "runs").exists() or files_containing(tmp_path / "runs", wrong.encode()) == []


def test_a_missing_password_is_one_clear_line(secure_kafka, tmp_path):
    config = config_toml(secure_kafka, tmp_path / "journeys.toml", f"sec-{uuid.uuid4().hex[:8]}")
    proc = journeys("produce", "--bootstrap", secure_kafka["bootstrap"], "--synthetic", "5", "--config", config)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        f"journeys produce: kafka.security_protocol SASL_SSL needs a password: ${PASSWORD_ENV} is not set "
        "and kafka.sasl_password_file is not given")
