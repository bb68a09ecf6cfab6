"""Differential: two paths through the project over the same random events must give the same tables.

The events come from a seeded generator that aims at the contract's edges
(tests/support/random_events.py: identity links that move devices, gaps of
30 minutes and a millisecond either side, near-miss rage clicks and search
bursts, duplicates, bad lines). Path one is a single bounded run over all of
them into DuckDB. Path two shuffles the lines, cuts them into random parts
and runs each part as its own bounded run, in order, into a second
warehouse: DuckDB, then PostgreSQL. Every contract table must be equal on
the columns the contract fixes (section 3), since the contract says the same
events give the same rows "whether they arrive in order or not, in one run
or many". Dead letters are compared by reason and payload: their source
and line number name the part file they came from, so those go.
"""
from __future__ import annotations

import random
from pathlib import Path
from urllib.parse import quote

import pytest
from support.random_events import random_events
from support.warehouse_snapshots import differences, duckdb_snapshot, postgres_snapshot

from journeys.commands.cli import main

pytestmark = [pytest.mark.slow]

SEEDS = (3,)
def run(path: Path, warehouse: str, tmp_path: Path) -> None:
    assert main(["run", "--source", f"file:{path}", "--warehouse", warehouse,
                 "--output-dir", str(tmp_path / "runs")]) == 0


def shuffled_parts(lines: list[str], folder: Path, seed: int) -> list[Path]:
    """The lines in a random order, cut at 1 or 2 random places."""
    rng = random.Random(seed)
    lines = lines[:]
    rng.shuffle(lines)
    cuts = sorted(rng.sample(range(1, len(lines)), rng.randint(1, 2)))
    paths = []
    for index, (start, end) in enumerate(zip([0, *cuts], [*cuts, len(lines)])):
        path = folder / f"part-{index}.jsonl"
        path.write_text("".join(line + "\n" for line in lines[start:end]))
        paths.append(path)
    return paths


@pytest.fixture(scope="module", params=SEEDS)
def whole(request, tmp_path_factory):
    """(lines, seed, snapshot of one bounded run over all of them, in generation order)."""
    folder = tmp_path_factory.mktemp(f"whole-{request.param}")
    lines = random_events(1_200, seed=request.param)
    path = folder / "all.jsonl"
    path.write_text("".join(line + "\n" for line in lines))
    url = f"duckdb:{folder / 'whole.duckdb'}"
    run(path, url, folder)
    got = duckdb_snapshot(url)
    # The data must exercise what is compared.
    assert all(got[t] for t in ("journeys", "page_views", "friction_events", "dead_letters", "conversations",
                                "task_attempts", "friction_daily", "path_edges_daily")), \
        [t for t, rows in got.items() if not rows]
    assert len({row[1] for row in got["friction_events"]}) >= 8  # customer ids with friction
    return lines, request.param, got


def assert_same(got: dict, want: dict) -> None:
    assert not differences(got, want)


def test_shuffled_parts_equal_one_run_on_duckdb(whole, tmp_path):
    lines, seed, want = whole
    url = f"duckdb:{tmp_path / 'parts.duckdb'}"
    for path in shuffled_parts(lines, tmp_path, seed):
        run(path, url, tmp_path)
    assert_same(duckdb_snapshot(url), want)


def test_shuffled_parts_on_postgres_equal_one_run_on_duckdb(whole, pg_schema, tmp_path):
    lines, seed, want = whole
    base_url, schema = pg_schema
    url = f"{base_url}?options={quote(f'-csearch_path={schema}')}"
    for path in shuffled_parts(lines, tmp_path, seed + 100):
        run(path, url, tmp_path)
    assert_same(postgres_snapshot(url), want)
