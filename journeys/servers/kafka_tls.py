"""A SASL_SSL listener for the local Kafka broker: TLS certificates made with Java's keytool, SCRAM users.

For tests and trying the security settings on one machine: a throw-away
self-signed broker certificate (SAN ``IP:127.0.0.1`` and ``DNS:localhost``, so
hostname checks pass) in a PKCS12 keystore for the broker, exported as PEM
(``keytool -exportcert -rfc``) for kafka-python's ``ssl_cafile``. SCRAM users
are written into the KRaft metadata when the storage is formatted
(``kafka-storage format --add-scram``), so no ZooKeeper and no running
broker is needed to create them.
"""
from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from journeys.servers.local_server import HOST

LISTENER = "SASL_SSL"
KEYTOOL_TIMEOUT_S = 120
CERT_VALIDITY_DAYS = 7
SCRAM_ITERATIONS = 8192  # Kafka's default is 4096; at least that


@dataclass(frozen=True)
class SaslSslListener:
    """What LocalKafka needs for its SASL_SSL listener on ``HOST``.

    ``users``: SCRAM name -> password, created at format time. ``repr`` hides the passwords.
    """
    keystore: Path  # PKCS12, the broker's key and certificate chain
    keystore_password: str = field(repr=False)
    cafile: Path  # PEM: what clients trust (ssl_cafile)
    users: Mapping[str, str] = field(repr=False, default_factory=dict)
    mechanism: str = "SCRAM-SHA-512"

    def broker_settings(self, port: int) -> dict[str, str]:
        """server.properties entries for the listener (to add to listeners/advertised/protocol map too)."""
        prefix = f"listener.name.{LISTENER.lower()}"
        mechanism = self.mechanism.lower()
        return {
            "sasl.enabled.mechanisms": self.mechanism,
            f"{prefix}.sasl.enabled.mechanisms": self.mechanism,
            f"{prefix}.{mechanism}.sasl.jaas.config":
                "org.apache.kafka.common.security.scram.ScramLoginModule required;",
            f"{prefix}.ssl.keystore.type": "PKCS12",
            f"{prefix}.ssl.keystore.location": str(self.keystore),
            f"{prefix}.ssl.keystore.password": self.keystore_password,
            f"{prefix}.ssl.key.password": self.keystore_password,
            f"{prefix}.ssl.client.auth": "none",
        }

    def format_args(self) -> list[str]:
        """``kafka-storage format`` arguments that create the SCRAM users."""
        args = []
        for name, password in self.users.items():
            if any(c in name + password for c in ",=[]\"'"):
                raise ValueError(f"SCRAM user {name!r}: name and password must not contain , = [ ] or quotes")
            spec = f"{self.mechanism}=[name={name},password={password},iterations={SCRAM_ITERATIONS}]"
            args += ["--add-scram", spec]
        return args


def keytool_executable() -> str:
    java_home = os.environ.get("JAVA_HOME")
    tool = ((java_home and shutil.which("keytool", path=os.path.join(java_home, "bin")))
            or shutil.which("keytool"))
    if tool is None:
        raise RuntimeError("keytool not found on PATH (it comes with the JDK that runs Kafka)")
    return tool


def _keytool(*args: str) -> None:
    proc = subprocess.run([keytool_executable(), *args], capture_output=True, text=True,
                          timeout=KEYTOOL_TIMEOUT_S, check=False)
    if proc.returncode != 0:  # the output names files and aliases, not passwords
        raise RuntimeError(f"keytool {args[0]} failed (exit {proc.returncode}): "
                           f"{(proc.stdout + proc.stderr).strip()[-2000:]}")


def make_broker_keystore(folder: Path, users: Mapping[str, str], mechanism: str = "SCRAM-SHA-512",
                         keystore_password: str | None = None) -> SaslSslListener:
    """A self-signed broker certificate for 127.0.0.1/localhost in a PKCS12 keystore in ``folder``,
    and the same certificate as PEM (``ca.pem``) for clients to trust. Overwrites what is there.

    Self-signed (it is its own CA) and an EC key: two keytool runs, seconds on a busy machine.
    """
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    password = keystore_password or secrets.token_urlsafe(18)
    keystore, ca_pem = folder / "broker.p12", folder / "ca.pem"
    for path in (keystore, ca_pem):
        path.unlink(missing_ok=True)
    _keytool("-genkeypair", "-alias", "broker", "-keyalg", "EC", "-groupname", "secp256r1",
             "-validity", str(CERT_VALIDITY_DAYS), "-dname", "CN=localhost",
             "-ext", f"SAN=IP:{HOST},DNS:localhost", "-storetype", "PKCS12", "-keystore", str(keystore),
             "-storepass", password, "-keypass", password)
    keystore.chmod(0o600)
    _keytool("-exportcert", "-rfc", "-alias", "broker", "-keystore", str(keystore), "-storepass", password,
             "-file", str(ca_pem))
    return SaslSslListener(keystore=keystore, keystore_password=password, cafile=ca_pem,
                           users=dict(users), mechanism=mechanism)
