"""Warehouses by URL: ``duckdb:PATH``, ``postgresql://...``, ``bigquery:PROJECT.DATASET``."""
from __future__ import annotations

from journeys.warehouses.base import Warehouse


def warehouse_for(url: str) -> Warehouse:
    # Each backend's driver is imported only when its URL is used: psycopg and the BigQuery
    # client are optional extras, and BigQuery's takes seconds to import.
    if url.startswith("duckdb:"):
        from journeys.warehouses.duckdb_warehouse import DuckDBWarehouse

        return DuckDBWarehouse(url)
    if url.startswith(("postgresql://", "postgres://")):
        from journeys.warehouses.postgres_warehouse import PostgresWarehouse

        return PostgresWarehouse(url)
    if url.startswith("bigquery:"):
        from journeys.warehouses.bigquery_warehouse import BigQueryWarehouse

        return BigQueryWarehouse(url)
    raise ValueError(f"--warehouse {url!r}: expected duckdb:PATH, postgresql://... or bigquery:PROJECT.DATASET")
