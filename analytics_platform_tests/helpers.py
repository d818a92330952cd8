"""Helpers the tests share (fixtures live in conftest.py and use these). Tests import from here,
never from another test module or from benchmarks/."""

from __future__ import annotations

import functools
import json
import os
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from analytics_platform.defs.landing.assets import build_ingestion_assets
from analytics_platform.defs.landing.resources import (
    LandingZone,
    WarehouseResource,
    build_s3_resource,
)
from analytics_platform.lib.datasets import Dataset, datasets_from_manifest
from analytics_platform.lib.warehouses.duckdb import DuckDBLoader
from analytics_platform.local.sample_data import (
    SampleSpec,
    generate_landing_files,
    upload_landing_files,
)
from analytics_platform.settings import DBT_VARIABLES, Settings, load_settings

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT = REPO_ROOT / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")


def run_dbt(
    args: list[str],
    *,
    target_path: Path,
    warehouse: Path | None = None,
    project_dir: Path = DBT_PROJECT,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess:
    """`dbt <args>` against `project_dir`, with its own target and log folder."""
    environment = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "ANALYTICS_ENV": "local",
        "ANALYTICS_WAREHOUSE": "duckdb",
        "ANALYTICS_DUCKDB_PATH": str(warehouse or target_path / "unused.duckdb"),
        **(env or {}),
    }
    completed = subprocess.run(
        [
            str(DBT), *args,
            "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
            "--target-path", str(target_path), "--log-path", str(target_path / "logs"),
        ],
        env=environment, capture_output=True, text=True, timeout=300, check=False,
    )
    if check:
        assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    return completed


def run_results(target_path: Path) -> dict[str, dict]:
    """unique_id -> result of the last dbt invocation that wrote run_results.json there."""
    results = json.loads((target_path / "run_results.json").read_text())["results"]
    return {result["unique_id"]: result for result in results}


def create_raw_tables(warehouse: Path) -> None:
    """The raw schema exactly as the loader creates it (docs/CONTRACTS.md), empty."""
    with DuckDBLoader(warehouse) as loader:
        for dataset in declared_datasets():
            loader.ensure_raw_table(dataset)


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


@functools.cache
def prepared_manifest() -> Path:
    """dbt parse once per session: it needs no warehouse, so every test can share it."""
    from analytics_platform.lib.dbt_project import prepare_manifest

    with pytest.MonkeyPatch.context() as patch:
        # prepare_manifest exports the dbt variables; keep them from leaking into other tests.
        for name in DBT_VARIABLES:
            patch.delenv(name, raising=False)
        return prepare_manifest(load_settings())


@functools.cache
def declared_datasets() -> tuple[Dataset, ...]:
    """The landing datasets the repo's dbt project declares (read from its parsed manifest)."""
    return datasets_from_manifest(json.loads(prepared_manifest().read_text()))


def dataset_named(name: str, domain: str = "ecommerce") -> Dataset:
    return next(d for d in declared_datasets() if (d.domain, d.name) == (domain, name))


def landing_resources(settings: Settings) -> dict:
    """The resources the ingestion assets need, for `settings`' bucket and warehouse."""
    return {
        "s3": build_s3_resource(settings),
        "landing_zone": LandingZone(bucket=settings.landing_bucket, prefix=settings.landing_prefix),
        "warehouse": WarehouseResource.from_settings(settings),
    }


def run_ingestion(settings: Settings, raise_on_error: bool = True) -> dg.ExecuteInProcessResult:
    """One run of the ingestion assets (every dataset) on an ephemeral instance."""
    return dg.materialize(
        [build_ingestion_assets(declared_datasets())], resources=landing_resources(settings), raise_on_error=raise_on_error
    )


# --- PostgreSQL (the server itself is a session fixture in conftest.py) ---

# The newest PostgreSQL server Debian installed (`apt-get install postgresql`; .ci/run does it).
PG_BIN = max(Path("/usr/lib/postgresql").glob("*/bin"), default=Path("/usr/lib/postgresql/15/bin"),
             key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0)


def as_postgres(*command: str) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the `postgres` user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_database(server: dict[str, str], name: str) -> dict[str, str]:
    """A new, empty database on the session's server; the POSTGRES_* variables that reach it."""
    import psycopg2  # installed with dbt-postgres

    con = psycopg2.connect(host=server["POSTGRES_HOST"], port=int(server["POSTGRES_PORT"]),
                           user="postgres", dbname="postgres")
    con.autocommit = True  # CREATE DATABASE cannot run in a transaction
    with con.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        cursor.execute(f"CREATE DATABASE {name}")
    con.close()
    return {**server, "POSTGRES_DATABASE": name}


def write_small_dbt_project(path: Path) -> Path:
    """A dbt project of one landing dataset (domain `shop`, table `items`) and two table models,
    laid out like the real one (models/<domain>/<layer>/) but without incremental models."""
    files = {
        "dbt_project.yml": """\
name: small
version: "1.0.0"
config-version: 2
profile: small
models:
  small:
    +materialized: table
""",
        "profiles.yml": """\
small:
  target: duckdb
  outputs:
    duckdb:
      type: duckdb
      path: "{{ env_var('ANALYTICS_DUCKDB_PATH') }}"
      threads: 1
""",
        "models/shop/bronze/_bronze__sources.yml": """\
version: 2
sources:
  - name: shop
    schema: raw_shop
    config:
      meta:
        landing: {}
    tables:
      - name: items
        columns:
          - name: item_id
            data_type: varchar
            data_tests: [not_null]
""",
        "models/shop/bronze/bronze_items.sql": "select item_id from {{ source('shop', 'items') }}\n",
        "models/shop/gold/gold_item_count.sql": "select count(*) as items from {{ ref('bronze_items') }}\n",
    }
    for relative, text in files.items():
        (path / relative).parent.mkdir(parents=True, exist_ok=True)
        (path / relative).write_text(text)
    return path


@dataclass
class BuiltPlatform:
    """One platform (moto bucket, DuckDB file, Dagster home) built by `landing_to_gold` from the
    sample data, malformed files included. Built once per session (conftest `built_platform`):
    the tests that share it only read it or rebuild parts of it from the same landed files,
    which leaves every table as it was."""

    settings: Settings
    files: list
    result: dg.ExecuteInProcessResult
    definitions: dg.Definitions

    @property
    def asset_keys(self) -> set[dg.AssetKey]:
        return self.definitions.resolve_asset_graph().get_all_asset_keys()


PLATFORM_SPEC = SampleSpec(include_malformed=True)


def build_platform(directory: Path, s3_endpoint: str) -> BuiltPlatform:
    from analytics_platform.defs import build_definitions

    settings = make_settings(directory, s3_endpoint)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in settings.to_environment().items():
            patch.setenv(name, value)
        files = generate_landing_files(PLATFORM_SPEC, prefix=settings.landing_prefix)
        upload_landing_files(build_s3_resource(settings).get_client(), settings.landing_bucket, files)
        definitions = build_definitions(settings)
        result = definitions.resolve_job_def("landing_to_gold").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
        )
    return BuiltPlatform(settings, files, result, definitions)
