"""Server jars fetched from Maven Central into a git-ignored folder, once per checkout."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

MVN_TIMEOUT_S = 1800
LOG_TAIL_LINES = 40


def repo_root() -> Path:
    return Path(os.environ.get("JOURNEYS_HOME") or Path(__file__).resolve().parents[2])


def tail(lines: list[str], count: int = LOG_TAIL_LINES) -> str:
    return "\n".join(lines[-count:])


def copy_dependencies(pom: str, lib: Path, marker_glob: str, what: str) -> Path:
    """``mvn dependency:copy-dependencies`` of ``pom`` (relative to the repo) into ``lib``.

    Idempotent: nothing runs when a jar matching ``marker_glob`` is already there.
    """
    if any(lib.glob(marker_glob)):
        return lib
    cmd = ["mvn", "-q", "-B", "-f", pom, "dependency:copy-dependencies", "-DincludeScope=runtime",
           f"-DoutputDirectory={lib.resolve()}"]
    shown = " ".join(cmd)
    if shutil.which("mvn") is None:
        raise RuntimeError(f"{what} jars missing in {lib} and Maven is not installed; run: {shown}")
    try:
        proc = subprocess.run(cmd, cwd=repo_root(), capture_output=True, text=True,
                              timeout=MVN_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"fetching {what} jars timed out after {MVN_TIMEOUT_S}s: {shown}") from exc
    if proc.returncode != 0 or not any(lib.glob(marker_glob)):
        raise RuntimeError(f"fetching {what} jars failed (exit {proc.returncode}): {shown}\n"
                           f"{tail((proc.stdout + proc.stderr).splitlines())}")
    return lib


def java_executable() -> str:
    """``$JAVA_HOME/bin/java`` when set, else ``java`` on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    java = ((java_home and shutil.which("java", path=os.path.join(java_home, "bin")))
            or shutil.which("java"))
    if java is None:
        raise RuntimeError("java not found on PATH (the Kafka and Flink servers need Java 11+)")
    return java
