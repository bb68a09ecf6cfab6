"""What the local Kafka broker and the local PostgreSQL server share as managed processes.

Each runs from its own data folder and is found again by any process through
the ``state.json`` there, so ``journeys kafka status`` works from another shell.
"""
from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

HOST = "127.0.0.1"
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def port_open(port: int, timeout_s: float) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports free on HOST right now (all held open until every one is chosen)."""
    held = []
    try:
        for _ in range(count):
            s = socket.socket()
            held.append(s)
            s.bind((HOST, 0))
        return [s.getsockname()[1] for s in held]
    finally:
        for s in held:
            s.close()


def die_with_parent(parent_pid: int, sig: signal.Signals):
    """A ``preexec_fn`` that sends ``sig`` to the child when the starting thread exits.

    The kernel clears the death signal whenever process credentials change, so a
    Popen that switches user does that first (Popen's ``user=``), then runs this.
    """
    # Loaded before fork: importing in the forked child of a threaded parent can deadlock.
    libc = ctypes.CDLL(None, use_errno=True)

    def preexec() -> None:
        libc.prctl(PR_SET_PDEATHSIG, sig)
        if os.getppid() != parent_pid:  # parent already gone before prctl took effect
            os._exit(1)
    return preexec


class LocalServer:
    """A server process started from ``data_dir``; subclasses start it and say how it stops."""

    stop_signals: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGKILL)
    poll_interval_s: float = 0.25

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir).resolve()
        self.state_file = self.data_dir / "state.json"
        self.log_file = self.data_dir / "server.log"
        self._proc: subprocess.Popen | None = None

    def _state(self) -> dict:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}

    def _owns(self, pid: int) -> bool:
        """Guards against pid reuse: is the live process ``pid`` really this server?"""
        raise NotImplementedError

    def _alive(self, pid: int | None) -> bool:
        if not pid:
            return False
        if self._proc is not None and self._proc.pid == pid:
            return self._proc.poll() is None
        try:
            os.kill(pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return self._owns(pid)

    def stop(self, timeout_s: float = 30) -> None:
        """Each of ``stop_signals`` in turn, waiting up to ``timeout_s`` for the process to go; idempotent."""
        pid = self._state().get("pid") or (self._proc.pid if self._proc else None)
        if self._alive(pid):
            for sig in self.stop_signals:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
                deadline = time.monotonic() + timeout_s
                while self._alive(pid) and time.monotonic() < deadline:
                    time.sleep(self.poll_interval_s)
                if not self._alive(pid):
                    break
        if self._proc is not None:
            self._proc.wait()  # reap, or the pid lingers as a zombie
            self._proc = None
        self.state_file.unlink(missing_ok=True)
