"""Databricks readiness without a Databricks: every model compiled for the `databricks` target
offline parses with sqlglot's databricks dialect, and the Databricks loader runs one COPY INTO per
batch with exactly the batch's files, every value cast losslessly, and the ledger written after
it (no multi-statement transaction: the order of idempotent steps keeps it exact)."""

from __future__ import annotations

import gzip
import io
import json
import re
from datetime import datetime, timezone

import pyarrow.parquet as pq
import pytest
import sqlglot
from sqlglot import exp

from analytics_platform.lib.objects import LandingObject
from analytics_platform.lib.warehouses.databricks import DatabricksLoader
from analytics_platform.lib.warehouses.databricks_casts import databricks_type, spark_time_format
from analytics_platform.local.sample_data import SampleSpec, generate_landing_files

from .helpers import DBT_PROJECT, RecordingConnection, dataset_named

SPEC = SampleSpec(days=1, orders_per_day=12, users=8, products=6, reviews_per_day=4)


def test_every_model_compiled_for_databricks_offline_parses_as_databricks_sql(offline_compiled):
    target_path = offline_compiled["databricks"]
    manifest = json.loads((target_path / "manifest.json").read_text())
    models = [n for n in manifest["nodes"].values()
              if n["resource_type"] == "model" and n["language"] == "sql" and n["config"]["enabled"]]
    by_domain: dict[str, int] = {}
    for model in models:
        compiled = target_path / "compiled" / model["package_name"] / model["original_file_path"]
        assert compiled.exists(), f"{model['name']} was not compiled for databricks"
        statements = [s for s in sqlglot.parse(compiled.read_text(), read="databricks") if s]
        assert statements and not any(isinstance(s, exp.Command) for s in statements), (
            f"{model['name']}: sqlglot read it only as an opaque command"
        )
        by_domain[model["fqn"][1]] = by_domain.get(model["fqn"][1], 0) + 1
    # Every domain folder of the project (models/<domain>/<layer>/) had its models parsed.
    domains = {path.parent.parent.name for path in (DBT_PROJECT / "models").glob("*/*/*.sql")}
    assert {"ecommerce", "tickit"} <= domains <= set(by_domain)
    # Databricks rendering: the incremental facts merge (Delta), the Python model is left out.
    orders = next(n for n in models if n["name"] == "silver_orders")
    assert orders["config"]["incremental_strategy"] == "merge"


def _land(s3_client, settings, dataset: str, domain: str = "ecommerce") -> list[tuple[LandingObject, bytes]]:
    files = [f for f in generate_landing_files(SPEC, prefix=settings.landing_prefix)
             if (f.domain, f.dataset) == (domain, dataset) and not f.malformed]
    landed = []
    for landing_file in files:
        s3_client.put_object(Bucket=settings.landing_bucket, Key=landing_file.key, Body=landing_file.body)
        etag = s3_client.head_object(Bucket=settings.landing_bucket, Key=landing_file.key)["ETag"].strip('"')
        landed.append((LandingObject(settings.landing_bucket, landing_file.key, etag, len(landing_file.body),
                                     datetime.now(timezone.utc)), landing_file.body))
    return landed


def _rows_in(key: str, body: bytes, header: bool) -> int:
    """Rows of a landed file, counted from its bytes in plain Python."""
    if key.endswith(".parquet"):
        return pq.read_metadata(io.BytesIO(body)).num_rows
    text = (gzip.decompress(body) if key.endswith(".gz") else body).decode()
    lines = [line for line in text.splitlines() if line.strip()]
    return len(lines) - (1 if header and not key.endswith(".json") else 0)


def _keys_in(sql: str) -> list[str]:
    return re.findall(r"'([^']+)'", re.search(r"_source_key IN \(([^)]*)\)", sql)[1])


def _copy_parts(copy: exp.Copy) -> tuple[dict[str, exp.Expression], dict[str, exp.Expression]]:
    """(alias -> SELECT expression, parameter name -> value) of a parsed COPY INTO."""
    [select] = [f.this for f in copy.args["files"]]
    params = {p.this.name: p for p in copy.args["params"]}
    return {a.alias: a.this for a in select.expressions}, params


@pytest.mark.parametrize(("domain", "dataset", "file_format"), [
    ("ecommerce", "orders", "CSV"), ("ecommerce", "products", "JSON"),
    ("ecommerce", "users", "PARQUET"), ("tickit", "sales", "CSV"),
])
def test_the_databricks_loader_copies_each_batch_by_its_exact_file_list(s3_client, settings, domain, dataset, file_format):
    declared = dataset_named(dataset, domain=domain)
    landed = _land(s3_client, settings, dataset, domain)
    header = declared.file_format.header
    expected_rows = {obj.key: _rows_in(obj.key, body, header) for obj, body in landed}
    connection = RecordingConnection({
        "SELECT _source_key, count(*)": lambda sql: [(k, expected_rows[k]) for k in _keys_in(sql)],
    })
    loader = DatabricksLoader(connection, settings.landing_bucket, settings.landing_prefix)
    objects = [obj for obj, _ in landed]
    outcomes = [o for batch in loader.load_in_batches(declared, objects, s3_client, run_id="run-1") for o in batch]
    assert [o.rows for o in outcomes] == [expected_rows[o.key] for o in objects]

    statements = connection.statements
    for statement in statements:  # every statement is SQL sqlglot reads as Databricks SQL
        [parsed] = sqlglot.parse(statement, read="databricks")
        assert not isinstance(parsed, exp.Command) or statement == "SET TIME ZONE 'UTC'", statement
    assert "BEGIN" not in statements and "COMMIT" not in statements  # each statement commits alone
    [copy_sql] = [s for s in statements if s.startswith("COPY INTO")]  # one batch, one COPY
    copy = sqlglot.parse_one(copy_sql, read="databricks")
    assert copy.this.sql() == declared.raw_table
    selects, params = _copy_parts(copy)
    prefix = declared.landing_prefix(settings.landing_prefix)
    assert [f.name for f in params["FILES"].expression.find_all(exp.Literal)] == [o.key.removeprefix(prefix) for o in objects]
    source = copy.args["files"][0].this.args["from_"].this.name
    assert source == f"s3://{settings.landing_bucket}/{prefix}"
    assert params["FILEFORMAT"].expression.name == file_format
    copy_options = {p.this.name: p.args["value"].name for p in params["COPY_OPTIONS"].expressions if isinstance(p, exp.Property)}
    assert copy_options["force"] == "true"
    format_options = {p.this.name: p.args["value"].name for p in params["FORMAT_OPTIONS"].expressions if isinstance(p, exp.Property)}
    if file_format == "CSV":
        assert format_options["sep"] == declared.file_format.delimiter and format_options["mode"] == "FAILFAST"
        assert format_options["header"] == str(header).lower() and format_options["inferSchema"] == "false"
    if file_format == "JSON":
        assert format_options["primitivesAsString"] == "true"
    # Lossless casts: each declared column typed as declared, a failure raised when a value would change.
    assert list(selects) == [*(c.name for c in declared.columns), "_source_key", "_source_row", "_loaded_at"]
    for column in declared.columns:
        expression, spark_type = selects[column.name], databricks_type(column.data_type)
        functions = {f.name.lower() for f in expression.find_all(exp.Anonymous)}
        if spark_type == "STRING":
            assert {c.to.sql("databricks") for c in expression.find_all(exp.Cast)} == {"STRING"}
        elif column.data_type == "TIMESTAMP" and declared.file_format.timestamp_format:
            assert "try_to_timestamp" in functions
            pattern = spark_time_format(declared.file_format.timestamp_format)
            assert pattern == "M/d/yyyy H:m:s" and f"'{pattern}'" in expression.sql("databricks")
        else:
            assert spark_type in {t.to.sql("databricks").replace(" ", "") for t in expression.find_all(exp.TryCast)}
        if column.required or spark_type != "STRING":
            assert "raise_error" in functions, column.name
    assert "file_path" in selects["_source_key"].sql("databricks")
    # After the COPY: the batch keys' other rows go, then the ledger (superseded, then merged).
    loaded_at = re.search(r"CAST\('([^']+)' AS TIMESTAMP\) AS _loaded_at", copy.sql("databricks"))[1]
    after = statements[statements.index(copy_sql) + 1:]
    delete, count, supersede, merge = after[:4]
    assert delete.startswith(f"DELETE FROM {declared.raw_table}") and f"_loaded_at <> TIMESTAMP '{loaded_at}'" in delete
    assert _keys_in(delete) == [o.key for o in objects] == _keys_in(count)
    assert supersede.startswith("UPDATE raw._ingestion_ledger SET superseded_at")
    assert merge.startswith("MERGE INTO raw._ingestion_ledger")
    for obj in objects:
        assert f"'{obj.key}', '{obj.etag}', {obj.size}" in merge and f", {expected_rows[obj.key]}, TIMESTAMP '{loaded_at}'" in merge


def test_a_bad_file_fails_its_batch_and_only_it_is_quarantined(s3_client, settings):
    declared = dataset_named("orders")
    landed = _land(s3_client, settings, "orders")[:2]
    good, bad = landed[0][0], landed[1][0]
    body = landed[1][1].decode().splitlines()
    columns = body[0].split(",")
    row = body[1].split(",")
    row[columns.index("quantity")] = "two"
    s3_client.put_object(Bucket=settings.landing_bucket, Key=bad.key, Body="\n".join([body[0], ",".join(row)]).encode())
    etag = s3_client.head_object(Bucket=settings.landing_bucket, Key=bad.key)["ETag"].strip('"')
    bad = LandingObject(bad.bucket, bad.key, etag, bad.size, bad.last_modified)

    def copy_into(sql: str):  # Databricks fails the whole COPY when one of its files is bad
        if bad.key.rsplit("/", 1)[1] in sql:
            raise RuntimeError("[USER_RAISED_EXCEPTION] column quantity: could not convert 'two' to INTEGER: "
                               "expected a value of type INTEGER SQLSTATE: P0001")
        return []

    connection = RecordingConnection({"COPY INTO": copy_into, "SELECT _source_key, count(*)": lambda sql: [(good.key, 4)]})
    loader = DatabricksLoader(connection, settings.landing_bucket, settings.landing_prefix)
    [outcomes] = list(loader.load_in_batches(declared, [good, bad], s3_client, run_id="run-1"))
    assert outcomes[0].loaded and outcomes[0].rows == 4
    assert outcomes[1].quarantine_reason.startswith(f"s3://{bad.bucket}/{bad.key}: column quantity: could not convert 'two'")
    copies = [s for s in connection.statements if s.startswith("COPY INTO")]
    assert len(copies) == 3  # the batch, then file by file
    quarantine = [s for s in connection.statements if s.startswith("MERGE INTO raw._ingestion_quarantine")]
    assert len(quarantine) == 1 and f"'{bad.etag}'" in quarantine[0]
    # The good file's rows were loaded once: no DELETE ran for the bad key (its old rows stay).
    deletes = [s for s in connection.statements if s.startswith(f"DELETE FROM {declared.raw_table}")]
    assert [_keys_in(s) for s in deletes] == [[good.key]]


def test_the_databricks_loader_is_registered():
    from analytics_platform.lib.warehouses import loader_class

    assert loader_class("databricks") is DatabricksLoader
