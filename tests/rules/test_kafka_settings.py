"""Kafka security settings -> kafka-python kwargs, and the password shown nowhere (journeys/core/kafka_settings.py)."""
import logging
import pickle

import pytest

from journeys.core.config import Config, KafkaConfig
from journeys.core.kafka_settings import MASK, Secret, check_security, kafka_client_kwargs, resolve_password

PASSWORD = "hunter2-" + "x" * 12
ENV = {"JOURNEYS_KAFKA_PASSWORD": PASSWORD}


def sasl(**overrides):
    return KafkaConfig(**{"security_protocol": "SASL_SSL", "sasl_username": "journeys", **overrides})


def test_plaintext_is_the_default_and_adds_nothing_else():
    assert kafka_client_kwargs(KafkaConfig(), environ={}) == {"security_protocol": "PLAINTEXT"}


def test_sasl_ssl_gives_every_kafka_python_setting(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    kwargs = kafka_client_kwargs(sasl(ssl_cafile=str(ca), sasl_mechanism="SCRAM-SHA-256",
                                      ssl_check_hostname=False), environ=ENV)
    assert kwargs == {"security_protocol": "SASL_SSL", "ssl_check_hostname": False, "ssl_cafile": str(ca),
                      "sasl_mechanism": "SCRAM-SHA-256", "sasl_plain_username": "journeys",
                      "sasl_plain_password": PASSWORD}
    password = kwargs["sasl_plain_password"]
    # kafka-python encodes it for SCRAM; anything that prints it sees the mask.
    assert password.encode("utf-8") == PASSWORD.encode("utf-8")
    assert repr(password) == str(password) == f"{password}" == MASK
    assert PASSWORD not in repr(kwargs) and PASSWORD not in str(kwargs)
    with pytest.raises(TypeError):
        pickle.dumps(kwargs)


def test_ssl_with_a_client_certificate(tmp_path):
    for name in ("ca.pem", "client.pem", "client.key"):
        (tmp_path / name).write_text("x")
    kwargs = kafka_client_kwargs(KafkaConfig(security_protocol="SSL", ssl_cafile=str(tmp_path / "ca.pem"),
                                             ssl_certfile=str(tmp_path / "client.pem"),
                                             ssl_keyfile=str(tmp_path / "client.key")), environ={})
    assert kwargs == {"security_protocol": "SSL", "ssl_check_hostname": True, "ssl_cafile": str(tmp_path / "ca.pem"),
                      "ssl_certfile": str(tmp_path / "client.pem"), "ssl_keyfile": str(tmp_path / "client.key")}


def test_the_password_comes_from_the_environment_before_the_file(tmp_path):
    file = tmp_path / "password"
    file.write_text("from-the-file\nsecond line\n")
    assert resolve_password(sasl(sasl_password_file=str(file)), environ=ENV).reveal() == PASSWORD
    assert resolve_password(sasl(sasl_password_file=str(file)), environ={}).reveal() == "from-the-file"
    assert resolve_password(sasl(sasl_password_env="OTHER"), environ={"OTHER": "o"}).reveal() == "o"


@pytest.mark.parametrize("config, message", [
    (KafkaConfig(security_protocol="SASL_PLAINTEXT"), "kafka.security_protocol 'SASL_PLAINTEXT': expected one of"),
    (sasl(sasl_mechanism="PLAIN"), "kafka.sasl_mechanism 'PLAIN': expected one of SCRAM-SHA-512, SCRAM-SHA-256"),
    (KafkaConfig(security_protocol="SASL_SSL"), "SASL_SSL needs kafka.sasl_username"),
    (KafkaConfig(sasl_username="journeys"), "security_protocol is PLAINTEXT: use SASL_SSL"),
    (KafkaConfig(ssl_cafile="/ca.pem"), "kafka.ssl_cafile is set but kafka.security_protocol is PLAINTEXT"),
    (KafkaConfig(security_protocol="SSL", ssl_cafile="/nowhere/ca.pem"), "kafka.ssl_cafile /nowhere/ca.pem: no such"),
])
def test_settings_that_cannot_work_are_one_clear_error(config, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_security(config)


def test_a_missing_or_unreadable_password_names_where_it_looked_never_a_value(tmp_path):
    with pytest.raises(ValueError) as missing:
        kafka_client_kwargs(sasl(), environ={})
    assert str(missing.value) == ("kafka.security_protocol SASL_SSL needs a password: $JOURNEYS_KAFKA_PASSWORD "
                                  "is not set and kafka.sasl_password_file is not given")
    with pytest.raises(ValueError, match="kafka.sasl_password_file .*/absent: cannot read it"):
        kafka_client_kwargs(sasl(sasl_password_file=str(tmp_path / "absent")), environ={})
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(ValueError, match="is empty"):
        kafka_client_kwargs(sasl(sasl_password_file=str(empty)), environ={})


def test_a_secret_prints_as_a_mask_and_never_pickles():
    secret = Secret(PASSWORD)
    assert repr(secret) == str(secret) == f"{secret}" == MASK
    assert secret.reveal() == PASSWORD and secret == Secret(PASSWORD)
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(secret)


def test_the_config_holds_where_the_password_is_not_the_password(tmp_path):
    path = tmp_path / "journeys.toml"
    path.write_text('[kafka]\nsecurity_protocol = "SASL_SSL"\nsasl_username = "journeys"\n'
                    'sasl_password_file = "/run/secrets/kafka"\nssl_check_hostname = false\n')
    kafka = Config.load(path).kafka
    assert (kafka.security_protocol, kafka.sasl_username, kafka.sasl_password_env, kafka.sasl_password_file,
            kafka.ssl_check_hostname) == ("SASL_SSL", "journeys", "JOURNEYS_KAFKA_PASSWORD", "/run/secrets/kafka",
                                          False)
    assert not any(f.name.endswith("password") for f in __import__("dataclasses").fields(KafkaConfig))


def test_kafka_pythons_debug_log_of_its_configuration_shows_the_mask(caplog):
    # KafkaAdminClient logs its keyword arguments at DEBUG; here is what such a line gives.
    kwargs = kafka_client_kwargs(sasl(), environ=ENV)
    with caplog.at_level(logging.DEBUG, logger="kafka.admin.client"):
        logging.getLogger("kafka.admin.client").debug("Starting KafkaAdminClient with configuration: %s", kwargs)
    assert "'sasl_plain_password': ***" in caplog.text and PASSWORD not in caplog.text
