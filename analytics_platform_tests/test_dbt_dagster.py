"""The dbt project in Dagster: versioned models and dbt tests (business rules included) as asset
checks, the main job, and the docs site asset. One small platform (moto S3 + a DuckDB file) is
built once for the module by the `landing_to_gold` job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import dagster as dg
import duckdb
import pytest

from analytics_platform.code_location import build_definitions
from analytics_platform.landing.resources import build_s3_resource
from analytics_platform.sample_data.generator import (
    SampleSpec,
    generate_landing_files,
    upload_landing_files,
)
from analytics_platform.settings import WAREHOUSE_POOL, Settings
from analytics_platform.transform.docs import DOCS_ASSET_KEY, DocsDestination, publish

from .conftest import make_settings, settings_environment

SPEC = SampleSpec(days=4, orders_per_day=40, products=20, users=50, reviews_per_day=15)
FACTS = {dg.AssetKey("silver_orders"), dg.AssetKey("silver_reviews")}


@dataclass
class Platform:
    settings: Settings
    definitions: dg.Definitions
    result: dg.ExecuteInProcessResult


@pytest.fixture(scope="module")
def platform(tmp_path_factory, s3_endpoint, dbt_manifest):
    settings = make_settings(tmp_path_factory.mktemp("dbt_dagster"), s3_endpoint)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in settings_environment(settings).items():
            patch.setenv(name, value)
        client = build_s3_resource(settings).get_client()
        client.create_bucket(Bucket=settings.landing_bucket)
        upload_landing_files(client, settings.landing_bucket, generate_landing_files(SPEC, prefix=settings.landing_prefix))
        definitions = build_definitions(settings)
        result = definitions.resolve_job_def("landing_to_gold").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
        )
        yield Platform(settings, definitions, result)


def query(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_versions_checks_and_the_docs_asset_in_the_graph(platform):
    graph = platform.definitions.resolve_asset_graph()
    # The latest version of a versioned model keeps the bare name; v1 is suffixed like its relation.
    assert dg.AssetKey("gold_sales_by_region_v1") in graph.get(dg.AssetKey("gold_sales_by_region")).child_keys

    checks = {check.asset_key: set() for check in graph.asset_check_keys}
    for check in graph.asset_check_keys:
        checks[check.asset_key].add(check.name)
    # Singular business-rule tests land on the asset named in their meta.dagster.ref.
    assert "assert_gold_daily_sales_reconciles_with_silver_orders" in checks[dg.AssetKey("gold_daily_sales")]
    assert "assert_sales_by_region_adds_up_to_daily_sales" in checks[dg.AssetKey("gold_sales_by_region")]
    assert any(name.startswith("relationships_silver_orders_product_id") for name in checks[dg.AssetKey("silver_orders")])

    docs = graph.get(DOCS_ASSET_KEY)
    assert docs.group_name == "docs" and docs.assets_def.node_def.pools == {WAREHOUSE_POOL}


def test_the_main_job_builds_everything_but_the_docs_with_every_check_passing(platform):
    result = platform.result
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert [e.asset_check_key for e in evaluations if not e.passed] == []
    checked = {e.asset_key for e in evaluations}
    assert FACTS | {dg.AssetKey("gold_daily_sales"), dg.AssetKey("gold_sales_by_region")} <= checked
    job = platform.definitions.resolve_job_def("landing_to_gold")
    assert DOCS_ASSET_KEY not in set(job.asset_layer.executable_asset_keys)
    [(days,)] = query(platform.settings, "SELECT count(*) FROM gold.gold_daily_sales")
    assert days == SPEC.days
    [(orders, bronze)] = query(
        platform.settings,
        "SELECT (SELECT count(*) FROM silver.silver_orders), (SELECT count(*) FROM bronze.bronze_orders)",
    )
    assert orders == bronze


def test_the_docs_site_is_generated_and_published(platform, tmp_path, monkeypatch):
    for name, value in settings_environment(platform.settings).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ANALYTICS_DBT_DOCS_DIR", str(tmp_path / "site"))
    job = platform.definitions.resolve_job_def("dbt_docs")
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
