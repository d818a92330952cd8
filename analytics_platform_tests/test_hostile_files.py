"""Hostile files and faults, class by class (issue 13), through the public ingestion path.

Every file of every test ends in one of three states, asserted per file:
- loaded exactly once, with the values recomputed here from the bytes written (not read back
  from the warehouse), and the ledger's row count equal to the raw table's for its key;
- quarantined whole, with a reason that names the file and says what to do;
- deferred (S3 would not give the listed version), loaded by a later run.
The control files of each batch always load.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from decimal import Decimal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from botocore.exceptions import ClientError

from analytics_platform.lib import ingestion
from analytics_platform.lib.datasets import SUPPORTED_FORMATS

from .helpers import dataset_named, run_ingestion

COLUMNS = ["order_id", "created_at", "user_id", "product_id", "quantity", "unit_price", "status"]
HEADER = ",".join(COLUMNS) + "\n"
REQUIRED_ORDER_COLUMNS = {"order_id", "created_at", "quantity", "unit_price", "status"}


def order(order_id: str, quantity="2", unit_price="9.99", created_at="2026-10-01 10:00:00", status="placed") -> dict:
    return {"order_id": order_id, "created_at": created_at, "user_id": "U1", "product_id": "P1",
            "quantity": quantity, "unit_price": unit_price, "status": status}


def csv_body(rows: list[dict], header: str = HEADER) -> bytes:
    lines = [header.rstrip("\n")] + [",".join(str(row[c]) for c in COLUMNS) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def json_body(rows: list[dict]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def parquet_body(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def parse_rows(key: str, body: bytes) -> list[dict]:
    """The file's rows as the contract reads them, with the standard library and pyarrow."""
    name = key.lower()
    if name.endswith(".gz"):
        body, name = gzip.decompress(body), name[:-3]
    suffix = "." + name.rsplit(".", 1)[-1]
    if SUPPORTED_FORMATS[suffix] == "csv":
        return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    if SUPPORTED_FORMATS[suffix] == "json":
        return [json.loads(line) for line in body.decode("utf-8-sig").splitlines() if line.strip()]
    return pq.read_table(io.BytesIO(body)).to_pylist()


def expected_orders(key: str, body: bytes) -> list[tuple]:
    """(_source_row, order_id, quantity, unit_price, status) per row, converted losslessly."""
    expected = []
    for position, row in enumerate(parse_rows(key, body), start=1):
        quantity = Decimal(str(row["quantity"]))
        assert quantity == int(quantity)
        expected.append((position, row["order_id"], int(quantity),
                         Decimal(str(row["unit_price"])).quantize(Decimal("0.01")), row["status"]))
    return expected


class Landing:
    """Writes files under one dataset's landing prefix and checks their outcomes."""

    def __init__(self, settings, s3_client, dataset: str = "orders"):
        self.settings, self.s3, self.dataset = settings, s3_client, dataset
        self.bodies: dict[str, bytes] = {}

    def key(self, name: str) -> str:
        return f"{self.settings.landing_prefix}ecommerce/{self.dataset}/2026-10-01/{name}"

    def put(self, name: str, body: bytes) -> str:
        key = self.key(name)
        self.s3.put_object(Bucket=self.settings.landing_bucket, Key=key, Body=body)
        self.bodies[key] = body
        return key

    def query(self, sql: str, params=None) -> list[tuple]:
        with duckdb.connect(str(self.settings.duckdb_path), read_only=True) as con:
            return con.execute(sql, params).fetchall()

    def quarantined(self) -> dict[str, str]:
        return dict(self.query("SELECT s3_key, reason FROM raw._ingestion_quarantine"))

    def deferred(self) -> dict[str, str]:
        return dict(self.query("SELECT s3_key, reason FROM raw._ingestion_deferred"))

    def assert_loaded(self, name: str) -> None:
        key = self.key(name)
        loaded = self.query(
            f"SELECT _source_row, order_id, quantity, unit_price, status FROM raw_ecommerce.{self.dataset} "
            "WHERE _source_key = $1 ORDER BY _source_row", [key],
        )
        assert loaded == expected_orders(key, self.bodies[key]), name
        assert key not in self.quarantined(), name

    def assert_quarantined(self, name: str, *fragments: str) -> None:
        key = self.key(name)
        reason = self.quarantined().get(key)
        assert reason is not None, f"{name} was not quarantined"
        assert reason.startswith(f"s3://{self.settings.landing_bucket}/{key}: "), reason
        assert "re-deliver" in reason, reason  # says what to do
        for fragment in fragments:
            assert fragment in reason, (name, fragment, reason)
        assert self.query(f"SELECT count(*) FROM raw_ecommerce.{self.dataset} WHERE _source_key = $1", [key]) == [(0,)]

    def assert_ledger_agrees(self) -> None:
        """Per file: the current ledger row's count is the raw table's, and no raw row lacks one."""
        ledger = dict(self.query(
            "SELECT s3_key, rows FROM raw._ingestion_ledger WHERE superseded_at IS NULL AND dataset = $1",
            [f"ecommerce.{self.dataset}"],
        ))
        raw = dict(self.query(f"SELECT _source_key, count(*) FROM raw_ecommerce.{self.dataset} GROUP BY 1"))
        assert {k: v for k, v in ledger.items() if v} == raw


@pytest.fixture
def landing(settings, s3_client) -> Landing:
    return Landing(settings, s3_client)


def listing_then(monkeypatch, action) -> None:
    """Run `action()` right after ingestion lists the bucket, before anything downloads: the
    race between listing and loading, made certain."""
    original = ingestion.list_landing_objects

    def listed_then_act(*args, **kwargs):
        listed = list(original(*args, **kwargs))
        action()
        return iter(listed)

    monkeypatch.setattr(ingestion, "list_landing_objects", listed_then_act)


def deny_reading(monkeypatch, denied_key: str) -> None:
    """S3 answers 403 AccessDenied to GetObject on one key (moto enforces no bucket policies)."""
    from botocore.client import BaseClient

    original = BaseClient._make_api_call

    def make_api_call(self, operation_name, api_params):
        if operation_name == "GetObject" and api_params.get("Key") == denied_key:
            raise ClientError(
                {"Error": {"Code": "AccessDenied", "Message": "Access Denied"},
                 "ResponseMetadata": {"HTTPStatusCode": 403}}, operation_name)
        return original(self, operation_name, api_params)

    monkeypatch.setattr(BaseClient, "_make_api_call", make_api_call)


# --- class 1: one file never blocks a dataset -------------------------------------------------


def test_per_file_errors_settle_that_file_and_the_rest_loads(landing, settings, monkeypatch):
    good = [order("ORD-1"), order("ORD-2", quantity="5", unit_price="1.50")]
    landing.put("control.csv", csv_body(good))
    landing.put("control.json", json_body([order("ORD-3")]))
    landing.put("control.csv.gz", gzip.compress(csv_body([order("ORD-4")])))
    # pandas.to_csv with its index: the header starts with an empty cell.
    landing.put("pandas_index.csv", b"," + HEADER.encode() + b"0," + csv_body([order("ORD-5")]).split(b"\n")[1] + b"\n")
    landing.put("broken_quote.csv", csv_body(good) + b'"ORD-6,2026-10-01 10:00:00,U1,P1,1,1.00,placed\n')
    landing.put("ragged.csv", csv_body(good) + b"ORD-7,2026-10-01 10:00:00,U1\n")
    landing.put("latin1.csv", csv_body([order("ORD-8")]).replace(b"placed", b"plac\xe9"))
    landing.put("latin1.json", json_body([order("ORD-9")]).replace(b"placed", b"plac\xe9"))
    landing.put("not_gzip.csv.gz", csv_body([order("ORD-10")]))
    landing.put("truncated.csv.gz", gzip.compress(csv_body(good * 50))[:-40])
    landing.put("duplicate_column.csv", csv_body(good, header=HEADER.replace("user_id", "Order_ID")))
    deleted = landing.put("deleted_after_listing.csv", csv_body([order("ORD-11")]))
    forbidden = landing.put("forbidden.csv", csv_body([order("ORD-12")]))
    listing_then(monkeypatch, lambda: landing.s3.delete_object(Bucket=settings.landing_bucket, Key=deleted))
    deny_reading(monkeypatch, forbidden)

    result = run_ingestion(settings)  # raises if the run fails

    assert result.success
    for name in ("control.csv", "control.json", "control.csv.gz"):
        landing.assert_loaded(name)
    landing.assert_quarantined("pandas_index.csv", "column 1 of the header has no name", "index=False")
    landing.assert_quarantined("broken_quote.csv", "unterminated quote")
    landing.assert_quarantined("ragged.csv", "Expected Number of Columns: 7 Found: 3")
    landing.assert_quarantined("latin1.csv", "UTF-8")
    landing.assert_quarantined("latin1.json")
    landing.assert_quarantined("not_gzip.csv.gz", "gzip")
    landing.assert_quarantined("truncated.csv.gz")
    landing.assert_quarantined("duplicate_column.csv", "same name")
    deferred = landing.deferred()
    assert "vanished" in deferred[deleted] and deleted not in landing.quarantined()
    assert "AccessDenied" in deferred[forbidden] and forbidden not in landing.quarantined()
    landing.assert_ledger_agrees()

    # Access restored: the next run loads the deferred file and clears its deferral.
    monkeypatch.undo()
    run_ingestion(settings)
    landing.assert_loaded("forbidden.csv")
    assert forbidden not in landing.deferred()
    landing.assert_ledger_agrees()


def test_only_infrastructure_failures_fail_the_run(landing, settings, monkeypatch):
    landing.put("control.csv", csv_body([order("ORD-1")]))
    from dagster_aws.s3 import S3Resource

    monkeypatch.setattr(S3Resource, "get_client", lambda self: _unreachable_client())
    result = run_ingestion(settings, raise_on_error=False)
    assert not result.success
    monkeypatch.undo()
    run_ingestion(settings)
    landing.assert_loaded("control.csv")


def _unreachable_client():
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url="http://127.0.0.1:9", region_name="us-east-1",
                        aws_access_key_id="x", aws_secret_access_key="x",
                        config=Config(retries={"max_attempts": 1}, connect_timeout=1))


# --- class 3: exactly once ---------------------------------------------------------------------


def test_an_object_overwritten_after_listing_is_loaded_once_as_its_new_version(landing, settings, monkeypatch):
    landing.put("control.csv", csv_body([order("ORD-1")]))
    key = landing.put("overwritten.csv", csv_body([order("ORD-2"), order("ORD-3")]))
    new_body = csv_body([order("ORD-2", quantity="7")])
    listing_then(monkeypatch, lambda: landing.put("overwritten.csv", new_body))

    run_ingestion(settings)
    landing.assert_loaded("control.csv")
    assert "changed since it was listed" in landing.deferred()[key]
    assert landing.query("SELECT count(*) FROM raw_ecommerce.orders WHERE _source_key = $1", [key]) == [(0,)]

    monkeypatch.undo()
    run_ingestion(settings)
    landing.assert_loaded("overwritten.csv")  # the bytes now in S3: one row, quantity 7
    [etag] = [o["ETag"].strip('"') for o in landing.s3.list_objects_v2(
        Bucket=settings.landing_bucket, Prefix=key)["Contents"]]
    assert landing.query("SELECT etag FROM raw._ingestion_ledger WHERE s3_key = $1", [key]) == [(etag,)]
    landing.assert_ledger_agrees()


def test_a_redelivery_under_the_same_key_replaces_that_keys_rows(landing, settings):
    landing.put("control.csv", csv_body([order("ORD-1")]))
    versions = {
        "orders.csv": [csv_body([order("ORD-2"), order("ORD-3")]), csv_body([order("ORD-2", quantity="9")])],
        "orders.json": [json_body([order("ORD-4")]), json_body([order("ORD-4", status="shipped"), order("ORD-5")])],
        "orders.csv.gz": [gzip.compress(csv_body([order("ORD-6")])), gzip.compress(csv_body([order("ORD-7")]))],
    }
    for name, (first, _) in versions.items():
        landing.put(name, first)
    run_ingestion(settings)
    for name in versions:
        landing.assert_loaded(name)

    for name, (_, second) in versions.items():
        landing.put(name, second)
    landing.put("late.csv", csv_body([order("ORD-8")]))
    run_ingestion(settings)

    for name in [*versions, "control.csv", "late.csv"]:
        landing.assert_loaded(name)  # exactly the new version's rows, once
        key = landing.key(name)
        if name in versions:
            [(current, superseded)] = landing.query(
                "SELECT count(*) FILTER (WHERE superseded_at IS NULL), count(*) FILTER (WHERE superseded_at IS NOT NULL) "
                "FROM raw._ingestion_ledger WHERE s3_key = $1", [key])
            assert (current, superseded) == (1, 1), name
    # ORD-3 and ORD-6 were only in replaced versions: gone from raw.
    assert landing.query("SELECT count(*) FROM raw_ecommerce.orders WHERE order_id IN ('ORD-3', 'ORD-6')") == [(0,)]
    landing.assert_ledger_agrees()

    # A bad re-delivery is quarantined and the key keeps its last good version's rows.
    key = landing.key("orders.csv")
    landing.put("orders.csv", csv_body([order("ORD-2", quantity="2.5")]))
    run_ingestion(settings)
    assert "'2.5' is not a whole number" in landing.quarantined()[key]
    assert landing.query("SELECT order_id, quantity FROM raw_ecommerce.orders WHERE _source_key = $1", [key]) == [
        ("ORD-2", 9)]
    landing.assert_ledger_agrees()


# --- class 4: lossless casts, the same for every format -----------------------------------------


def _orders_table(**overrides) -> pa.Table:
    row = {"order_id": "ORD-P", "created_at": "2026-10-01 10:00:00", "user_id": "U1", "product_id": "P1",
           "quantity": 2, "unit_price": 9.99, "status": "placed"} | overrides
    return pa.Table.from_pylist([row])


def test_casts_are_lossless_or_the_file_is_quarantined(landing, settings):
    landing.put("control.csv", csv_body([order("ORD-1", quantity=" 3 ", unit_price="19.95")]))
    landing.put("control_whole_float.json", json_body([{**order("ORD-2"), "quantity": 3.0, "unit_price": 4.5}]))
    landing.put("control.parquet", parquet_body(_orders_table(order_id="ORD-3")))
    landing.put("fraction.csv", csv_body([order("ORD-4"), order("ORD-5", quantity="2.7")]))
    landing.put("fraction.json", json_body([{**order("ORD-6"), "quantity": 2.7}]))
    landing.put("fraction.parquet", parquet_body(_orders_table(quantity=2.7)))
    landing.put("scale.csv", csv_body([order("ORD-7", unit_price="9.999")]))
    landing.put("scale.parquet", parquet_body(_orders_table(unit_price=2.675)))
    landing.put("infinity.csv", csv_body([order("ORD-8", created_at="infinity")]))
    landing.put("minus_infinity.json", json_body([order("ORD-9", created_at="-infinity")]))
    landing.put("blank_key.csv", csv_body([order("ORD-10"), order("   ")]))
    landing.put("empty_string_key.json", json_body([order("")]))
    landing.put("null_key.parquet", parquet_body(_orders_table(order_id=None)))
    landing.put("blank_status.json", json_body([order("ORD-11", status=" ")]))
    landing.put("empty_status.csv", csv_body([order("ORD-12", status="")]))
    landing.put("reserved.csv", csv_body([order("ORD-13")], header=HEADER.replace("\n", "")) .replace(
        b"status\n", b"status,_loaded_at\n").replace(b"placed\n", b"placed,x\n"))
    underscore = HEADER.replace("\n", ",_batch\n")
    landing.put("underscore_extra.csv", (underscore + "ORD-14,2026-10-01 10:00:00,U1,P1,1,1.00,placed,B7\n").encode())

    run_ingestion(settings)

    for name in ("control.csv", "control_whole_float.json", "control.parquet"):
        landing.assert_loaded(name)
    for name in ("fraction.csv", "fraction.json", "fraction.parquet"):
        landing.assert_quarantined(name, "column quantity", "2.7", "not a whole number")
    landing.assert_quarantined("fraction.csv", "row 2,")
    landing.assert_quarantined("scale.csv", "row 1, column unit_price", "9.999", "more decimal places")
    landing.assert_quarantined("scale.parquet", "column unit_price", "more decimal places")
    landing.assert_quarantined("infinity.csv", "column created_at", "'infinity' is not a point in time")
    landing.assert_quarantined("minus_infinity.json", "'-infinity' is not a point in time")
    landing.assert_quarantined("blank_key.csv", "column order_id is empty in row 2")
    landing.assert_quarantined("empty_string_key.json", "column order_id is empty in row 1")
    landing.assert_quarantined("null_key.parquet", "column order_id is empty in row 1")
    landing.assert_quarantined("blank_status.json", "column status is empty in row 1")
    landing.assert_quarantined("empty_status.csv", "column status is empty in row 1")
    landing.assert_quarantined("reserved.csv", "'_loaded_at' is reserved")
    landing.assert_loaded("underscore_extra.csv")
    assert landing.query("SELECT _batch FROM raw_ecommerce.orders WHERE order_id = 'ORD-14'") == [("B7",)]
    landing.assert_ledger_agrees()


# --- class 5: reasons a person can act on -------------------------------------------------------


def test_a_bom_is_stripped_and_json_shapes_get_actionable_reasons(landing, settings):
    landing.put("bom.csv", b"\xef\xbb\xbf" + csv_body([order("ORD-1")]))
    landing.put("bom.json", b"\xef\xbb\xbf" + json_body([order("ORD-2")]))
    landing.put("control.json", json_body([order("ORD-3"), order("ORD-4")]))
    landing.put("empty.json", b"")
    landing.put("blank_lines.json", b"\n\n  \n")
    landing.put("array.json", json.dumps([order("ORD-5"), order("ORD-6")]).encode())
    landing.put("scalar_line.json", json_body([order("ORD-7")]) + b'"ORD-8"\n')
    landing.put("array_line.json", json_body([order("ORD-9")]) + b"[1, 2]\n")
    landing.put("wrong_type.json", json_body([{**order("ORD-10"), "quantity": "two"}]))
    landing.put("object_value.json", json_body([{**order("ORD-11"), "quantity": {"n": 1}}]))
    landing.put("boolean_value.json", json_body([{**order("ORD-12"), "unit_price": True}]))
    landing.put("truncated.json", json_body([order("ORD-13")]) + b'{"order_id": "ORD-14", "crea')
    # An empty object is an object (no keys, like a non-object line to the one-pass probe): its
    # row is refused for its empty required values, not for its shape.
    landing.put("empty_object_line.json", json_body([order("ORD-15")]) + b"{}\n")

    run_ingestion(settings)

    for name in ("bom.csv", "bom.json", "control.json"):
        landing.assert_loaded(name)
    ndjson = "expected one JSON object per line (NDJSON)"
    landing.assert_quarantined("empty.json", "empty JSON file", ndjson)
    landing.assert_quarantined("blank_lines.json", "empty JSON file")
    landing.assert_quarantined("array.json", ndjson, "found a JSON array", "write one object per line")
    landing.assert_quarantined("scalar_line.json", ndjson, "record 2", "a string")
    landing.assert_quarantined("array_line.json", ndjson, "record 2", "a JSON array")
    landing.assert_quarantined("wrong_type.json", "row 1, column quantity", "'two'", "INTEGER")
    landing.assert_quarantined("object_value.json", "row 1, column quantity", "INTEGER")
    landing.assert_quarantined("boolean_value.json", "row 1, column unit_price", "'true'", "DECIMAL(12,2)")
    landing.assert_quarantined("truncated.json", "Malformed JSON")
    landing.assert_quarantined("empty_object_line.json", "is empty in row 2", "a required column")
    landing.assert_ledger_agrees()


# --- class 6: one rule per column, enforced at the door ------------------------------------------


def test_every_column_a_downstream_error_test_needs_is_required_at_the_door():
    """The silver tests of severity error on landed columns (not_null on status, quantity,
    unit_price, price, reviews.product_id and rating) pass for every file the loader accepts."""
    orders = dataset_named("orders")
    assert {c.name for c in orders.columns if c.required} == REQUIRED_ORDER_COLUMNS
    assert {c.name for c in dataset_named("products").columns if c.required} == {"product_id", "price", "updated_at"}
    assert {c.name for c in dataset_named("reviews").columns if c.required} == {
        "review_id", "created_at", "product_id", "rating"}
    assert {c.name for c in dataset_named("users").columns if c.required} == {"user_id", "updated_at"}


def test_a_file_with_an_empty_required_value_never_reaches_the_ledger(landing, settings, s3_client):
    landing.put("control.csv", csv_body([order("ORD-1")]))
    for column in sorted(REQUIRED_ORDER_COLUMNS):
        landing.put(f"empty_{column}.csv", csv_body([order(f"ORD-{column}"), {**order("ORD-X"), column: ""}]))
    run_ingestion(settings)
    landing.assert_loaded("control.csv")
    for column in REQUIRED_ORDER_COLUMNS:
        landing.assert_quarantined(f"empty_{column}.csv", f"column {column} is empty in row 2")
    assert landing.query("SELECT count(*) FROM raw._ingestion_ledger") == [(1,)]


def _client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "GetObject")


def test_s3_errors_about_one_object_are_told_apart_from_infrastructure():
    from analytics_platform.lib.warehouses.downloads import unavailable_reason

    assert "vanished" in unavailable_reason(_client_error("NoSuchKey", 404))
    assert "unreadable" in unavailable_reason(_client_error("AccessDenied", 403))
    assert "changed since" in unavailable_reason(_client_error("PreconditionFailed", 412))
    assert unavailable_reason(_client_error("InternalError", 500)) is None
    assert unavailable_reason(_client_error("SlowDown", 503)) is None


def test_a_redelivery_reaches_bronze_silver_and_gold(landing, settings, tmp_path):
    """Through every layer that reads raw, with dbt: changed values of a re-delivered key reach
    gold on the next incremental build, and a record the re-delivery dropped leaves every layer
    on that build too; a full refresh then changes nothing (docs/CONTRACTS.md, "Loading rules")."""
    from .helpers import run_dbt

    build = ["build", "--select", "+gold_daily_sales", "--exclude", "resource_type:test", "resource_type:unit_test"]
    key = landing.put("orders.csv", csv_body([order("ORD-2"), order("ORD-3", quantity="4")]))
    run_ingestion(settings)
    run_dbt(build, target_path=tmp_path / "target", warehouse=settings.duckdb_path)

    landing.put("orders.csv", csv_body([order("ORD-2", quantity="9")]))
    run_ingestion(settings)
    landing.assert_loaded("orders.csv")
    run_dbt(build, target_path=tmp_path / "target", warehouse=settings.duckdb_path)

    def relation(model: str) -> str:
        [(schema,)] = landing.query("SELECT table_schema FROM information_schema.tables WHERE table_name = $1", [model])
        return f"{schema}.{model}"

    assert landing.query(f"SELECT order_id, quantity FROM {relation('bronze_orders')} ORDER BY 1") == [("ORD-2", 9)]
    # ORD-3, dropped by the re-delivery, leaves the merged silver_orders and gold on the same
    # incremental build (macros/incremental/redelivery.sql), as a full refresh would have it.
    assert landing.query(f"SELECT order_id, quantity FROM {relation('silver_orders')}") == [("ORD-2", 9)]
    [(revenue,)] = landing.query(f"SELECT sum(revenue) FROM {relation('gold_daily_sales')}")
    assert revenue == Decimal("9.99") * 9

    run_dbt([*build, "--full-refresh"], target_path=tmp_path / "target", warehouse=settings.duckdb_path)
    assert landing.query(f"SELECT order_id, quantity FROM {relation('silver_orders')}") == [("ORD-2", 9)]
    [(revenue,)] = landing.query(f"SELECT sum(revenue) FROM {relation('gold_daily_sales')}")
    assert revenue == Decimal("9.99") * 9
    assert landing.query("SELECT count(*) FROM raw_ecommerce.orders WHERE _source_key = $1", [key]) == [(1,)]
