"""A real PostgreSQL server (Debian's ``postgresql`` package) run from a private data dir.

No system cluster, no systemd: ``initdb`` + ``postgres`` on 127.0.0.1 and a free port.
The pid and URL live in ``<data_dir>/state.json`` so any other process can ask for the
status or stop it.  As root, the server runs as the ``postgres`` system user (the Debian
package creates it) because postgres refuses to run as root.
"""
from __future__ import annotations

import contextlib
import json
import os
import pwd
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from journeys.servers import local_server
from journeys.servers.local_server import HOST, LocalServer, port_open

USER = "journeys"
DATABASE = "journeys"
MAINTENANCE_DB = "postgres"  # always exists after initdb; used to create DATABASE
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
REQUIRED_BINARIES = ("initdb", "pg_ctl", "postgres")
SERVICE_USER = "postgres"
INSTALL_HINT = ("PostgreSQL server binaries not found: ./dev setup installs the Debian package "
                "postgresql (or run: apt-get install postgresql), or set JOURNEYS_PG_BIN")
SHARED_BUFFERS = "32MB"  # tests and dev data are small; the 128MB default is wasted RAM
MAX_CONNECTIONS = 50
MAX_SOCKET_PATH = 100  # sun_path is 108 bytes incl. "/.s.PGSQL.<port>" suffix room
INITDB_TIMEOUT_S = 120
POLL_INTERVAL_S = 0.1
CONNECT_TIMEOUT_S = 2
LOG_TAIL_LINES = 30


def find_pg_bin() -> Path:
    override = os.environ.get("JOURNEYS_PG_BIN")
    candidates = [Path(override)] if override else sorted(
        Path("/").glob(PG_BIN_GLOB.lstrip("/")), key=lambda p: _version_key(p.parent.name),
        reverse=True)
    for bin_dir in candidates:  # highest major version first
        if all((bin_dir / name).is_file() for name in REQUIRED_BINARIES):
            return bin_dir
    raise RuntimeError(INSTALL_HINT + (f" (JOURNEYS_PG_BIN={override} lacks them)" if override else ""))


def _version_key(text: str) -> tuple:
    return tuple(int(p) if p.isdigit() else -1 for p in text.split("."))


def _url(port: int, database: str = DATABASE) -> str:
    return f"postgresql://{USER}@{HOST}:{port}/{database}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _service_account() -> pwd.struct_passwd | None:
    """Who the server runs as: None means "as ourselves" (we are not root)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        raise RuntimeError(f"running as root needs the system user {SERVICE_USER!r}; "
                           + INSTALL_HINT) from None


def _grant_access(data_dir: Path, account: pwd.struct_passwd) -> None:
    # The service user must own the data dir and be able to *traverse* to it. pytest's
    # /tmp/pytest-of-root is 0700, so under the temp dir add search-only (x, not read)
    # for others; elsewhere (e.g. /root) widening permissions is the user's call.
    tmp = Path(tempfile.gettempdir()).resolve()
    for parent in reversed(data_dir.parents):
        mode = parent.stat().st_mode
        if mode & 0o001:
            continue
        if tmp not in parent.parents:
            raise RuntimeError(f"user {SERVICE_USER} cannot reach {data_dir}: {parent} is not "
                               f"searchable (chmod o+x {parent}, or use a data dir under {tmp})")
        os.chmod(parent, mode | 0o001)
    # Only these two: initdb creates everything inside pgdata as the service user already.
    for path in (data_dir, data_dir / "pgdata"):
        os.chown(path, account.pw_uid, account.pw_gid)


class LocalPostgres(LocalServer):
    # SIGINT = "fast" shutdown: roll back sessions, checkpoint, exit. SIGQUIT
    # (immediate, needs crash recovery next start) only if that hangs.
    stop_signals = (signal.SIGINT, signal.SIGQUIT)
    poll_interval_s = POLL_INTERVAL_S

    def __init__(self, data_dir: Path):
        super().__init__(data_dir)
        self.pgdata = self.data_dir / "pgdata"  # initdb wants an empty dir; state.json lives beside it

    def _owns(self, pid: int) -> bool:
        # Only a postgres serving *our* pgdata counts.
        with contextlib.suppress(OSError):
            return str(self.pgdata).encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
        return False

    @property
    def url(self) -> str | None:
        state = self._state()
        return state.get("url") if self._alive(state.get("pid")) else None

    def status(self) -> dict:
        state = self._state()
        running = self._alive(state.get("pid"))
        return {"running": running, "url": state.get("url") if running else None,
                "pid": state.get("pid") if running else None,
                "port": state.get("port") if running else None,
                "accepting": running and port_open(state["port"], CONNECT_TIMEOUT_S), "data_dir": str(self.data_dir)}

    def start(self, port: int | None = None, *, die_with_parent: bool = False,
              timeout_s: float = 60, fsync: bool = True) -> str:
        if self.url:
            return self.url
        bin_dir, account = find_pg_bin(), _service_account()
        as_service = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []} if account else {}
        self.pgdata.mkdir(parents=True, exist_ok=True)
        if account:
            _grant_access(self.data_dir, account)
        if not (self.pgdata / "PG_VERSION").exists():  # initdb only once: it refuses a used dir
            proc = subprocess.run(
                [bin_dir / "initdb", "-D", self.pgdata, "-U", USER, "--auth=trust", "--encoding=UTF8",
                 "--locale=C", "--no-instructions"], cwd=self.data_dir, capture_output=True,
                text=True, timeout=INITDB_TIMEOUT_S, **as_service)
            if proc.returncode != 0:
                raise RuntimeError(f"initdb failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
        port = port or _free_port()
        # A unix socket in data_dir avoids /var/run/postgresql (root-owned, maybe absent);
        # a path too long for sun_path would stop the server, so then go TCP-only.
        sockets = str(self.data_dir) if len(str(self.data_dir)) < MAX_SOCKET_PATH else ""
        settings = {"listen_addresses": HOST, "port": port, "unix_socket_directories": sockets,
                    "shared_buffers": SHARED_BUFFERS, "max_connections": MAX_CONNECTIONS,
                    "fsync": "on" if fsync else "off", "logging_collector": "off"}
        args = [a for k, v in settings.items() for a in ("-c", f"{k}={v}")]
        with open(self.log_file, "ab") as log:
            if account:
                os.chown(self.log_file, account.pw_uid, account.pw_gid)
            # postgres itself (not pg_ctl, which forks a grandchild) so PDEATHSIG reaches it;
            # own session so a terminal Ctrl-C does not hit it before our teardown does.
            self._proc = subprocess.Popen(
                [bin_dir / "postgres", "-D", self.pgdata, *args], stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, cwd=self.data_dir, start_new_session=True,
                preexec_fn=local_server.die_with_parent(os.getpid(), signal.SIGINT) if die_with_parent else None, **as_service)
        url = _url(port)
        self.state_file.write_text(json.dumps({"pid": self._proc.pid, "port": port, "url": url}))
        try:
            self._wait_ready(port, timeout_s)
            with psycopg.connect(_url(port, MAINTENANCE_DB), autocommit=True) as c:
                if not c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
                    c.execute(f'CREATE DATABASE "{DATABASE}"')
            psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S).close()
        except BaseException:
            self.stop()
            raise
        return url

    def _wait_ready(self, port: int, timeout_s: float) -> None:
        target = _url(port, MAINTENANCE_DB)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"postgres exited with {self._proc.returncode}:\n{self._log_tail()}")
            # Port open is not enough: during crash recovery it answers "starting up".
            with contextlib.suppress(psycopg.OperationalError):
                psycopg.connect(target, connect_timeout=CONNECT_TIMEOUT_S).close()
                return
            time.sleep(POLL_INTERVAL_S)
        raise TimeoutError(f"postgres not ready on port {port} after {timeout_s}s:\n{self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:])
        except OSError:
            return "(no server.log)"
