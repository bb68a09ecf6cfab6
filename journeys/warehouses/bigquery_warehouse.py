"""BigQuery warehouse (``bigquery:PROJECT.DATASET``) through Beam's WriteToBigQuery.

Table schemas are derived from the same migrations DDL as DuckDB and
PostgreSQL. A run writes each table's rows to ``<table>__staging`` with
WRITE_TRUNCATE (file loads: no streaming-insert duplicates), then the MERGE
statements below apply them with the same semantics as the other warehouses:
upserts on keys, and journeys replacing the customer's overlapping journeys.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

import apache_beam as beam
from apache_beam.io.gcp.bigquery import BigQueryDisposition, WriteToBigQuery

from journeys.warehouses.base import (
    JOURNEY_TABLES,
    TABLE_KEYS,
    TIME_COLUMNS,
    migrations,
    split_statements,
    to_time,
)

PREFIX = "bigquery:"
STAGING_SUFFIX = "__staging"
BIGQUERY_TYPES = {
    "VARCHAR": "STRING", "TEXT": "STRING", "INTEGER": "INT64", "BIGINT": "INT64", "DOUBLE PRECISION": "FLOAT64",
    "DOUBLE": "FLOAT64", "BOOLEAN": "BOOL", "TIMESTAMPTZ": "TIMESTAMP", "DATE": "DATE", "JSON": "JSON",
}
_CREATE = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+)\s*\((.*)\)\s*$", re.S | re.I)
_COLUMN = re.compile(r'^"?(\w+)"?\s+([A-Z ]+?)(\s+NOT NULL)?(\s+PRIMARY KEY)?$', re.I)
_RENAME = re.compile(r"ALTER TABLE (\w+) RENAME TO (\w+)\s*$", re.I)
_DROP_NOT_NULL = re.compile(r"ALTER TABLE (\w+) ALTER COLUMN (\w+) DROP NOT NULL\s*$", re.I)
_DROP = re.compile(r"DROP TABLE (?:IF EXISTS )?(\w+)\s*$", re.I)


def parse_target(url: str) -> tuple[str, str]:
    project, _, dataset = url[len(PREFIX):].partition(".")
    if not project or not dataset:
        raise ValueError(f"--warehouse {url!r}: expected bigquery:PROJECT.DATASET")
    return project, dataset


def _split_columns(body: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in body:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return parts + [current.strip()] if current.strip() else parts


def table_schemas() -> dict[str, dict]:
    """BigQuery schema per warehouse table, from the migrations' CREATE TABLE statements."""
    schemas: dict[str, dict] = {}
    for _, _, sql in migrations():
        for statement in split_statements(sql):
            if _follow_alter(schemas, statement):
                continue
            match = _CREATE.match(statement)
            if not match:
                continue
            fields = []
            for column in _split_columns(match.group(2)):
                spec = _COLUMN.match(" ".join(column.split()))
                if spec is None:  # a table constraint such as PRIMARY KEY (...)
                    continue
                name, sql_type, not_null, primary = spec.groups()
                fields.append({"name": name, "type": BIGQUERY_TYPES[sql_type.upper().strip()],
                               "mode": "REQUIRED" if (not_null or primary) else "NULLABLE"})
            schemas[match.group(1)] = {"fields": fields}
    return schemas


def _follow_alter(schemas: dict[str, dict], statement: str) -> bool:
    """Applies a migration's DROP TABLE, RENAME TO or DROP NOT NULL to the schemas; False for other statements."""
    statement = " ".join(statement.split())
    if match := _DROP.match(statement):
        schemas.pop(match.group(1), None)
    elif match := _RENAME.match(statement):
        schemas[match.group(2)] = schemas.pop(match.group(1))
    elif match := _DROP_NOT_NULL.match(statement):
        for field in schemas[match.group(1)]["fields"]:
            if field["name"] == match.group(2):
                field["mode"] = "NULLABLE"
    else:
        return False
    return True


def bigquery_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON-lines row in BigQuery's JSON load format (times as ISO-8601 UTC)."""
    out = {}
    for name, value in row.items():
        if name in TIME_COLUMNS and value is not None:
            value = to_time(value).isoformat()
        out[name] = value
    return out


def staging_writes(url: str) -> dict[str, WriteToBigQuery]:
    """The write transform of each table, into its staging table."""
    project, dataset = parse_target(url)
    return {table: WriteToBigQuery(
                table=f"{project}:{dataset}.{table}{STAGING_SUFFIX}", schema=schema,
                create_disposition=BigQueryDisposition.CREATE_IF_NEEDED,
                write_disposition=BigQueryDisposition.WRITE_TRUNCATE,
                method=WriteToBigQuery.Method.FILE_LOADS)
            for table, schema in table_schemas().items()}


def merge_statements(url: str) -> list[str]:
    """BigQuery SQL that applies the staging tables, to run as one multi-statement transaction."""
    project, dataset = parse_target(url)
    name = lambda table: f"`{project}.{dataset}.{table}`"  # noqa: E731
    statements = ["BEGIN TRANSACTION"]
    for table, keys in TABLE_KEYS.items():
        on = " AND ".join(f"t.{k} IS NOT DISTINCT FROM s.{k}" for k in keys)
        statements.append(f"DELETE FROM {name(table)} t WHERE EXISTS "
                          f"(SELECT 1 FROM {name(table + STAGING_SUFFIX)} s WHERE {on})")
        statements.append(f"INSERT INTO {name(table)} SELECT * FROM {name(table + STAGING_SUFFIX)}")
    replaced = (f"SELECT DISTINCT old.journey_id FROM {name('journeys')} old "
                f"JOIN {name('journeys' + STAGING_SUFFIX)} new ON old.customer_id = new.customer_id "
                "AND (old.journey_id = new.journey_id "
                "OR (old.started_at <= new.ended_at AND old.ended_at >= new.started_at))")
    statements.append(f"CREATE TEMP TABLE replaced_journeys AS {replaced}")
    for table in JOURNEY_TABLES:
        statements.append(f"DELETE FROM {name(table)} WHERE journey_id IN (SELECT journey_id FROM replaced_journeys)")
        statements.append(f"INSERT INTO {name(table)} SELECT * FROM {name(table + STAGING_SUFFIX)}")
    statements.append("COMMIT TRANSACTION")
    return statements


class WriteTablesToBigQuery(beam.PTransform):
    """{table: PCollection[row dict]} -> writes each to ``<table>__staging`` in BigQuery.

    Bounded runs: file loads with WRITE_TRUNCATE; ``merge_statements`` then
    applies the staging tables in one BigQuery transaction.
    """

    def __init__(self, url: str):
        super().__init__()
        self._writes = staging_writes(url)

    def expand(self, tables: dict):
        for table, rows in tables.items():
            (rows
             | f"{table}ToBigQueryRows" >> beam.Map(bigquery_row)
             | f"Write{table}ToBigQuery" >> self._writes[table])
        return beam.pvalue.PDone(next(iter(tables.values())).pipeline)


def apply_staging(url: str) -> None:
    """Runs the MERGE script in BigQuery (needs credentials and network)."""
    from google.cloud import bigquery

    project, _ = parse_target(url)
    bigquery.Client(project=project).query(";\n".join(merge_statements(url))).result()
