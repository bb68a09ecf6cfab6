"""DuckDB's memory bound: a landing or migration that needs more lands again without it, and lands the same.

The bound (duckdb_warehouse.MEMORY_LIMIT) keeps a run's peak down, but the
primary keys' indexes grow with what is stored, so a large enough warehouse
outgrows any fixed bound. Here the bound is set far too small for even a
small run, and the run must land exactly what a run with the bound lands.
"""
import json
import logging

import duckdb
import pytest
from support.warehouse_snapshots import cell

from journeys.commands.cli import main
from journeys.generators.synthetic import generate_events
from journeys.warehouses import duckdb_warehouse

pytestmark = [pytest.mark.slow]


def tables(path) -> dict[str, list]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                           "WHERE table_schema = 'main' AND table_name NOT LIKE 'journeys_schema%' "
                                           "AND table_name <> 'quality_runs' ORDER BY 1").fetchall()]
        return {name: sorted((tuple(cell(c) for c in row) for row in con.execute(f"SELECT * FROM {name}").fetchall()),
                             key=repr) for name in names}


@pytest.mark.parametrize("bound", ["1MB", "4MB"])  # 1MB: the migrations' COMMIT fails; 4MB: a landing's insert
def test_a_bound_too_small_lands_the_same_without_it(tmp_path, monkeypatch, caplog, bound):
    source = tmp_path / "events.jsonl"
    source.write_text("".join(json.dumps(e) + "\n" for e in generate_events(1_500, seed=29)))

    def run(name):
        path = tmp_path / f"{name}.duckdb"
        assert main(["run", "--source", f"file:{source}", "--warehouse", f"duckdb:{path}",
                     "--output-dir", str(tmp_path / "runs")]) == 0
        return path

    bounded = run("bounded")
    assert not [r for r in caplog.records if "DuckDB memory" in r.getMessage()]
    monkeypatch.setattr(duckdb_warehouse, "MEMORY_LIMIT", bound)
    with caplog.at_level(logging.WARNING, logger=duckdb_warehouse.__name__):
        small = run("small")
    warned = [r.getMessage() for r in caplog.records if "DuckDB memory" in r.getMessage()]
    assert warned and all(bound in message for message in warned)
    assert tables(small) == tables(bounded)
    assert sum(map(len, tables(small).values())) > 1_500
