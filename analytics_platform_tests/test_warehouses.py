"""Warehouses by type, the loader's reading of each dataset's file format, and settings."""

from __future__ import annotations

import gzip
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from analytics_platform.lib.datasets import Column, Dataset, FileFormat
from analytics_platform.lib.objects import list_landing_objects
from analytics_platform.lib.warehouses import (
    WAREHOUSE_TYPES,
    QuarantinedFile,
    loader_class,
    open_loader,
)
from analytics_platform.lib.warehouses.duckdb import DuckDBLoader
from analytics_platform.settings import load_settings

SALES = Dataset(
    domain="tickit",
    name="sales",
    description="Ticket sales.",
    columns=(
        Column("sale_id", "INTEGER", "Sale id.", True),
        Column("sold_at", "TIMESTAMP", "When the sale happened (UTC).", True),
        Column("price", "DECIMAL(8,2)", "Price paid."),
        Column("buyer", "VARCHAR", "Buyer name."),
    ),
    file_format=FileFormat(
        format="csv", delimiter="|", header=False, timestamp_format="%m/%d/%Y %H:%M:%S", null_string="\\N",
    ),
    raw_schema="raw_tickit",
)


def land(s3_client, settings, dataset: Dataset, name: str, body: bytes):
    key = f"{dataset.landing_prefix(settings.landing_prefix)}{name}"
    s3_client.put_object(Bucket=settings.landing_bucket, Key=key, Body=body)
    [landing_object] = [
        o for o in list_landing_objects(s3_client, settings.landing_bucket, settings.landing_prefix) if o.key == key
    ]
    return landing_object


def test_a_pipe_delimited_headerless_gzip_csv_with_its_own_timestamp_format(settings, s3_client):
    body = gzip.compress(
        b"1|08/31/2020 23:05:09|152.00|Ann O'Neil\n"
        b'2|01/02/2020 03:04:05|7.50|"Bob | Co"\n'
        b"3|12/31/2020 00:00:00|\\N|\n"
    )
    landing_object = land(s3_client, settings, SALES, "2020/sales_1.txt.gz", body)

    with open_loader(settings) as loader:
        assert loader.row_count(SALES) == 0  # the raw table is created on first use
        outcome = loader.load(SALES, landing_object, s3_client, "run-1")
        assert (outcome.loaded, outcome.rows) == (True, 3)
        assert loader.ledger_summary() == [("tickit.sales", 1, 3)]
        assert loader.settled_files(SALES) == {landing_object.identity}

    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        rows = con.execute(
            "SELECT sale_id, sold_at, price, buyer, _source_key, _source_row FROM raw_tickit.sales ORDER BY 1"
        ).fetchall()
    assert rows == [
        (1, datetime(2020, 8, 31, 23, 5, 9), Decimal("152.00"), "Ann O'Neil", landing_object.key, 1),
        (2, datetime(2020, 1, 2, 3, 4, 5), Decimal("7.50"), "Bob | Co", landing_object.key, 2),
        (3, datetime(2020, 12, 31, 0, 0, 0), None, "", landing_object.key, 3),
    ]


def test_a_timestamp_not_in_the_declared_format_quarantines_the_file(settings, s3_client):
    body = gzip.compress(b"1|2020-08-31 23:05:09|152.00|Ann\n")
    landing_object = land(s3_client, settings, SALES, "iso.txt.gz", body)

    with open_loader(settings) as loader:
        outcome = loader.load(SALES, landing_object, s3_client, "run-1")
        [quarantined] = loader.quarantined_files()
        assert loader.row_count(SALES) == 0
    assert not outcome.loaded
    assert isinstance(quarantined, QuarantinedFile)
    assert (quarantined.dataset, quarantined.key) == ("tickit.sales", landing_object.key)
    assert "%m/%d/%Y %H:%M:%S" in quarantined.reason
    assert "analytics-landing-" not in quarantined.reason  # the key is named, not the temp copy


def test_a_headerless_file_with_an_extra_field_is_quarantined(settings, s3_client):
    body = b"1|08/31/2020 23:05:09|152.00|Ann|surprise\n"
    plain = replace(SALES, file_format=replace(SALES.file_format, null_string=""))
    landing_object = land(s3_client, settings, plain, "extra.csv", body)
    with open_loader(settings) as loader:
        outcome = loader.load(plain, landing_object, s3_client, "run-1")
    assert "Expected Number of Columns: 4 Found: 5" in outcome.quarantine_reason


def test_a_gzip_csv_with_a_header_is_read_by_its_suffix(settings, s3_client):
    defaults = replace(SALES, file_format=FileFormat())
    body = gzip.compress(b"buyer,price,sold_at,sale_id\nAnn,1.50,2020-08-31T23:05:09+02:00,7\n")
    landing_object = land(s3_client, settings, defaults, "a.csv.gz", body)
    with open_loader(settings) as loader:
        assert loader.load(defaults, landing_object, s3_client, "run-1").rows == 1
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        assert con.execute("SELECT sale_id, sold_at, price, buyer FROM raw_tickit.sales").fetchall() == [
            (7, datetime(2020, 8, 31, 21, 5, 9), Decimal("1.50"), "Ann")
        ]


def test_warehouses_are_chosen_by_type(tmp_path: Path):
    assert WAREHOUSE_TYPES == ("duckdb", "postgres", "redshift", "databricks", "spark")
    assert loader_class("duckdb") is DuckDBLoader
    assert loader_class("postgres").__name__ == "PostgresLoader"
    assert loader_class("redshift").__name__ == "RedshiftLoader"
    assert loader_class("databricks").__name__ == "DatabricksLoader"
    assert loader_class("spark").__name__ == "SparkLoader"
    with pytest.raises(ValueError, match="unknown warehouse type"):
        loader_class("oracle")
    settings = load_settings({"ANALYTICS_DUCKDB_PATH": str(tmp_path / "w.duckdb")})
    with open_loader(settings) as loader:
        assert isinstance(loader, DuckDBLoader)
        assert loader.ledger_summary() == [] and loader.quarantined_files() == []


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"ANALYTICS_ENV": "production", "ANALYTICS_WAREHOUSE": "redshift", "AWS_REGION": "eu-west-1",
         "ANALYTICS_DBT_DOCS_S3_PREFIX": "s3://docs/site", "ANALYTICS_LANDING_PREFIX": "/in/"},
        {"ANALYTICS_ENV": "branch", "ANALYTICS_S3_ENDPOINT_URL": "http://127.0.0.1:9",
         "ANALYTICS_WAREHOUSE": "databricks", "ANALYTICS_BRANCH": "feat/x"},
        {"ANALYTICS_ENV": "dev", "ANALYTICS_WAREHOUSE": "postgres", "ANALYTICS_DUCKDB_PATH": "rel/w.duckdb"},
    ],
)
def test_settings_round_trip_through_the_environment(environ):
    settings = load_settings(environ)
    assert load_settings(settings.to_environment()) == settings
    assert settings.dbt_target == settings.warehouse_type


def test_settings_reject_unknown_environments_and_warehouses():
    with pytest.raises(ValueError, match="ANALYTICS_ENV"):
        load_settings({"ANALYTICS_ENV": "staging"})
    with pytest.raises(ValueError, match="ANALYTICS_WAREHOUSE"):
        load_settings({"ANALYTICS_WAREHOUSE": "oracle"})
