"""The dbt project in Dagster: daily partitions for the incremental facts (a date range backfilled
from the CLI in one run), the unpartitioned rest, versioned models, exposures downstream of gold,
dbt tests (business rules included) as asset checks, and the docs site asset. The platform
(moto S3 + a DuckDB file) built once per session by the `landing_to_gold` job, without a
partition, is shared with test_end_to_end.py.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from analytics_platform.cli import DAGSTER_YAML
from analytics_platform.defs import build_definitions
from analytics_platform.defs.dbt.assets import incremental_dbt_args
from analytics_platform.defs.dbt.docs import DOCS_ASSET_KEY, DocsDestination, publish
from analytics_platform.defs.landing.resources import build_s3_resource
from analytics_platform.lib.partitions import daily_partitions
from analytics_platform.settings import WAREHOUSE_POOL, Settings

from .helpers import REPO_ROOT, BuiltPlatform

FACTS = {dg.AssetKey("silver_orders"), dg.AssetKey("silver_reviews")}


@pytest.fixture
def platform(built_platform: BuiltPlatform, monkeypatch) -> BuiltPlatform:
    for name, value in built_platform.settings.to_environment().items():
        monkeypatch.setenv(name, value)  # DAGSTER_HOME etc. for instances opened from config
    return built_platform


def query(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    (settings.dagster_home / "dagster.yaml").write_text(DAGSTER_YAML)
    completed = subprocess.run(
        [str(Path(sys.executable).with_name(args[0])), *args[1:]],
        check=False, cwd=REPO_ROOT, env={**os.environ, **settings.to_environment()},
        capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed


@pytest.mark.parametrize(
    ("context_args", "window"),
    [
        ({}, None),  # no partition: the incremental catch-up run
        ({"partition_key": "2026-10-03"}, ("2026-10-03 00:00:00", "2026-10-04 00:00:00")),
        (
            {"partition_key_range": dg.PartitionKeyRange("2026-10-02", "2026-10-05")},
            ("2026-10-02 00:00:00", "2026-10-06 00:00:00"),
        ),
    ],
)
def test_partitions_become_one_half_open_dbt_window(context_args, window):
    args = incremental_dbt_args(dg.build_asset_context(**context_args), daily_partitions("2026-10-01"))
    if window is None:
        assert args == ["build"]
    else:
        assert args[:2] == ["build", "--vars"]
        assert json.loads(args[2]) == {"window_start": window[0], "window_end": window[1]}


def test_only_the_incremental_facts_are_partitioned_daily_with_single_run_backfills(platform):
    graph = platform.definitions.resolve_asset_graph()
    partitioned = {key for key in graph.get_all_asset_keys() if graph.get(key).partitions_def is not None}
    assert partitioned == FACTS
    for key in FACTS:
        node = graph.get(key)
        assert isinstance(node.partitions_def, dg.DailyPartitionsDefinition)
        assert node.partitions_def.get_first_partition_key() == "2026-10-01"  # SampleSpec().start
        assert node.partitions_def.timezone == "UTC"
        assert node.backfill_policy == dg.BackfillPolicy.single_run()
        assert node.tags["materialized"] == "incremental"

    # The main job keeps every asset but the docs site: Dagster runs unpartitioned assets
    # and assets of one partitions definition together.
    job = platform.definitions.resolve_job_def("landing_to_gold")
    in_job = set(job.asset_layer.executable_asset_keys)
    assert FACTS | {dg.AssetKey(["raw", "ecommerce", "orders"]), dg.AssetKey("gold_daily_sales")} <= in_job
    assert DOCS_ASSET_KEY not in in_job
    daily = platform.definitions.resolve_job_def("dbt_incremental_daily")
    assert set(daily.asset_layer.executable_asset_keys) >= FACTS | {dg.AssetKey("gold_daily_sales")}
    assert dg.AssetKey("bronze_orders") not in set(daily.asset_layer.executable_asset_keys)


def test_versions_exposures_checks_and_the_docs_asset_in_the_graph(platform):
    graph = platform.definitions.resolve_asset_graph()
    # The latest version of a versioned model keeps the bare name; v1 is suffixed like its relation.
    assert dg.AssetKey("gold_sales_by_region_v1") in graph.get(dg.AssetKey("gold_sales_by_region")).child_keys

    sales = graph.get(dg.AssetKey(["exposures", "sales_overview"]))
    assert not sales.is_executable and sales.group_name == "exposures"
    assert set(sales.parent_keys) == {dg.AssetKey("gold_daily_sales"), dg.AssetKey("gold_sales_by_region")}
    finance = graph.get(dg.AssetKey(["exposures", "finance_weekly_report"]))
    assert set(finance.parent_keys) == {dg.AssetKey("gold_sales_by_region_v1")}

    checks = {check.asset_key: set() for check in graph.asset_check_keys}
    for check in graph.asset_check_keys:
        checks[check.asset_key].add(check.name)
    # Singular business-rule tests land on the asset named in their meta.dagster.ref.
    assert "assert_gold_daily_sales_reconciles_with_silver_orders" in checks[dg.AssetKey("gold_daily_sales")]
    assert "assert_sales_by_region_adds_up_to_daily_sales" in checks[dg.AssetKey("gold_sales_by_region")]
    assert any(name.startswith("relationships_silver_orders_product_id") for name in checks[dg.AssetKey("silver_orders")])

    docs = graph.get(DOCS_ASSET_KEY)
    assert docs.group_name == "docs" and docs.assets_def.node_def.pools == {WAREHOUSE_POOL}


def test_the_main_job_builds_the_facts_without_a_partition(platform):
    result = platform.result
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert [e.asset_check_key for e in evaluations if not e.passed] == []
    checked = {e.asset_key for e in evaluations}
    assert FACTS | {dg.AssetKey("gold_daily_sales"), dg.AssetKey("gold_sales_by_region")} <= checked
    partitions = {event.asset_key: event.partition for event in result.get_asset_materialization_events()}
    assert partitions[dg.AssetKey("silver_orders")] is None  # a catch-up run, no partition
    [(days,)] = query(platform.settings, "SELECT count(*) FROM gold.gold_daily_sales")
    # One row per delivery day of a loadable orders file (a malformed file is quarantined whole).
    order_days = {
        f.key.split("/")[-2] for f in platform.files
        if (f.domain, f.dataset) == ("ecommerce", "orders") and not f.malformed
    }
    assert days == len(order_days)
    [(orders, bronze)] = query(
        platform.settings,
        "SELECT (SELECT count(*) FROM silver.silver_orders), (SELECT count(*) FROM bronze.bronze_orders)",
    )
    assert orders == bronze


def test_a_date_range_is_backfilled_from_the_cli_in_one_dbt_run(platform):
    settings = platform.settings
    before = {
        table: query(settings, f"SELECT * FROM silver.{table} ORDER BY ALL")
        for table in ("silver_orders", "silver_reviews")
    }
    with duckdb.connect(str(settings.duckdb_path)) as con:
        con.execute("DELETE FROM silver.silver_orders WHERE order_date BETWEEN '2026-10-02' AND '2026-10-03'")
        con.execute("DELETE FROM silver.silver_reviews WHERE review_date BETWEEN '2026-10-02' AND '2026-10-03'")

    run_cli(
        settings, "dg", "launch", "--assets", "tag:materialized=incremental",
        "--partition-range", "2026-10-02...2026-10-03",
    )

    for table, rows in before.items():
        assert query(settings, f"SELECT * FROM silver.{table} ORDER BY ALL") == rows, table
    # One dbt invocation, with the half-open window of the two days.
    [(command, selector, variables, status)] = query(
        settings,
        "SELECT command, selector, vars, status FROM audit.dbt_invocations "
        # (test_end_to_end's `+key:` launch on the shared warehouse passes a window of its own)
        "WHERE vars LIKE '%\"window_start\": \"2026-10-02 00:00:00\"%' ORDER BY started_at",
    )
    assert (command, status) == ("build", "success")
    assert json.loads(variables) == {"window_start": "2026-10-02 00:00:00", "window_end": "2026-10-04 00:00:00"}
    assert selector == "config.materialized:incremental"  # the partitioned facts, nothing else
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        # The shared instance also holds test_end_to_end's CLI runs: this test's run is the
        # partitioned one.
        [run] = [r for r in instance.get_runs() if "dagster/asset_partition_range_start" in r.tags]
        assert run.tags["dagster/asset_partition_range_start"] == "2026-10-02"
        assert run.tags["dagster/asset_partition_range_end"] == "2026-10-03"
        partitions = {
            record.partition_key
            for record in instance.fetch_materializations(dg.AssetKey("silver_orders"), limit=10).records
            if record.run_id == run.run_id
        }
    assert partitions == {"2026-10-02", "2026-10-03"}


def test_the_docs_site_is_generated_and_published(platform, tmp_path, monkeypatch):
    for name, value in platform.settings.to_environment().items():
        monkeypatch.setenv(name, value)
    settings = dataclasses.replace(platform.settings, dbt_docs_dir=tmp_path / "site")
    job = build_definitions(settings).resolve_job_def("dbt_docs")
    assert job.execute_in_process(instance=dg.DagsterInstance.ephemeral()).success

    site = tmp_path / "site"
    assert {p.name for p in site.iterdir()} == {"index.html", "static_index.html", "manifest.json", "catalog.json"}
    catalog = json.loads((site / "catalog.json").read_text())
    assert "model.analytics_platform.gold_daily_sales" in catalog["nodes"]
    manifest = json.loads((site / "manifest.json").read_text())
    assert manifest["nodes"]["model.analytics_platform.gold_daily_sales"]["description"]

    # The same files to an S3 prefix (moto here).
    s3 = build_s3_resource(platform.settings)
    published = publish(site, DocsDestination(bucket=platform.settings.landing_bucket, prefix="dbt-docs/"), s3)
    assert len(published) == 4
    head = s3.get_client().head_object(Bucket=platform.settings.landing_bucket, Key="dbt-docs/static_index.html")
    assert head["ContentType"] == "text/html"
