"""BigQuery, as far as it goes without a network: schemas, dispositions, SQL, the graph."""
import apache_beam as beam
import duckdb
import pytest

from journeys.warehouses.bigquery_warehouse import (
    STAGING_SUFFIX,
    WriteTablesToBigQuery,
    bigquery_row,
    merge_statements,
    parse_target,
    staging_schemas,
    staging_writes,
    table_schemas,
)
from journeys.warehouses.duckdb_warehouse import DuckDBWarehouse

URL = "bigquery:acme-analytics.journeys"


def test_schemas_follow_the_same_ddl_as_the_other_warehouses(tmp_path):
    warehouse = DuckDBWarehouse(f"duckdb:{tmp_path / 'w.duckdb'}")
    warehouse.migrate()
    con = duckdb.connect(str(warehouse.path))
    schemas = table_schemas()
    for table, schema in schemas.items():
        described = con.execute(f"DESCRIBE {table}").fetchall()
        assert [f["name"] for f in schema["fields"]] == [row[0] for row in described], table
        nullable = {row[0]: row[2] == "YES" for row in described}
        for field in schema["fields"]:
            assert (field["mode"] == "NULLABLE") == nullable[field["name"]], (table, field)
    types = {f["name"]: f["type"] for f in schemas["journeys"]["fields"]}
    assert (types["started_at"], types["duration_s"], types["event_count"], types["converted"]) == \
        ("TIMESTAMP", "FLOAT64", "INT64", "BOOL")
    assert {f["name"]: f["type"] for f in schemas["events"]["fields"]}["record"] == "JSON"


def test_every_table_writes_to_its_staging_table_by_file_loads_with_truncate():
    writes = staging_writes(URL)
    assert set(writes) == set(table_schemas()) | {"customers", "touched_days"}  # the run-only files the MERGE needs
    for table, write in writes.items():
        ref = write.table_reference
        assert (ref.projectId, ref.datasetId, ref.tableId) == ("acme-analytics", "journeys", table + STAGING_SUFFIX)
        assert write.create_disposition == "CREATE_IF_NEEDED"
        assert write.write_disposition == "WRITE_TRUNCATE"  # a re-run replaces its staging, never appends
        assert write.method == "FILE_LOADS"  # load jobs: no streaming-insert duplicates
        assert write.schema == staging_schemas()[table]


def test_merge_applies_staging_with_the_warehouse_semantics():
    statements = merge_statements(URL)
    assert statements[0] == "BEGIN TRANSACTION" and statements[-1] == "COMMIT TRANSACTION"
    text = "\n".join(statements)
    assert ("DELETE FROM `acme-analytics.journeys.dead_letters` stored WHERE EXISTS (SELECT 1 FROM "
            "`acme-analytics.journeys.dead_letters__staging` staged WHERE staged.`source` IS NOT DISTINCT FROM "
            "stored.`source` AND staged.`partition` IS NOT DISTINCT FROM stored.`partition` "
            "AND staged.`offset` IS NOT DISTINCT FROM stored.`offset`)") in text
    assert "stored.started_at <= staged.ended_at AND stored.ended_at >= staged.started_at" in text
    assert " new" not in text and "new." not in text  # NEW is reserved in BigQuery
    # events: first landed wins, never deleted and re-inserted
    assert "DELETE FROM `acme-analytics.journeys.events` " not in text
    assert ("INSERT INTO `acme-analytics.journeys.events` SELECT * FROM `acme-analytics.journeys.events__staging` "
            "staged WHERE NOT EXISTS") in text
    assert text.index("touched_days__staging") < text.index("INSERT INTO `acme-analytics.journeys.page_stats_daily`")
    assert "UNNEST(devices) AS anonymous_id" in text
    assert text.index("DELETE FROM `acme-analytics.journeys.friction_events`") < \
        text.index("DELETE FROM `acme-analytics.journeys.journeys` WHERE")


def test_rows_and_targets():
    assert bigquery_row({"started_at": 1767571200000, "page": "/"}) == \
        {"started_at": "2026-01-05T00:00:00+00:00", "page": "/"}
    assert parse_target(URL) == ("acme-analytics", "journeys")
    with pytest.raises(ValueError, match="bigquery:PROJECT.DATASET"):
        parse_target("bigquery:only-project")


def test_the_write_expands_into_a_pipeline_graph():
    p = beam.Pipeline()
    rows = p | beam.Create([{"journey_id": "j1"}])
    p_done = {"journeys": rows} | WriteTablesToBigQuery(URL)
    labels = [t.full_label for t in p.transforms_stack[0].parts]
    assert "WriteTablesToBigQuery" in labels and p_done is not None


def test_bigquery_is_a_warehouse_with_a_default_dataset():
    from google.auth.credentials import AnonymousCredentials
    from google.cloud.bigquery import dbapi

    from journeys.warehouses import warehouse_for
    from journeys.warehouses.bigquery_warehouse import BigQueryWarehouse

    warehouse = warehouse_for(URL)
    assert isinstance(warehouse, BigQueryWarehouse) and warehouse.placeholder == "%s"
    client = warehouse.client(credentials=AnonymousCredentials())  # no network: nothing is sent
    assert client.project == "acme-analytics"
    dataset = client.default_query_job_config.default_dataset
    assert (dataset.project, dataset.dataset_id) == ("acme-analytics", "journeys")
    dbapi.connect(client).close()
