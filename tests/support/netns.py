"""Run a command, or a Python function, in a private network namespace with only loopback up.

Beam's job and artifact servers, the Fn API servers inside Flink and the Python
LOOPBACK worker listen on every interface whatever host they are given. In a
fresh network namespace "every interface" is just ``lo``, so nothing a test
starts is reachable from outside, and nothing outside (the session Kafka broker
included) is reachable from inside: start what the test needs in there.

The namespace also gets its own pid namespace: its first process is pid 1 there,
and when it ends the kernel kills every process left inside (a job server that
missed its atexit hook, a JVM whose parent died). ``unshare --kill-child`` ends
it when ``unshare`` dies, and ``unshare`` dies with the test process.

    result = call_in_netns("support.flink_jobs:bounded_word_counts", {"words": [...]}, timeout_s=180)

Nothing inside reaches the network: fetch jars (``ensure_flink_jars()``) before.
"""
from __future__ import annotations

import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from journeys.servers.local_server import die_with_parent

RESULT_MARKER = "NETNS_RESULT:"
TESTS_DIR = Path(__file__).resolve().parents[1]
# pid 1 of the new pid namespace: bring loopback up, then run the command as its child.
# ("exit" after it keeps sh from exec'ing it: as pid 1 it would ignore SIGTERM and SIGINT.)
INIT_SCRIPT = 'ip link set lo up || exit 97; "$@"; exit $?'


def netns_unavailable() -> str | None:
    """Why namespaces cannot be made here (a reason for pytest.skip), or None."""
    missing = [tool for tool in ("unshare", "ip") if shutil.which(tool) is None]
    if missing:
        return f"needs {' and '.join(missing)} (Debian: util-linux, iproute2)"
    probe = subprocess.run(["unshare", "--net", "--pid", "--fork", "--mount-proc", "sh", "-c", INIT_SCRIPT,
                            "sh", "true"], capture_output=True, text=True, timeout=30, check=False)
    if probe.returncode != 0:
        return f"cannot create network namespaces (root needed): {probe.stderr.strip()}"
    return None


def run_in_netns(argv: list[str], *, timeout_s: float, env: dict | None = None) -> subprocess.CompletedProcess:
    """``argv`` in a fresh network and pid namespace; output captured, never raises on exit status."""
    cmd = ["unshare", "--net", "--pid", "--fork", "--kill-child", "--mount-proc",
           "sh", "-c", INIT_SCRIPT, "sh", *argv]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=env, check=False,
                          preexec_fn=die_with_parent(os.getpid(), signal.SIGKILL))


def call_in_netns(target: str, kwargs: dict, *, timeout_s: float) -> dict:
    """``module:function(**kwargs)`` in a fresh namespace (a new Python process); returns its JSON result.

    kwargs and the result travel as JSON; the function runs with ``tests/`` on sys.path.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS_DIR), os.environ.get("PYTHONPATH")]))}
    proc = run_in_netns([sys.executable, "-m", "support.netns", target, json.dumps(kwargs)],
                        timeout_s=timeout_s, env=env)
    results = [line[len(RESULT_MARKER):] for line in proc.stdout.splitlines() if line.startswith(RESULT_MARKER)]
    if proc.returncode != 0 or not results:
        raise AssertionError(f"{target} in a network namespace failed (exit {proc.returncode}):\n"
                             f"--- stdout\n{proc.stdout[-6000:]}\n--- stderr\n{proc.stderr[-12000:]}")
    return json.loads(results[-1])


def _main(target: str, kwargs_json: str) -> None:
    module, function = target.split(":")
    result = getattr(importlib.import_module(module), function)(**json.loads(kwargs_json))
    print(RESULT_MARKER + json.dumps(result), flush=True)


if __name__ == "__main__":
    _main(*sys.argv[1:])
