"""Shared fixtures: a real S3 API (moto server on loopback) and a real DuckDB file per test."""

from __future__ import annotations

import uuid
from pathlib import Path

import dagster as dg
import pytest

from analytics_platform.defs.landing.assets import build_ingestion_assets
from analytics_platform.defs.landing.resources import (
    LandingZone,
    WarehouseResource,
    build_s3_resource,
)
from analytics_platform.lib.datasets import DATASETS
from analytics_platform.local.s3_server import local_s3_server
from analytics_platform.settings import Settings, load_settings

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    with local_s3_server("http://127.0.0.1:0") as endpoint:
        yield endpoint


def make_settings(directory: Path, s3_endpoint: str) -> Settings:
    """Settings for one isolated platform: its own bucket, warehouse file and Dagster home."""
    environment = {
        "ANALYTICS_ENV": "local",
        "ANALYTICS_S3_ENDPOINT_URL": s3_endpoint,
        "ANALYTICS_LANDING_BUCKET": f"landing-{uuid.uuid4().hex[:12]}",
        "ANALYTICS_DUCKDB_PATH": str(directory / "warehouse.duckdb"),
        "DAGSTER_HOME": str(directory / "dagster_home"),
    }
    return load_settings(environment)


def settings_environment(settings: Settings) -> dict[str, str]:
    """The environment variables that reproduce `settings` in a subprocess."""
    return {
        "ANALYTICS_ENV": settings.environment,
        "ANALYTICS_S3_ENDPOINT_URL": settings.s3_endpoint_url or "",
        "ANALYTICS_LANDING_BUCKET": settings.landing_bucket,
        "ANALYTICS_DUCKDB_PATH": str(settings.duckdb_path),
        "DAGSTER_HOME": str(settings.dagster_home),
    }


@pytest.fixture
def settings(tmp_path: Path, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    settings = make_settings(tmp_path, s3_endpoint)
    for name, value in settings_environment(settings).items():
        monkeypatch.setenv(name, value)
    return settings


@pytest.fixture
def s3_client(settings: Settings):
    client = build_s3_resource(settings).get_client()
    client.create_bucket(Bucket=settings.landing_bucket)
    return client


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    """dbt parse once per session: it needs no warehouse, so every test can share it."""
    from analytics_platform.lib.dbt_project import prepare_manifest

    with pytest.MonkeyPatch.context() as patch:
        # prepare_manifest exports the dbt variables; keep them from leaking into other tests.
        for name in ("ANALYTICS_DUCKDB_PATH", "ANALYTICS_DBT_TARGET"):
            patch.delenv(name, raising=False)
        return prepare_manifest(load_settings())


def landing_resources(settings: Settings) -> dict:
    """The resources the ingestion assets need, for `settings`' bucket and warehouse."""
    return {
        "s3": build_s3_resource(settings),
        "landing_zone": LandingZone(bucket=settings.landing_bucket, prefix=settings.landing_prefix),
        "warehouse": WarehouseResource(target="local", duckdb_path=str(settings.duckdb_path)),
    }


def run_ingestion(settings: Settings, raise_on_error: bool = True) -> dg.ExecuteInProcessResult:
    """One run of the ingestion assets (every dataset) on an ephemeral instance."""
    return dg.materialize(
        [build_ingestion_assets(DATASETS)], resources=landing_resources(settings), raise_on_error=raise_on_error
    )
