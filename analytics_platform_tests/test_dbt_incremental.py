"""Incremental facts, SCD2 snapshots and the audit hooks, on a real DuckDB file.

- incremental == full refresh: the sample data lands day by day through the real loader (moto S3,
  the ingestion asset), with its late and duplicate deliveries, plus a column nobody declared and
  orders arriving later than the lookback window, and a correction of an order merged days
  before (a redelivery beyond the lookback); `dbt build` after each day, then
  `dbt build --full-refresh` must give the same silver facts and gold tables, row for row.
- SCD2: a product and a user change between runs; the snapshots keep both versions and each order
  keeps the price and country valid when it was placed, also after a full refresh.
- audit: every dbt invocation and node result lands in the warehouse through the run hooks.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import duckdb

from analytics_platform.local.sample_data import (
    LandingFile,
    SampleSpec,
    generate_landing_files,
)

from .helpers import DBT_PROJECT, create_raw_tables, declared_datasets, run_dbt, run_ingestion

SPEC = SampleSpec(days=4, orders_per_day=50, products=20, users=60, reviews_per_day=20)
LOOKBACK = {"incremental_lookback_days": 1}
COMPARED_TABLES = (
    "silver.silver_orders",
    "silver.silver_reviews",
    "gold.gold_daily_sales",
    "gold.gold_daily_avg_rating",
    "gold.gold_sales_by_region",
    "gold.gold_sales_by_region_v1",
    "gold.product_categories",
    "gold.gold_customer_segments",
)


def day_of(landing_file: LandingFile) -> str:
    return re.search(r"/(\d{4}-\d{2}-\d{2})/", landing_file.key).group(1)


def with_coupon_column(landing_file: LandingFile) -> LandingFile:
    """The same orders CSV with a column the contract does not know (the loader adds it as VARCHAR)."""
    rows = list(csv.DictReader(io.StringIO(landing_file.body.decode())))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[*rows[0].keys(), "coupon_code"], lineterminator="\n")
    writer.writeheader()
    for number, row in enumerate(rows):
        writer.writerow({**row, "coupon_code": "AUTUMN" if number % 2 == 0 else ""})
    return LandingFile(landing_file.key, out.getvalue().encode(), landing_file.dataset)


VERY_LATE_ORDERS = LandingFile(
    "landing/ecommerce/orders/2026-10-04/replayed_from_2026-10-01.csv",
    (
        b"order_id,created_at,user_id,product_id,quantity,unit_price,status\n"
        # Placed on day 1 and delivered on day 4: older than the 1-day lookback.
        b"ORD-9000001,2026-10-01 09:00:00,U00001,P0001,2,19.99,delivered\n"
        b"ORD-9000002,2026-10-01 17:30:00,U00002,P0002,1,5.49,cancelled\n"
    ),
    "orders",
)


def corrected_order(files: list[LandingFile], from_day: str, on_day: str) -> tuple[LandingFile, str, str]:
    """The first order of `from_day` delivered again on `on_day` with another status: a
    correction of an order merged days ago, outside the lookback (the new delivery wins)."""
    source = next(f for f in files if day_of(f) == from_day and f.dataset == "orders" and f.key.endswith(".csv"))
    reader = csv.DictReader(io.StringIO(source.body.decode()))
    # One the sample does not deliver again, so the correction is its last delivery.
    first = next(row for row in reader if sum(row["order_id"].encode() in f.body for f in files) == 1)
    header = reader.fieldnames
    status = "returned" if first["status"].strip().lower() != "returned" else "delivered"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(header), lineterminator="\n")
    writer.writeheader()
    writer.writerow({**first, "status": status})
    key = f"landing/ecommerce/orders/{on_day}/corrected_from_{from_day}.csv"
    return LandingFile(key, out.getvalue().encode(), "orders"), first["order_id"].strip(), status


RUN_STAMP = "_dbt_run_at"
"""Which invocation last wrote a fact row (macros/incremental/test_scope.sql): differs between
an incremental history and a full refresh by construction, so it is left out of the rows."""


def table_rows(con: duckdb.DuckDBPyConnection, table: str) -> tuple[list[str], list[tuple]]:
    columns = [row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()]
    stamp = f" EXCLUDE ({RUN_STAMP})" if RUN_STAMP in columns else ""
    return columns, con.execute(f"SELECT *{stamp} FROM {table} ORDER BY ALL").fetchall()


def is_changed_rows_merge(sql: str) -> bool:
    """silver_orders' `merge` on DuckDB: the matched rows that changed deleted, then every
    source row without a match inserted (duckdb__get_incremental_merge_sql)."""
    statements = [s.strip().lower() for s in sql.split(";") if s.strip()]
    return (
        len(statements) == 2
        and statements[0].startswith('delete from "warehouse"."silver"."silver_orders"')
        and "is distinct from" in statements[0]
        and statements[1].startswith('insert into "warehouse"."silver"."silver_orders" by name')
        and "where not exists" in statements[1]
    )


def snapshot_tables(warehouse: Path) -> dict[str, tuple[list[str], list[tuple]]]:
    return snapshot_tables_of(warehouse, COMPARED_TABLES)


def snapshot_tables_of(warehouse: Path, tables) -> dict[str, tuple[list[str], list[tuple]]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {table: table_rows(con, table) for table in tables}


def test_incremental_runs_equal_a_full_refresh_with_late_rows_and_a_new_column(settings, s3_client, tmp_path):
    ecommerce = [d for d in declared_datasets() if d.domain == "ecommerce"]
    files = generate_landing_files(SPEC, prefix=settings.landing_prefix, datasets=ecommerce)
    days = sorted({day_of(f) for f in files})
    coupon_file = next(f for f in files if day_of(f) == days[2] and f.key.endswith(".csv") and f.dataset == "orders")
    target = tmp_path / "target"
    build = ["build", "--vars", json.dumps(LOOKBACK)]

    correction, corrected_id, corrected_status = corrected_order(files, days[0], days[-1])

    for number, day in enumerate(days):
        batch = [with_coupon_column(f) if f is coupon_file else f for f in files if day_of(f) == day]
        if day == days[-1]:
            batch += [VERY_LATE_ORDERS, correction]
        for landing_file in batch:
            s3_client.put_object(Bucket=settings.landing_bucket, Key=landing_file.key, Body=landing_file.body)
        run_ingestion(settings)
        run_dbt(build, target_path=target, warehouse=settings.duckdb_path)
        if number == 0:
            continue
        # Later runs take the incremental path: merge for orders (on DuckDB written as a delete
        # of the changed matches and an insert of the rest: macros/incremental/strategy.sql),
        # delete+insert for reviews.
        run_sql = target / "run" / "analytics_platform" / "models" / "ecommerce" / "silver"
        assert is_changed_rows_merge((run_sql / "silver_orders.sql").read_text())
        assert "delete from" in (run_sql / "silver_reviews.sql").read_text()

    incremental = snapshot_tables(settings.duckdb_path)
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        late = con.execute(
            "SELECT count(*) FROM silver.silver_orders WHERE order_id IN ('ORD-9000001', 'ORD-9000002')"
        ).fetchone()[0]
        late_in_sample = con.execute(
            "SELECT count(*) FROM silver.silver_orders "
            "WHERE cast(regexp_extract(_source_key, '/(\\d{4}-\\d{2}-\\d{2})/', 1) as date) > order_date"
        ).fetchone()[0]
        coupons = con.execute(
            "SELECT count(*) FROM silver.silver_orders WHERE coupon_code = 'AUTUMN'"
        ).fetchone()[0]
        corrected = con.execute(
            "SELECT status, _source_key FROM silver.silver_orders WHERE order_id = ?", [corrected_id]
        ).fetchall()
    assert late == 2 and late_in_sample > 2  # the very late pair, and the sample's own late rows
    # An order merged on day 1 and corrected on day 4 (beyond the 1-day lookback): replaced.
    assert corrected == [(corrected_status, correction.key)]
    assert coupons > 0
    assert "coupon_code" in incremental["silver.silver_orders"][0]  # appended by on_schema_change

    run_dbt([*build, "--full-refresh"], target_path=target, warehouse=settings.duckdb_path)
    full_refresh = snapshot_tables(settings.duckdb_path)

    for table in COMPARED_TABLES:
        columns, rows = incremental[table]
        assert full_refresh[table][0] == columns, table
        assert len(rows) > 0, table
        assert full_refresh[table][1] == rows, table


# --------------------------------------------------------------------------- SCD2

def load_rows(warehouse: Path, table: str, rows: list[dict], loaded_at: datetime, source_key: str | None = None) -> None:
    """Insert rows into a raw table the way the loader does (load columns filled in); a
    `source_key` already loaded is a re-delivery: its rows are replaced, as the loader does."""
    source_key = source_key or f"test/{table}/{loaded_at:%Y%m%dT%H%M%S}.csv"
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"DELETE FROM raw_ecommerce.{table} WHERE _source_key = ?", [source_key])
        for number, row in enumerate(rows, start=1):
            values = {**row, "_source_key": source_key, "_source_row": number, "_loaded_at": loaded_at}
            columns = ", ".join(values)
            placeholders = ", ".join("?" for _ in values)
            con.execute(f"INSERT INTO raw_ecommerce.{table} ({columns}) VALUES ({placeholders})", list(values.values()))


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def order(order_id, created_at, user_id, product_id, unit_price):
    return {"order_id": order_id, "created_at": created_at, "user_id": user_id, "product_id": product_id,
            "quantity": 1, "unit_price": Decimal(unit_price), "status": "delivered"}


def test_snapshots_keep_history_and_orders_keep_the_price_and_country_of_their_time(tmp_path):
    warehouse, target = tmp_path / "warehouse.duckdb", tmp_path / "target"
    build = ["build", "--select", "+silver_orders"]
    create_raw_tables(warehouse)
    day = datetime(2026, 10, 1)
    product = {"product_id": "P1", "product_name": "Kettle", "category": "Home & Kitchen"}
    load_rows(warehouse, "products", [
        {**product, "price": Decimal("10.00"), "updated_at": day},
        {"product_id": "P2", "product_name": "Novel", "category": "Books", "price": Decimal("5.00"), "updated_at": day},
    ], loaded_at=day)
    load_rows(warehouse, "users", [
        {"user_id": "U1", "name": "Ann", "email": "ann@example.com", "country": "FR", "created_at": day, "updated_at": day},
        {"user_id": "U2", "name": "Bob", "email": "bob@example.com", "country": "US", "created_at": day, "updated_at": day},
    ], loaded_at=day)
    load_rows(warehouse, "orders", [order("O1", day + timedelta(days=1), "U1", "P1", "10.00")], loaded_at=day + timedelta(days=1))
    run_dbt(build, target_path=target, warehouse=warehouse)

    # P1 changes price; P2 is delivered again unchanged; U1 moves to Germany; U2 only fixes
    # their name, which the users snapshot does not track.
    change = day + timedelta(days=2)
    load_rows(warehouse, "products", [
        {**product, "price": Decimal("12.00"), "updated_at": change},
        {"product_id": "P2", "product_name": "Novel", "category": "Books", "price": Decimal("5.00"), "updated_at": day},
    ], loaded_at=change)
    load_rows(warehouse, "users", [
        {"user_id": "U1", "name": "Ann", "email": "ann@example.com", "country": "DE", "created_at": day, "updated_at": change},
        {"user_id": "U2", "name": "Robert", "email": "bob@example.com", "country": "US", "created_at": day, "updated_at": change},
    ], loaded_at=change)
    load_rows(warehouse, "orders", [order("O2", change + timedelta(days=1), "U1", "P1", "12.00")], loaded_at=change + timedelta(days=1))
    run_dbt(build, target_path=target, warehouse=warehouse)
    user_change_seen_at = utc_now()

    # Timestamp strategy: versions valid from the product's updated_at, the old one closed.
    assert query(warehouse, "SELECT product_id, price, dbt_valid_from, dbt_valid_to FROM snapshots.snap_products ORDER BY ALL") == [
        ("P1", Decimal("10.00"), day, change),
        ("P1", Decimal("12.00"), change, datetime(9999, 12, 31)),
        ("P2", Decimal("5.00"), day, datetime(9999, 12, 31)),
    ]
    # Check strategy on email and country: a row for U1's move, none for U2's new name.
    users = query(warehouse, "SELECT user_id, name, country, dbt_valid_to = '9999-12-31' FROM snapshots.snap_users ORDER BY user_id, dbt_valid_from")
    assert users == [("U1", "Ann", "FR", False), ("U1", "Ann", "DE", True), ("U2", "Bob", "US", True)]

    # An order after U1's move was recorded (check strategy: history in observation time).
    load_rows(warehouse, "orders", [order("O3", user_change_seen_at + timedelta(seconds=5), "U1", "P1", "12.00")],
              loaded_at=user_change_seen_at + timedelta(seconds=5))
    run_dbt(build, target_path=target, warehouse=warehouse)
    priced = "SELECT order_id, list_price, user_country FROM silver.silver_orders ORDER BY order_id"
    expected = [("O1", Decimal("10.00"), "FR"), ("O2", Decimal("12.00"), "FR"), ("O3", Decimal("12.00"), "DE")]
    assert query(warehouse, priced) == expected

    # A full refresh rebuilds the facts from the same history: snapshots are never rebuilt.
    run_dbt([*build, "--full-refresh"], target_path=target, warehouse=warehouse)
    assert query(warehouse, priced) == expected
    assert query(warehouse, "SELECT count(*) FROM snapshots.snap_products WHERE product_id = 'P1'") == [(2,)]


def test_a_late_version_and_a_dropped_winner_restate_old_orders_as_a_full_refresh_would(tmp_path):
    """silver_orders merges the keys that changed (macros/incremental/key_scope.sql), not whole
    days, so what restates an order outside the lookback must be found by key: a product version
    that lands late re-prices the orders placed since it (and a product's first version those
    placed before it was known), and a re-delivery that drops an order's winning delivery hands
    it back to the one before. Both orders are days older than the lookback of one day."""
    warehouse, target = tmp_path / "warehouse.duckdb", tmp_path / "target"
    build = ["build", "--select", "+silver_orders", "--exclude", "resource_type:test", "resource_type:unit_test",
             "--vars", json.dumps({"incremental_lookback_days": 1})]
    create_raw_tables(warehouse)
    day = datetime(2026, 10, 1)
    load_rows(warehouse, "products", [
        {"product_id": "P1", "product_name": "Kettle", "category": "Home & Kitchen", "price": Decimal("10.00"), "updated_at": day},
    ], loaded_at=day)
    load_rows(warehouse, "users", [
        {"user_id": "U1", "name": "Ann", "email": "ann@example.com", "country": "FR", "created_at": day, "updated_at": day},
    ], loaded_at=day)
    first_file, second_file = "test/orders/first.csv", "test/orders/second.csv"
    load_rows(warehouse, "orders", [
        order("O1", day + timedelta(days=1), "U1", "P1", "10.00"),
        order("O2", day + timedelta(days=3), "U1", "P1", "10.00"),
        order("O3", day + timedelta(days=2), "U1", "P9", "7.00"),  # P9: a product not known yet
        {**order("O4", day + timedelta(days=1, hours=12), "U1", "P1", "10.00"), "quantity": 1},
    ], loaded_at=day + timedelta(days=3), source_key=first_file)
    load_rows(warehouse, "orders", [
        {**order("O4", day + timedelta(days=1, hours=12), "U1", "P1", "10.00"), "quantity": 2},  # wins: loaded later
        order("O5", day + timedelta(days=4), "U1", "P1", "10.00"),
    ], loaded_at=day + timedelta(days=4), source_key=second_file)
    load_rows(warehouse, "orders", [order("O9", day + timedelta(days=10), "U1", "P1", "10.00")],
              loaded_at=day + timedelta(days=10))
    run_dbt(build, target_path=target, warehouse=warehouse)
    quantities = "SELECT order_id, quantity FROM silver.silver_orders WHERE order_id = 'O4'"
    assert query(warehouse, quantities) == [("O4", 2)]

    # Now (the loader stamps its own clock): P1 changes price as of day 2, P9 arrives with a
    # change dated after O3, and the second file comes again without O4.
    now = utc_now()
    load_rows(warehouse, "products", [
        {"product_id": "P1", "product_name": "Kettle", "category": "Home & Kitchen", "price": Decimal("12.00"),
         "updated_at": day + timedelta(days=2)},
        {"product_id": "P9", "product_name": "Lamp", "category": "Home & Kitchen", "price": Decimal("7.50"),
         "updated_at": day + timedelta(days=5)},
    ], loaded_at=now)
    load_rows(warehouse, "orders", [order("O5", day + timedelta(days=4), "U1", "P1", "10.00")],
              loaded_at=now, source_key=second_file)
    run_dbt(build, target_path=target, warehouse=warehouse)
    assert is_changed_rows_merge((target / "run" / "analytics_platform" / "models" / "ecommerce" / "silver" / "silver_orders.sql").read_text())

    priced = ("SELECT order_id, product_name, list_price, quantity FROM silver.silver_orders ORDER BY order_id")
    expected = [
        ("O1", "Kettle", Decimal("10.00"), 1),  # placed before P1's new price
        ("O2", "Kettle", Decimal("12.00"), 1),  # re-priced: placed after it, 7 days before the newest order
        ("O3", "Lamp", Decimal("7.50"), 1),  # P9's first version counts since 1900
        ("O4", "Kettle", Decimal("10.00"), 1),  # the first file's delivery again
        ("O5", "Kettle", Decimal("12.00"), 1),
        ("O9", "Kettle", Decimal("12.00"), 1),
    ]
    assert query(warehouse, priced) == expected
    incremental = snapshot_tables_of(warehouse, ["silver.silver_orders"])
    run_dbt([*build, "--full-refresh"], target_path=target, warehouse=warehouse)
    assert query(warehouse, priced) == expected
    assert snapshot_tables_of(warehouse, ["silver.silver_orders"]) == incremental


# --------------------------------------------------------------------------- audit hooks

def seed_rows(name: str) -> int:
    """Data rows of a seed CSV, counted from the file dbt loads."""
    return len((DBT_PROJECT / "seeds" / f"{name}.csv").read_text().strip().splitlines()) - 1


def test_run_hooks_record_every_invocation_and_node_result_in_the_warehouse(tmp_path):
    warehouse, target = tmp_path / "warehouse.duckdb", tmp_path / "target"
    create_raw_tables(warehouse)

    run_dbt(["seed"], target_path=target, warehouse=warehouse)
    failed = run_dbt(["run", "--select", "silver_orders"], target_path=target, warehouse=warehouse, check=False)
    assert failed.returncode != 0  # bronze and the snapshots were never built
    run_dbt(["compile", "--select", "bronze_orders"], target_path=target, warehouse=warehouse)

    invocations = query(
        warehouse,
        "SELECT command, target_name, environment, status, nodes_total, nodes_failed, finished_at >= started_at "
        "FROM audit.dbt_invocations ORDER BY started_at, command DESC",
    )
    assert invocations == [
        ("seed", "duckdb", "local", "success", 3, 0, True),
        ("run", "duckdb", "local", "error", 1, 1, True),
    ]  # compile left no trace
    results = query(
        warehouse,
        "SELECT i.command, r.resource_type, r.node_name, r.status, r.rows_affected "
        "FROM audit.dbt_node_results r JOIN audit.dbt_invocations i USING (invocation_id) ORDER BY ALL",
    )
    assert results == [
        ("run", "model", "silver_orders", "error", None),
        ("seed", "seed", "category_departments", "success", 8),
        ("seed", "seed", "country_regions", "success", 15),
        ("seed", "seed", "tickit_category_descriptions", "success", seed_rows("tickit_category_descriptions")),
    ]
    [(message,)] = query(warehouse, "SELECT message FROM audit.dbt_node_results WHERE status = 'error'")
    assert "does not exist" in message
