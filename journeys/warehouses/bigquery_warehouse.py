"""BigQuery warehouse (``bigquery:PROJECT.DATASET``) through Beam's WriteToBigQuery.

Table schemas are derived from the same migrations DDL as DuckDB and
PostgreSQL. A run writes each table's rows, and the run-only files
``customers`` (customer_id, devices ARRAY<STRING>) and ``touched_days``, to
``<table>__staging`` with WRITE_TRUNCATE (file loads: no streaming-insert
duplicates); ``BigQueryWarehouse.land`` appends the rows the driver wrote
after the pipeline (the run-level quality checks), then runs the MERGE script
in one transaction. The script's steps are ``landing_sql``'s, the same the
DuckDB and PostgreSQL landing runs, and it empties the staging tables at the
end (a table the next run writes no rows to keeps nothing stale).

As a history source, ``BigQueryWarehouse.read_only_connection`` is the
google-cloud-bigquery DB-API (``%s`` parameters) with the dataset as the
default dataset, so History's, the report's and quality's SQL name bare tables.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

import apache_beam as beam
from apache_beam.io.gcp.bigquery import BigQueryDisposition, WriteToBigQuery

from journeys.warehouses import landing_sql
from journeys.warehouses.base import (
    TIME_COLUMNS,
    Warehouse,
    migrations,
    read_rows,
    run_files,
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


# The run-only files the landing needs, staged like tables.
RUN_FILE_SCHEMAS: dict[str, dict] = {
    "customers": {"fields": [{"name": "customer_id", "type": "STRING", "mode": "REQUIRED"},
                             {"name": "devices", "type": "STRING", "mode": "REPEATED"}]},
    "touched_days": {"fields": [{"name": "day", "type": "DATE", "mode": "REQUIRED"}]},
}
STAGED_DEVICES = "staged_customer_devices"  # a temp table of the script: the rebuilt customers' devices


def staging_schemas() -> dict[str, dict]:
    """Schema of each ``<name>__staging`` table: every warehouse table, and the run-only files."""
    return {**table_schemas(), **RUN_FILE_SCHEMAS}


def column_ddl(field: dict) -> str:
    if field["mode"] == "REPEATED":
        return f"`{field['name']}` ARRAY<{field['type']}>"
    return f"`{field['name']}` {field['type']}{' NOT NULL' if field['mode'] == 'REQUIRED' else ''}"


def create_statements(url: str) -> list[str]:
    """DDL for the stored tables and their staging tables (the dataset itself must exist)."""
    name = _namer(url)
    out = [f"CREATE TABLE IF NOT EXISTS {name(table)} ({', '.join(map(column_ddl, schema['fields']))})"
           for table, schema in table_schemas().items()]
    out += [f"CREATE TABLE IF NOT EXISTS {name(table + STAGING_SUFFIX)} "
            f"({', '.join(map(column_ddl, schema['fields']))})" for table, schema in staging_schemas().items()]
    return out


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
            for table, schema in staging_schemas().items()}


def _namer(url: str):
    project, dataset = parse_target(url)
    return lambda table: f"`{project}.{dataset}.{table}`"


def landing_names(url: str) -> landing_sql.Names:
    """landing_sql's names in BigQuery: dataset-qualified tables, ``<table>__staging``, backquoted columns."""
    name = _namer(url)
    return landing_sql.Names(
        table=name, quote=lambda column: f"`{column}`",
        staged=lambda table: STAGED_DEVICES if table == "customer_devices" else name(table + STAGING_SUFFIX))


def merge_statements(url: str) -> list[str]:
    """BigQuery SQL that applies the staging tables, to run as one multi-statement transaction.

    The steps are landing_sql's (as in ``Warehouse.land``); the rebuilt
    customers' device links come from ``customers__staging.devices``.
    """
    name = _namer(url)
    return ["BEGIN TRANSACTION",
            f"CREATE TEMP TABLE {STAGED_DEVICES} AS SELECT anonymous_id, customer_id "
            f"FROM {name('customers' + STAGING_SUFFIX)}, UNNEST(devices) AS anonymous_id",
            *landing_sql.landing_steps(landing_names(url)),
            *(f"DELETE FROM {name(table + STAGING_SUFFIX)} WHERE TRUE" for table in staging_schemas()),
            "COMMIT TRANSACTION"]


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


_BEAM_SHARD = re.compile(r"-\d{5}-of-\d{5}\.jsonl$")


def driver_files(run_dir: Path) -> dict[str, list[Path]]:
    """Run files the driver wrote after the pipeline (not Beam shards), per staged table: quality_runs-checks."""
    found = {table: [p for p in run_files(run_dir, table) if not _BEAM_SHARD.search(p.name)]
             for table in staging_schemas()}
    return {table: paths for table, paths in found.items() if paths}


def apply_staging(url: str) -> None:
    """Runs the MERGE script in BigQuery (needs credentials and network)."""
    BigQueryWarehouse(url).apply_staging()


class BigQueryWarehouse(Warehouse):
    """``bigquery:PROJECT.DATASET``: landed from staging tables by the MERGE script; read through the DB-API."""

    placeholder = "%s"  # google.cloud.bigquery.dbapi: pyformat
    dialect = "bigquery"

    def __init__(self, url: str):
        super().__init__(url)
        self.project, self.dataset = parse_target(url)
        self.names = landing_names(url)

    def client(self, credentials=None):
        """A client whose queries name this dataset's tables bare (the default dataset)."""
        from google.cloud import bigquery

        return bigquery.Client(project=self.project, credentials=credentials,
                               default_query_job_config=bigquery.QueryJobConfig(
                                   default_dataset=f"{self.project}.{self.dataset}"))

    def read_only_connection(self):
        """The DB-API over ``client()``; nothing here writes (BigQuery has no read-only session to ask for)."""
        from google.cloud.bigquery import dbapi

        return dbapi.connect(self.client())

    def connect(self):
        return self.read_only_connection()

    def present_tables_query(self) -> str:
        return f"SELECT table_name FROM `{self.project}.{self.dataset}`.INFORMATION_SCHEMA.TABLES"

    def stage(self, con, table, columns, rows):
        raise NotImplementedError("BigQuery's staging tables are written by the pipeline (WriteTablesToBigQuery)")

    def migrate(self) -> list[int]:
        """Creates the tables and staging tables that do not exist yet (no versions: returns [])."""
        self.client().query(";\n".join(create_statements(self.url))).result()
        return []

    def land(self, run_dir: Path) -> dict[str, int]:
        """Appends the driver's rows to their staging tables, then runs the MERGE script."""
        from google.cloud import bigquery

        client, appended = self.client(), {}
        for table, paths in driver_files(run_dir).items():
            rows = [bigquery_row(row) for row in read_rows(paths)]
            job = bigquery.LoadJobConfig(schema=[bigquery.SchemaField(f["name"], f["type"], mode=f["mode"])
                                                 for f in staging_schemas()[table]["fields"]],
                                         write_disposition=bigquery.WriteDisposition.WRITE_APPEND)
            client.load_table_from_json(rows, f"{self.project}.{self.dataset}.{table}{STAGING_SUFFIX}",
                                        job_config=job).result()
            appended[table] = len(rows)
        self.apply_staging(client)
        return appended

    def apply_staging(self, client=None) -> None:
        (client or self.client()).query(";\n".join(merge_statements(self.url))).result()
