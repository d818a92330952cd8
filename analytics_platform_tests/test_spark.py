"""The e-commerce and game domains on Apache Spark, the engine under Databricks (issue 10: "the
e-commerce gold tables built on Spark equal those built on DuckDB"; the game metrics equal a
plain-Python recomputation from the landed JSON "on DuckDB and on Spark").

The files the shared `built_platform` landed (and built to gold on DuckDB) are ingested again by the
Spark loader, through the platform's own ingestion assets (a Dagster materialization with
ANALYTICS_WAREHOUSE=spark), then every e-commerce model, seed and snapshot is built with dbt on the
`spark` target: Spark's parquet tables, the spark__ macros, insert_overwrite facts, the parquet
snapshot materialization and the Spark SQL twin of the Python RFM model all run for real. The game
events are registered, not copied: mirrored into the Spark warehouse's lake folder and read in place
through an external JSON table (partitioned by dt, hh) and the view joined with the ledger; the game
models (hourly insert_overwrite fact, snapshot, gold metrics) build in the same dbt invocation. One Spark
session serves the whole test session (conftest `spark_warehouse`): the loader and dbt (in process,
dbtRunner) both join it, so the suite starts one JVM.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

import dagster as dg
import duckdb
import pytest
import yaml

from analytics_platform.defs.landing.assets import build_ingestion_assets
from analytics_platform.lib.datasets import Column, Dataset, FileFormat
from analytics_platform.lib.objects import list_landing_objects
from analytics_platform.lib.warehouses.spark import SparkLoader, spark_session_config
from analytics_platform.settings import load_settings

from .helpers import (
    DBT_PROJECT,
    GAME_METRICS_SQL,
    BuiltPlatform,
    declared_datasets,
    landed_game_events,
    landing_resources,
    recomputed_daily_sales,
    recomputed_game_metric,
    run_dbt_in_process,
)

ECOMMERCE_GOLD = "+path:models/ecommerce/gold"
GAME_NODES = ["path:models/game", "snap_game_players"]
DOMAINS = ("ecommerce", "game")


@pytest.fixture(scope="module")
def spark_platform(built_platform: BuiltPlatform, spark_warehouse, tmp_path_factory):
    """built_platform's landed files ingested into Spark and built to gold there (once)."""
    spark, warehouse_dir = spark_warehouse
    settings = load_settings({
        **built_platform.settings.to_environment(),
        "ANALYTICS_WAREHOUSE": "spark",
        "ANALYTICS_SPARK_WAREHOUSE_DIR": str(warehouse_dir),
        "DAGSTER_HOME": str(tmp_path_factory.mktemp("spark_dagster_home")),
    })
    datasets = [d for d in declared_datasets() if d.domain in DOMAINS]
    ingestion = dg.materialize([build_ingestion_assets(tuple(datasets))], resources=landing_resources(settings))
    assert ingestion.success
    target_path = tmp_path_factory.mktemp("spark_dbt")
    run_dbt_in_process(  # both domains in one invocation: one project load, one run
        ["build", "--select", ECOMMERCE_GOLD, *GAME_NODES, "--exclude", "resource_type:test", "resource_type:unit_test"],
        target_path=target_path, env=settings.to_environment(),
    )
    manifest = json.loads((target_path / "manifest.json").read_text())
    return spark, settings, built_platform, manifest


def spark_rows(spark, table: str) -> list[tuple]:
    return sorted(tuple(row) for row in spark.table(table).collect())


def duckdb_rows(platform: BuiltPlatform, table: str) -> list[tuple]:
    with duckdb.connect(str(platform.settings.duckdb_path), read_only=True) as con:
        return sorted(con.execute(f"SELECT * FROM {table}").fetchall())


def test_every_ecommerce_gold_table_built_on_spark_equals_the_duckdb_build(spark_platform):
    spark, _, platform, manifest = spark_platform
    gold = sorted(
        f"{node['schema']}.{node['alias']}" for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["original_file_path"].startswith("models/ecommerce/gold/")
    )
    # Every gold model of the domain, the RFM segments (Python model on DuckDB, its SQL twin on
    # Spark) included; and the RFM scores themselves, row by row.
    assert {"gold.gold_daily_sales", "gold.gold_customer_segments", "gold.gold_sales_by_region_v1"} <= set(gold)
    for table in [*gold, "silver.silver_customer_rfm"]:
        on_spark, on_duckdb = spark_rows(spark, table), duckdb_rows(platform, table)
        assert on_duckdb, table
        assert on_spark == on_duckdb, table


def test_gold_daily_sales_on_spark_equals_a_plain_python_recomputation(spark_platform):
    spark, _, platform, _ = spark_platform
    assert spark_rows(spark, "gold.gold_daily_sales") == recomputed_daily_sales(platform.files)


def test_the_spark_loader_settles_each_file_once_as_every_engine_does(spark_platform):
    spark, settings, platform, _ = spark_platform
    malformed = {f.key for f in platform.files if f.malformed and f.domain in DOMAINS}
    with SparkLoader.from_config(settings) as loader:
        ledger = [row for row in loader.ledger_summary() if row[0].split(".")[0] in DOMAINS]
        quarantined = {q.key: q.reason for q in loader.quarantined_files() if q.dataset.split(".")[0] in DOMAINS}
    with duckdb.connect(str(platform.settings.duckdb_path), read_only=True) as con:
        on_duckdb = con.execute(
            "SELECT dataset, count(*), sum(rows) FROM raw._ingestion_ledger WHERE superseded_at IS NULL "
            "AND (dataset LIKE 'ecommerce.%' OR dataset LIKE 'game.%') GROUP BY 1 ORDER BY 1").fetchall()
        reasons = dict(con.execute("SELECT s3_key, reason FROM raw._ingestion_quarantine").fetchall())
    assert ledger == on_duckdb
    # The same files quarantined with the same reason, row and column (one implementation of the casts).
    assert set(quarantined) == malformed
    assert quarantined == {key: reasons[key] for key in malformed}
    assert "game.events" in {dataset for dataset, _, _ in ledger}
    for dataset, _, rows in ledger:
        assert spark.table(f"raw_{dataset}").count() == rows
    # A second ingestion run finds nothing new: exactly once, and the raw tables are unchanged.
    datasets = [d for d in declared_datasets() if d.domain in DOMAINS]
    again = dg.materialize([build_ingestion_assets(tuple(datasets))], resources=landing_resources(settings))
    assert again.success
    with SparkLoader.from_config(settings) as loader:
        assert [row for row in loader.ledger_summary() if row[0].split(".")[0] in DOMAINS] == ledger


def test_game_events_are_read_in_place_through_an_external_table(spark_platform):
    """Registered, not copied: raw_game.events is a view over the external JSON table, whose
    partitions are the landed hour folders and whose files are the landed bytes, mirrored."""
    spark, settings, platform, _ = spark_platform
    events = [f for f in platform.files if (f.domain, f.dataset) == ("game", "events") and not f.malformed]
    assert events and all(f.key.endswith(".json.gz") for f in events)
    assert spark.catalog.getTable("raw_game.events").tableType == "VIEW"
    assert spark.catalog.getTable("raw_game_lake.events").tableType == "EXTERNAL"
    folders = {f.key.split("game/events/", 1)[1].rsplit("/", 1)[0] for f in events}
    assert {row[0] for row in spark.sql("SHOW PARTITIONS raw_game_lake.events").collect()} == folders
    lake = settings.spark_warehouse_dir / "lake" / "game" / "events"
    for f in events:
        assert (lake / f.key.split("game/events/", 1)[1]).read_bytes() == f.body, f.key
    lines = landed_game_events(platform.files)
    assert spark.sql("SELECT count(*), count(DISTINCT _source_key) FROM raw_game.events").collect()[0] == (
        len(lines), len(events))


@pytest.mark.parametrize("metric", sorted(GAME_METRICS_SQL))
def test_game_metrics_on_spark_equal_a_plain_python_recomputation(spark_platform, metric):
    """DAU, level completion rate, IAP revenue per day and currency, sentiment per day, from the
    landed JSON (duplicates, late events and unknown types included) and from Spark's gold."""
    spark, _, platform, _ = spark_platform
    lines = landed_game_events(platform.files)
    ids = [event["event_id"] for _, event in lines]
    assert len(ids) > len(set(ids)), "the landed events carry no duplicates"
    hour = "%Y-%m-%d/hh=%H"  # as the folders name it
    late = [e for key, e in lines
            if datetime.fromtimestamp(e["event_timestamp"], timezone.utc).strftime(hour) != key.split("dt=")[1][:16]]
    assert late, "no event landed in a later hour's folder"
    expected = recomputed_game_metric(platform.files, metric)
    assert expected, metric
    assert sorted(tuple(row) for row in spark.sql(GAME_METRICS_SQL[metric]).collect()) == expected


def test_the_dbt_profile_opens_the_session_the_loader_opens(tmp_path):
    """profiles.yml's `spark` output and the loader's spark_session_config agree, so dbt and the
    loader share one warehouse and metastore."""
    output = yaml.safe_load((DBT_PROJECT / "profiles.yml").read_text())["analytics_platform"]["outputs"]["spark"]
    assert output["method"] == "session"
    placeholder = "{{ env_var('ANALYTICS_SPARK_WAREHOUSE_DIR', '../.local/spark') }}"
    rendered = {name: str(value).replace(placeholder, str(tmp_path.resolve()))
                for name, value in output["server_side_parameters"].items()}
    assert rendered == spark_session_config(tmp_path)


def test_a_redelivered_file_replaces_its_rows_and_supersedes_its_ledger_row(spark_platform, s3_client, settings):
    """Parquet has no DELETE or transactions: the key's partition is overwritten, the old ledger row
    kept and marked superseded; a new version without rows drops the key's rows."""
    spark, spark_settings, _, _ = spark_platform
    items = Dataset(
        domain="sparktest", name="items", description="", raw_schema="raw_sparktest",
        columns=(Column("item_id", "VARCHAR", "", required=True), Column("price", "DECIMAL(12,2)", "")),
        file_format=FileFormat(),
    )
    key = f"{settings.landing_prefix}sparktest/items/items.csv"

    def deliver(body: str) -> None:
        s3_client.put_object(Bucket=settings.landing_bucket, Key=key, Body=body.encode())
        [landed] = list_landing_objects(s3_client, settings.landing_bucket, key)
        with SparkLoader.from_config(spark_settings) as loader:
            [outcome] = [o for batch in loader.load_in_batches(items, [landed], s3_client, "run") for o in batch]
            assert outcome.loaded, outcome

    def raw_rows() -> list[tuple]:
        return sorted(tuple(r) for r in spark.sql("SELECT item_id, price, _source_row FROM raw_sparktest.items").collect())

    def ledger() -> list[tuple]:
        return sorted((r.rows, r.superseded_at is None) for r in spark.sql(
            "SELECT rows, superseded_at FROM raw._ingestion_ledger WHERE dataset = 'sparktest.items'").collect())

    deliver("item_id,price\nA,1.50\nB,2.25\n")
    assert raw_rows() == [("A", Decimal("1.50"), 1), ("B", Decimal("2.25"), 2)]
    deliver("item_id,price\nC,3.00\n")
    assert raw_rows() == [("C", Decimal("3.00"), 1)]
    assert ledger() == [(1, True), (2, False)]
    deliver("item_id,price\n")
    assert raw_rows() == []
    assert ledger() == [(0, True), (1, False), (2, False)]
