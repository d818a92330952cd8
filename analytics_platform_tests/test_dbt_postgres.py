"""The project on a second engine: PostgreSQL 15, the runnable stand-in for Redshift SQL.

The same raw rows (sample data through the real loader) are built with `dbt build` on DuckDB
and on a throwaway PostgreSQL cluster (`--target postgres`), then built again incrementally
after late rows and a new product version land. Silver and gold must match row for row: the
`postgres__` / `default__` macro implementations, the merge and delete+insert strategies,
snapshots, contracts and hooks all run for real, not just compile.

Skipped when the PostgreSQL server binaries are not installed (`apt-get install postgresql`).
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg2  # installed with dbt-postgres
import pytest

from analytics_platform.lib.datasets import LOAD_COLUMNS
from analytics_platform.local.sample_data import (
    SampleSpec,
    generate_landing_files,
    upload_landing_files,
)

from .helpers import dataset_named, declared_datasets, postgres_database, run_dbt, run_ingestion

SPEC = SampleSpec(days=3, orders_per_day=60, products=20, users=60, reviews_per_day=20)
COMPARED = {
    "silver.silver_orders": "order_id",
    "silver.silver_reviews": "review_id",
    "snapshots.snap_products": "product_id, dbt_valid_from",
    "gold.gold_daily_sales": "order_date",
    "gold.gold_daily_avg_rating": "review_date, product_id",
    "gold.gold_sales_by_region": "order_date, region",
    "gold.gold_sales_by_region_v1": "order_date, region",
    "gold.product_categories": "category",
}
SNAPSHOT_COLUMNS = "product_id, product_name, category, price, dbt_valid_from, dbt_valid_to"


@pytest.fixture(scope="module")
def postgres(postgres_server):
    """This module's own database on the session's PostgreSQL server (conftest.postgres_server)."""
    return postgres_database(postgres_server, "dbt_postgres")


@contextmanager
def pg_connect(env: dict[str, str]):
    con = psycopg2.connect(host=env["POSTGRES_HOST"], port=int(env["POSTGRES_PORT"]),
                           user=env["POSTGRES_USER"], dbname=env["POSTGRES_DATABASE"])
    con.autocommit = True
    try:
        yield con
    finally:
        con.close()


def copy_raw_tables(warehouse: Path, env: dict[str, str]) -> None:
    """The raw tables from the DuckDB file into PostgreSQL, same DDL (the contract's types are standard SQL)."""
    with duckdb.connect(str(warehouse), read_only=True) as source, pg_connect(env) as target:
        cursor = target.cursor()
        for dataset in declared_datasets():
            columns = [(c.name, c.data_type) for c in dataset.columns] + [(n, t) for n, t, _ in LOAD_COLUMNS]
            names = ", ".join(name for name, _ in columns)
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {dataset.raw_schema}")
            cursor.execute(f"DROP TABLE IF EXISTS {dataset.raw_table}")
            cursor.execute(f"CREATE TABLE {dataset.raw_table} ({', '.join(f'{n} {t}' for n, t in columns)})")
            rows = source.execute(f"SELECT {names} FROM {dataset.raw_table}").fetchall()
            cursor.executemany(
                f"INSERT INTO {dataset.raw_table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})", rows
            )


RUN_STAMP = "_dbt_run_at"  # when each build wrote a fact row: differs between any two builds


def rows(warehouse: Path, env: dict[str, str], table: str, order_by: str) -> tuple[list, list]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        if table.startswith("snapshots."):
            columns = SNAPSHOT_COLUMNS
        else:
            names = [row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()]
            columns = ", ".join(name for name in names if name != RUN_STAMP)
        sql = f"SELECT {columns} FROM {table} ORDER BY {order_by}"
        in_duckdb = con.execute(sql).fetchall()
    with pg_connect(env) as con:
        cursor = con.cursor()
        cursor.execute(sql)
        in_postgres = cursor.fetchall()
    return in_duckdb, in_postgres


LATE_ROWS = {
    # A late order for day 1 and a new version of P0001, delivered after the first build.
    "orders": ["ORD-9000001", datetime(2026, 10, 1, 8, 0), "U00001", "P0001", 3, Decimal("12.34"), " Delivered"],
    "products": ["P0001", "Renamed product", "Books", Decimal("99.99"), datetime(2026, 10, 2, 12, 0)],
}


def land_late_rows(warehouse: Path, env: dict[str, str]) -> None:
    loaded = [f"late/{name}.csv" for name in LATE_ROWS]
    loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
    statements = []
    for (dataset, values), key in zip(LATE_ROWS.items(), loaded):
        columns = [c.name for c in dataset_named(dataset).columns]
        sql = (
            f"INSERT INTO {dataset_named(dataset).raw_table} ({', '.join(columns)}, _source_key, _source_row, _loaded_at) "
            f"VALUES ({', '.join(['%s'] * (len(columns) + 3))})"
        )
        # Loaded now, after the first build, as the loader stamps it: a late row is one whose
        # day the table already has, not one stamped in the past.
        statements.append((sql, [*values, key, 1, loaded_at]))
    with duckdb.connect(str(warehouse)) as con:
        for sql, values in statements:
            con.execute(sql.replace("%s", "?"), values)
    with pg_connect(env) as con:
        for sql, values in statements:
            con.cursor().execute(sql, values)


def test_the_project_builds_the_same_tables_on_postgresql_as_on_duckdb(settings, s3_client, postgres, tmp_path):
    upload_landing_files(s3_client, settings.landing_bucket, generate_landing_files(SPEC, prefix=settings.landing_prefix))
    run_ingestion(settings)
    copy_raw_tables(settings.duckdb_path, postgres)

    def build_both_and_compare() -> None:
        run_dbt(["build"], target_path=tmp_path / "duckdb", warehouse=settings.duckdb_path)
        run_dbt(["build", "--target", "postgres"], target_path=tmp_path / "postgres", env=postgres)
        for table, order_by in COMPARED.items():
            in_duckdb, in_postgres = rows(settings.duckdb_path, postgres, table, order_by)
            assert in_duckdb, table
            assert in_postgres == in_duckdb, table

    build_both_and_compare()
    land_late_rows(settings.duckdb_path, postgres)
    build_both_and_compare()  # incremental: merge / delete+insert, a new snapshot version

    run_sql = tmp_path / "postgres" / "run" / "analytics_platform" / "models" / "ecommerce" / "silver"
    assert "merge into" in (run_sql / "silver_orders.sql").read_text().lower()
    assert "delete from" in (run_sql / "silver_reviews.sql").read_text().lower()
    with pg_connect(postgres) as con:
        cursor = con.cursor()
        cursor.execute("SELECT target_type, status FROM audit.dbt_invocations ORDER BY started_at")
        assert cursor.fetchall() == [("postgres", "success")] * 2
        cursor.execute("SELECT status FROM silver.silver_orders WHERE order_id = 'ORD-9000001'")
        assert cursor.fetchall() == [("delivered",)]
        cursor.execute("SELECT count(*) FROM snapshots.snap_products WHERE product_id = 'P0001'")
        assert cursor.fetchone()[0] >= 2

    # Both engines report the rows each gold table wrote in the last build (DuckDB through the
    # profile's plugin, analytics_platform/lib/dbt_duckdb_plugin.py): each the table's size.
    gold = [table for table in COMPARED if table.startswith("gold.") and not table.endswith("_v1")]  # v1: a view
    sizes = {table.split(".")[1]: len(rows(settings.duckdb_path, postgres, table, "1")[0]) for table in gold}
    reported = (
        "SELECT r.node_name, r.rows_affected FROM audit.dbt_node_results r "
        "JOIN audit.dbt_invocations i USING (invocation_id) "
        "WHERE i.started_at = (SELECT max(started_at) FROM audit.dbt_invocations) "
        f"AND r.materialized = 'table' AND r.node_name IN ({', '.join(repr(name) for name in sizes)})"
    )
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        assert dict(con.execute(reported).fetchall()) == sizes
    with pg_connect(postgres) as con:
        cursor = con.cursor()
        cursor.execute(reported)
        assert dict(cursor.fetchall()) == sizes
