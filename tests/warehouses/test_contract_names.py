"""Every warehouse table and column that contract section 3 fixes exists under that name."""
import duckdb
import pytest
from support.contract import CONTRACT_TABLES

from journeys.core import tables
from journeys.warehouses.duckdb_warehouse import DuckDBWarehouse


@pytest.fixture(scope="module")
def columns(tmp_path_factory):
    warehouse = DuckDBWarehouse(f"duckdb:{tmp_path_factory.mktemp('contract') / 'w.duckdb'}")
    warehouse.migrate()
    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        rows = con.execute("SELECT table_name, column_name FROM information_schema.columns").fetchall()
    found: dict[str, set[str]] = {}
    for table, column in rows:
        found.setdefault(table, set()).add(column)
    return found


@pytest.mark.parametrize("table", sorted(CONTRACT_TABLES))
def test_contract_table_has_its_columns(columns, table):
    missing = set(CONTRACT_TABLES[table].split()) - columns.get(table, set())
    assert not missing, f"{table} lacks {sorted(missing)}"


def test_migrations_key_every_keyed_table_on_its_one_defined_key(tmp_path):
    """journeys.core.tables is the one definition of each key: the landing upserts on it, the daily
    aggregates group by it, and the migrations' primary (or unique) keys must be the same columns."""
    warehouse = DuckDBWarehouse(f"duckdb:{tmp_path / 'w.duckdb'}")
    warehouse.migrate()
    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        rows = con.execute("SELECT table_name, constraint_column_names FROM duckdb_constraints() "
                           "WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE')").fetchall()
    declared = {table: tuple(columns) for table, columns in rows}
    assert declared == {t.name: t.key for t in tables.ALL_TABLES}
