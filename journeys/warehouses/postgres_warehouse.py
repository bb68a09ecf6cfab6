"""PostgreSQL warehouse (``postgresql://USER@HOST:PORT/DB``).

Each table's rows are COPYed into a temporary staging table, then applied by
the shared upsert SQL, all in one transaction: batched, never row by row.
"""
from __future__ import annotations

import psycopg

from journeys.warehouses.base import Warehouse


class PostgresWarehouse(Warehouse):
    placeholder = "%s"
    # Class 22 (a value that does not cast, NUL in text) and 23 (a constraint); a str psycopg cannot encode.
    data_errors = (psycopg.DataError, psycopg.IntegrityError, UnicodeError)

    def connect(self):
        return psycopg.connect(self.url)

    def read_only_connection(self):
        con = psycopg.connect(self.url, autocommit=True)
        con.execute("SET default_transaction_read_only = on")
        return con

    def stage(self, con, table: str, columns: list[str], rows: list[tuple]) -> None:
        with con.cursor() as cursor:
            cursor.execute(f"CREATE TEMP TABLE staged_{table} (LIKE {table}) ON COMMIT DROP")
            quoted = ", ".join(f'"{c}"' for c in columns)
            with cursor.copy(f"COPY staged_{table} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
