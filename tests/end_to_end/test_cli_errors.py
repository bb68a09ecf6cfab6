"""Every common failure: one line on stderr, the exit code of README "Exit codes", a traceback only with --debug.

The commands run as a user runs them (a subprocess), so stderr is what a
terminal would show: no log records, warnings or tracebacks besides the line.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time

import duckdb
import pytest

from journeys.commands.cli import EXIT_INTERNAL, failure

pytestmark = [pytest.mark.slow]
EVENT = {"event_id": "e1", "event_type": "page_view", "channel": "web", "event_time": "2026-01-05T10:00:00Z",
         "anonymous_id": "a1", "page_url": "https://x.test/"}


def journeys(*argv: str, cwd=None, timeout: float = 300) -> tuple[int, str, float]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "journeys.commands.cli", *argv], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)
    return done.returncode, done.stderr, time.monotonic() - started


def assert_one_line(code: int, stderr: str, expected_code: int, *words: str) -> None:
    lines = stderr.strip().splitlines()
    assert code == expected_code, stderr
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture
def events(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(EVENT) + "\n")
    return path


def test_bad_config_is_exit_2(tmp_path, events):
    config = tmp_path / "c.toml"
    config.write_text('[journey]\ninactivity_gap_s = "thirty"\n')
    code, err, _ = journeys("run", "--source", f"file:{events}", "--config", str(config),
                            "--output-dir", str(tmp_path / "runs"))
    assert_one_line(code, err, 2, "bad configuration", "journey.inactivity_gap_s", '"thirty"', "an integer >= 1")
    code, err, _ = journeys("run", "--source", f"file:{events}", "--config", str(tmp_path / "none.toml"))
    assert_one_line(code, err, 2, "none.toml", "cannot be read")


def test_missing_source_file_is_exit_2(tmp_path):
    code, err, _ = journeys("run", "--source", f"file:{tmp_path}/missing.jsonl", "--output-dir", str(tmp_path / "r"))
    assert_one_line(code, err, 2, "missing.jsonl", "no file matches")


def test_unwritable_output_dir_is_exit_6(tmp_path, events):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code, err, _ = journeys("run", "--source", f"file:{events}", "--output-dir", str(blocker / "runs"))
    assert_one_line(code, err, 6, "--output-dir", "cannot write there")


def test_locked_duckdb_is_exit_6(tmp_path, events):
    warehouse = tmp_path / "w.duckdb"
    holder = duckdb.connect(str(warehouse))  # this process holds the write lock
    try:
        code, err, _ = journeys("run", "--source", f"file:{events}", "--warehouse", f"duckdb:{warehouse}",
                                "--output-dir", str(tmp_path / "runs"))
    finally:
        holder.close()
    assert_one_line(code, err, 6, "DuckDB warehouse cannot be opened", "lock")


def test_unreachable_postgresql_is_exit_5(tmp_path, events):
    url = "postgresql://journeys@127.0.0.1:1/journeys"
    code, err, _ = journeys("run", "--source", f"file:{events}", "--warehouse", url,
                            "--output-dir", str(tmp_path / "runs"))
    assert_one_line(code, err, 5, "PostgreSQL cannot be reached")
    code, err, _ = journeys("report", "--warehouse", url)
    assert_one_line(code, err, 5, "PostgreSQL cannot be reached")


def test_unreachable_kafka_is_exit_5_and_fails_fast(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("[kafka]\nrequest_timeout_ms = 2000\n")
    code, err, elapsed = journeys("run", "--source", "kafka:127.0.0.1:1", "--config", str(config),
                                  "--output-dir", str(tmp_path / "runs"))
    assert_one_line(code, err, 5, "Kafka at 127.0.0.1:1")
    # The request timeout bounds the bootstrap (kafka-python's own default waits 30 s), plus one short probe.
    assert elapsed < 40, elapsed


def test_report_on_a_missing_warehouse_is_exit_3(tmp_path):
    code, err, _ = journeys("report", "--warehouse", f"duckdb:{tmp_path}/none.duckdb")
    assert_one_line(code, err, 3)


def test_quality_gate_failure_is_exit_4(tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"version": 1, "suites": {"events": {"default": "fail"}}}))
    config = tmp_path / "c.toml"
    config.write_text(f'[quality]\npolicy_path = "{policy}"\n')
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({**EVENT, "event_type": "csat", "channel": "chat", "conversation_id": "k",
                                  "csat_score": 9}) + "\n")
    code, err, _ = journeys("run", "--source", f"file:{events}", "--config", str(config),
                            "--output-dir", str(tmp_path / "runs"))
    assert code == 4, err
    assert "Traceback" not in err and "quality gate failed" in err


def test_debug_adds_the_traceback(tmp_path, events):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code, err, _ = journeys("--debug", "run", "--source", f"file:{events}", "--output-dir", str(blocker / "runs"))
    assert code == 6 and "Traceback" in err
    assert err.strip().splitlines()[-1].startswith("journeys run: --output-dir")


def test_an_unexpected_error_is_an_internal_error_with_its_type():
    try:
        {}["missing"]
    except KeyError as error:
        code, message = failure(error)
    assert code == EXIT_INTERNAL == 70
    assert message.startswith("internal error: KeyError: 'missing'") and "--debug" in message


def test_the_cause_chain_is_searched_for_a_known_type():
    from journeys.core.errors import ConfigError

    try:
        try:
            raise ConfigError("journey.inactivity_gap_s", 0, "an integer >= 1")
        except ConfigError as inner:
            raise RuntimeError("while building the pipeline") from inner
    except RuntimeError as outer:
        assert failure(outer) == (2, 'bad configuration: journey.inactivity_gap_s = 0: expected an integer >= 1')
