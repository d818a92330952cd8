"""Environment -> settings: the one place that reads configuration.

Every variable has a working local default, so a fresh clone runs with none set. The README's
"Configuration" table documents each one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

REPO_ROOT = Path(__file__).resolve().parents[1]
LOCAL_STATE_DIR = REPO_ROOT / ".local"
DEFAULT_LOCAL_S3_ENDPOINT = "http://127.0.0.1:4566"
WAREHOUSE_POOL = "warehouse"
"""Every op that writes (or, on DuckDB, even reads) the warehouse runs in this Dagster pool.

DuckDB allows one process per database file; with the pool limited to 1 (see the generated
dagster.yaml), a sensor run and a manual run queue instead of failing on the file lock.
"""


@dataclass(frozen=True)
class Settings:
    environment: str
    s3_endpoint_url: str | None
    aws_region: str
    landing_bucket: str
    landing_prefix: str
    duckdb_path: Path
    dbt_target: str
    dbt_project_dir: Path
    dagster_home: Path
    partitions_start_date: str = "2026-10-01"  # the sample data's first day
    dbt_docs_dir: Path = LOCAL_STATE_DIR / "dbt_docs"
    dbt_docs_s3_prefix: str | None = None  # s3://bucket/prefix

    @property
    def is_local(self) -> bool:
        return self.environment == "local"

    @property
    def uses_loopback_s3(self) -> bool:
        host = urlparse(self.s3_endpoint_url or "").hostname or ""
        return host in {"127.0.0.1", "localhost", "::1"}

    def dbt_env(self) -> dict[str, str]:
        """Variables profiles.yml reads, with this object's values (absolute paths)."""
        return {
            "ANALYTICS_DUCKDB_PATH": str(self.duckdb_path),
            "ANALYTICS_DBT_TARGET": self.dbt_target,
        }


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    environment = env.get("ANALYTICS_ENV", "local").strip().lower() or "local"
    if environment not in {"local", "production"}:
        raise ValueError(f"ANALYTICS_ENV must be 'local' or 'production', got {environment!r}")

    endpoint_default = DEFAULT_LOCAL_S3_ENDPOINT if environment == "local" else ""
    endpoint = env.get("ANALYTICS_S3_ENDPOINT_URL", endpoint_default).strip() or None

    prefix = env.get("ANALYTICS_LANDING_PREFIX", "landing/").strip().strip("/") + "/"
    return Settings(
        environment=environment,
        s3_endpoint_url=endpoint,
        aws_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        landing_bucket=env.get("ANALYTICS_LANDING_BUCKET", "analytics-landing").strip(),
        landing_prefix=prefix,
        duckdb_path=Path(
            env.get("ANALYTICS_DUCKDB_PATH", str(LOCAL_STATE_DIR / "warehouse.duckdb"))
        ).resolve(),
        dbt_target=env.get("ANALYTICS_DBT_TARGET", "local").strip(),
        dbt_project_dir=Path(
            env.get("ANALYTICS_DBT_PROJECT_DIR", str(REPO_ROOT / "dbt_project"))
        ).resolve(),
        dagster_home=Path(
            env.get("DAGSTER_HOME", str(LOCAL_STATE_DIR / "dagster_home"))
        ).resolve(),
        partitions_start_date=_date_setting(
            env, "ANALYTICS_PARTITIONS_START_DATE", Settings.partitions_start_date
        ),
        dbt_docs_dir=Path(env.get("ANALYTICS_DBT_DOCS_DIR") or Settings.dbt_docs_dir).resolve(),
        dbt_docs_s3_prefix=_s3_prefix_setting(env, "ANALYTICS_DBT_DOCS_S3_PREFIX"),
    )


def _date_setting(env: Mapping[str, str], name: str, default: str) -> str:
    value = (env.get(name) or default).strip()
    try:
        date.fromisoformat(value)
    except ValueError as error:
        raise ValueError(f"{name} must be a date (YYYY-MM-DD), got {value!r}") from error
    return value


def _s3_prefix_setting(env: Mapping[str, str], name: str) -> str | None:
    value = (env.get(name) or "").strip()
    if not value:
        return None
    parsed = urlparse(value)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"{name} must look like s3://bucket/prefix, got {value!r}")
    return value


def export_dbt_env(settings: Settings) -> None:
    """dbt runs as a subprocess that reads profiles.yml from the environment; keep them in step."""
    os.environ.update(settings.dbt_env())
