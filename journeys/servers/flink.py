"""Apache Flink for Beam from Maven Central: the jars, a job-server launcher jar, a local session cluster.

No Beam ``*-job-server`` jar is served, so ``deploy/flink/pom.xml`` fetches the
non-shaded ``beam-runners-flink-1.19`` with its dependencies (about 150 MB) into
``deploy/flink/lib``. That one classpath runs Beam's job server (what Python's
FlinkRunner starts, given ``--flink_job_server_jar=launcher_jar()``) and a real
standalone Flink session cluster: a JobManager and a TaskManager JVM bound to
127.0.0.1 on free ports. Beam's own servers listen on every interface whatever
they are told: see deploy/flink/README.md before running them outside a private
network namespace.

    python -m journeys.servers.flink start|stop|status [--data-dir DIR] [--slots N]
    python -m journeys.servers.flink launcher    # fetches the jars, prints the launcher jar
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

from journeys.servers import local_server, maven
from journeys.servers.local_server import HOST, LocalServer, free_ports

RUNNER_JAR_GLOB = "beam-runners-flink-1.19-*.jar"
JOB_SERVER_MAIN = "org.apache.beam.runners.flink.FlinkJobServerDriver"
JOBMANAGER_MAIN = "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint"
TASKMANAGER_MAIN = "org.apache.flink.runtime.taskexecutor.TaskManagerRunner"
BASH_JAVA_UTILS = "org.apache.flink.runtime.util.bash.BashJavaUtils"
RESULT_PREFIX = "BASH_JAVA_UTILS_EXEC_RESULT:"
LAUNCHER_NAME = "beam-flink-job-server-launcher.jar"
JAVA_WITH_PARENT_NAME = "java-dies-with-parent"  # FlinkRunner's --job_server_java_launcher
MANIFEST_LINE_BYTES = 70  # the jar spec allows 72 per line; continuation lines start with a space
RESOURCE_PARAMS_TIMEOUT_S = 60
POLL_INTERVAL_S = 0.25
REST_TIMEOUT_S = 2.0
DEFAULT_SLOTS = 2
JOBMANAGER_MEMORY = "1024m"
TASKMANAGER_MEMORY = "1536m"
# Java 17 closes the JDK internals that Flink's and Beam's serializers (Kryo for state,
# the Fn API's gRPC) reflect on; a streaming job with state fails without these. Flink's
# own start scripts pass the same set (env.java.default-opts.all).
JVM_OPTIONS = (
    "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
    *(f"--add-opens=java.base/{package}=ALL-UNNAMED" for package in (
        "java.lang", "java.lang.reflect", "java.io", "java.net", "java.nio", "sun.nio.ch",
        "java.text", "java.time", "java.util", "java.util.concurrent",
        "java.util.concurrent.atomic", "java.util.concurrent.locks")),
)


# slf4j-simple (the pom's logging backend) writes the JVMs' server.log; with times, to follow a job.
LOG_OPTIONS = ("-Dorg.slf4j.simpleLogger.showDateTime=true", "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS")


def flink_lib_dir() -> Path:
    override = os.environ.get("JOURNEYS_FLINK_LIB")
    return Path(override) if override else maven.repo_root() / "deploy" / "flink" / "lib"


def ensure_flink_jars() -> Path:
    """The runner's jars in ``flink_lib_dir()`` (fetched by Maven on first use) and the launchers beside them."""
    lib = maven.copy_dependencies("deploy/flink/pom.xml", flink_lib_dir(), RUNNER_JAR_GLOB, "Flink runner")
    _write_launcher(lib)
    _write_java_with_parent(lib)
    return lib


def java_with_parent() -> Path | None:
    """An executable that runs ``java`` with PR_SET_PDEATHSIG=SIGKILL (``setpriv --pdeathsig``).

    FlinkRunner starts its job server with a plain Popen: a driver killed with
    SIGKILL (no atexit hook) would leave the JVM, and an embedded Flink job in it,
    running for ever. Started through this, the JVM dies with the driver thread
    that started it (the one calling ``pipeline.run()``). None without setpriv
    (util-linux) or off Linux: then plain ``java``.
    """
    path = ensure_flink_jars() / "launcher" / JAVA_WITH_PARENT_NAME
    return path if path.exists() else None


def _write_java_with_parent(lib: Path) -> None:
    path = lib / "launcher" / JAVA_WITH_PARENT_NAME
    setpriv = shutil.which("setpriv")
    if setpriv is None or not sys.platform.startswith("linux"):
        path.unlink(missing_ok=True)
        return
    script = (f"#!/bin/sh\n# written by journeys.servers.flink: java that gets SIGKILL when its parent dies\n"
              f"exec {shlex.quote(setpriv)} --pdeathsig KILL {shlex.quote(maven.java_executable())} \"$@\"\n")
    if path.exists() and path.read_text() == script:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(script)
    partial.chmod(0o755)
    partial.replace(path)


def launcher_jar() -> Path:
    """A jar holding only a manifest: FlinkJobServerDriver with every jar of lib/ as its Class-Path.

    It lives in ``lib/launcher/`` so that ``lib/*`` classpaths never include it.
    """
    return ensure_flink_jars() / "launcher" / LAUNCHER_NAME


def runner_options(flink_master: str = "[local]", parallelism: int | None = None) -> list[str]:
    """Beam pipeline options for FlinkRunner with the job server from ``launcher_jar()``.

    ``flink_master``: ``[local]`` runs Flink inside the job server's JVM; ``127.0.0.1:PORT``
    (``LocalFlinkCluster.start()``) submits to a session cluster. LOOPBACK runs the Python
    workers in the submitting process. Add ``--streaming`` for unbounded pipelines.
    """
    options = ["--runner=FlinkRunner", f"--flink_master={flink_master}",
               f"--flink_job_server_jar={launcher_jar()}", "--environment_type=LOOPBACK",
               *(f"--job_server_jvm_property={option}" for option in JVM_OPTIONS)]
    java = java_with_parent()  # a killed driver takes its job server with it
    options += [f"--job_server_java_launcher={java}"] if java else []
    return options + ([f"--parallelism={parallelism}"] if parallelism else [])


def _jars(lib: Path) -> list[Path]:
    return sorted(path.resolve() for path in lib.glob("*.jar"))


def _manifest(jars: list[Path]) -> bytes:
    headers = {"Manifest-Version": "1.0", "Main-Class": JOB_SERVER_MAIN,
               "Class-Path": " ".join(jar.as_uri() for jar in jars)}
    lines = []
    for name, value in headers.items():
        line = f"{name}: {value}".encode()  # as_uri() percent-encodes: all ASCII, safe to cut anywhere
        lines.append(line[:MANIFEST_LINE_BYTES])
        lines += [b" " + line[i:i + MANIFEST_LINE_BYTES - 1]
                  for i in range(MANIFEST_LINE_BYTES, len(line), MANIFEST_LINE_BYTES - 1)]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _write_launcher(lib: Path) -> Path:
    path = lib / "launcher" / LAUNCHER_NAME
    manifest = _manifest(_jars(lib))
    try:
        with zipfile.ZipFile(path) as jar:
            if jar.read("META-INF/MANIFEST.MF") == manifest:
                return path
    except (OSError, KeyError, zipfile.BadZipFile):
        pass  # missing, stale (jars moved or changed) or broken: write it again
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    with zipfile.ZipFile(partial, "w") as jar:
        jar.writestr("META-INF/MANIFEST.MF", manifest)
    partial.replace(path)  # atomic: a concurrent reader sees the old jar or the new one
    return path


def _config(ports: dict[str, int], slots: int, data_dir: Path, tm_memory: str) -> str:
    tmp = data_dir / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    settings = {
        "jobmanager.rpc.address": HOST, "jobmanager.bind-host": HOST,
        "jobmanager.rpc.port": ports["jobmanager_rpc"],
        "rest.address": HOST, "rest.bind-address": HOST, "rest.port": ports["rest"],
        "blob.server.port": ports["blob"],
        "taskmanager.host": HOST, "taskmanager.bind-host": HOST,
        "taskmanager.rpc.port": ports["taskmanager_rpc"], "taskmanager.data.port": ports["data"],
        "taskmanager.numberOfTaskSlots": slots, "parallelism.default": slots,
        "jobmanager.memory.process.size": JOBMANAGER_MEMORY,
        "taskmanager.memory.process.size": tm_memory,
        "taskmanager.memory.managed.fraction": 0.2,  # Beam keeps state on the heap, not in managed memory
        "io.tmp.dirs": tmp, "web.tmpdir": tmp, "blob.storage.directory": tmp,
    }
    return "".join(f"{key}: {value}\n" for key, value in settings.items())


class _FlinkProcess(LocalServer):
    """One Flink JVM (``main``) run from ``data_dir`` with the cluster's conf/ folder."""

    main = ""

    def _owns(self, pid: int) -> bool:
        cmdline = Path(f"/proc/{pid}/cmdline")
        return not cmdline.exists() or self.main.encode() in cmdline.read_bytes()

    def _launch(self, conf: Path, die_with_parent: bool, resource_params: str) -> None:
        java = maven.java_executable()
        classpath = str(flink_lib_dir() / "*")
        # Flink's scripts size the JVM from the conf the same way: BashJavaUtils prints the
        # memory flags, then the -D properties that tell the process what it was given.
        proc = subprocess.run([java, "-cp", classpath, BASH_JAVA_UTILS, resource_params, "--configDir", str(conf)],
                              capture_output=True, text=True, timeout=RESOURCE_PARAMS_TIMEOUT_S, check=False)
        results = [line[len(RESULT_PREFIX):] for line in proc.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
        if proc.returncode != 0 or len(results) < 2:
            raise RuntimeError(f"{resource_params} failed (exit {proc.returncode}):\n"
                               f"{maven.tail((proc.stdout + proc.stderr).splitlines())}")
        jvm_flags, properties = results[-2].split(), results[-1].split()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "wb") as log:
            self._proc = subprocess.Popen(
                [java, *jvm_flags, *JVM_OPTIONS, *LOG_OPTIONS, "-cp", classpath, self.main, "--configDir", str(conf), *properties],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.data_dir,
                start_new_session=True,
                preexec_fn=local_server.die_with_parent(os.getpid(), signal.SIGTERM) if die_with_parent else None)
        self.state_file.write_text(json.dumps({"pid": self._proc.pid}))

    def exited(self) -> str | None:
        """Why the process is gone (its exit code and log tail), or None while it runs."""
        if self._proc is None or self._proc.poll() is None:
            return None
        try:
            lines = self.log_file.read_text(errors="replace").splitlines()
        except OSError:
            lines = ["(no server.log)"]
        return f"{self.main} exited with {self._proc.returncode}:\n{maven.tail(lines)}"


class _TaskManager(_FlinkProcess):
    main = TASKMANAGER_MAIN


class LocalFlinkCluster(_FlinkProcess):
    """A standalone Flink session cluster: this JobManager and one TaskManager (in ``taskmanager/``).

    ``state.json`` holds the JobManager's pid and REST address, so ``status`` and
    ``stop`` work from any process; the TaskManager keeps its own pid file.
    """

    main = JOBMANAGER_MAIN

    def __init__(self, data_dir: Path):
        super().__init__(data_dir)
        self.conf_dir = self.data_dir / "conf"
        self.taskmanager = _TaskManager(self.data_dir / "taskmanager")

    @property
    def rest_address(self) -> str | None:
        """``127.0.0.1:PORT``, what FlinkRunner takes as ``--flink_master``; None when not running."""
        state = self._state()
        return state.get("rest") if self._alive(state.get("pid")) else None

    def status(self) -> dict:
        rest = self.rest_address
        return {"running": rest is not None, "flink_master": rest,
                "pid": self._state().get("pid") if rest else None,
                "taskmanager_pid": self.taskmanager._state().get("pid") if rest else None,
                "data_dir": str(self.data_dir)}

    def start(self, slots: int = DEFAULT_SLOTS, *, die_with_parent: bool = False,
              taskmanager_memory: str = TASKMANAGER_MEMORY, timeout_s: float = 120) -> str:
        if self.rest_address:
            return self.rest_address
        ensure_flink_jars()
        names = ("jobmanager_rpc", "rest", "blob", "taskmanager_rpc", "data")
        ports = dict(zip(names, free_ports(len(names)), strict=True))
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        (self.conf_dir / "flink-conf.yaml").write_text(_config(ports, slots, self.data_dir, taskmanager_memory))
        rest = f"{HOST}:{ports['rest']}"
        try:
            self._launch(self.conf_dir, die_with_parent, "GET_JM_RESOURCE_PARAMS")
            self.state_file.write_text(json.dumps({"pid": self._proc.pid, "rest": rest, "ports": ports}))
            self.taskmanager._launch(self.conf_dir, die_with_parent, "GET_TM_RESOURCE_PARAMS")
            self._wait_ready(ports["rest"], slots, timeout_s)
        except BaseException:
            self.stop()
            raise
        return rest

    def _wait_ready(self, rest_port: int, slots: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        overview: dict = {}
        while time.monotonic() < deadline:
            gone = self.exited() or self.taskmanager.exited()
            if gone:
                raise RuntimeError(gone)
            try:  # up once the TaskManager has registered all its slots
                with urllib.request.urlopen(f"http://{HOST}:{rest_port}/overview", timeout=REST_TIMEOUT_S) as reply:
                    overview = json.load(reply)
                if overview.get("slots-total", 0) >= slots:
                    return
            except OSError:
                pass  # REST endpoint not listening yet; the deadline is the limit
            time.sleep(POLL_INTERVAL_S)
        raise TimeoutError(f"Flink cluster not ready after {timeout_s}s (last overview {overview}); "
                           f"logs in {self.log_file} and {self.taskmanager.log_file}")

    def stop(self, timeout_s: float = 30) -> None:
        self.taskmanager.stop(timeout_s)
        super().stop(timeout_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m journeys.servers.flink", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("start", "stop", "status", "launcher"))
    parser.add_argument("--data-dir", type=Path, default=maven.repo_root() / ".journeys" / "flink")
    parser.add_argument("--slots", type=int, default=DEFAULT_SLOTS)
    args = parser.parse_args(argv)
    if args.action == "launcher":
        print(launcher_jar())
        return 0
    cluster = LocalFlinkCluster(args.data_dir)
    if args.action == "start":
        print(f"Flink cluster up: --flink_master={cluster.start(args.slots)} (logs in {cluster.data_dir})")
    elif args.action == "stop":
        cluster.stop()
        print("Flink cluster stopped")
    print(json.dumps(cluster.status(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
