"""Environment -> settings: the one place that reads configuration.

Every variable has a working local default, so a fresh clone runs with none set. The README's
"Configuration" table documents each one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

REPO_ROOT = Path(__file__).resolve().parents[1]
LOCAL_STATE_DIR = REPO_ROOT / ".local"
DEFAULT_LOCAL_S3_ENDPOINT = "http://127.0.0.1:4566"
ENVIRONMENTS = ("local", "dev", "branch", "production")
WAREHOUSE_TYPES = ("duckdb", "postgres", "redshift", "databricks", "spark")
"""Each also names the dbt target (dbt_project/profiles.yml) of the same warehouse."""
POSTGRES_VARIABLES = ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_USER", "POSTGRES_PASSWORD",
                      "POSTGRES_DATABASE", "POSTGRES_SCHEMA")
REDSHIFT_VARIABLES = ("REDSHIFT_HOST", "REDSHIFT_PORT", "REDSHIFT_USER", "REDSHIFT_PASSWORD",
                      "REDSHIFT_DATABASE", "REDSHIFT_SCHEMA")
# Not DATABRICKS_TOKEN: exported empty, it would make dbt-databricks start a browser OAuth login
# (that waits on the network); dbt reads the token from the environment when one is set.
DATABRICKS_VARIABLES = ("DATABRICKS_HOST", "DATABRICKS_HTTP_PATH", "DATABRICKS_CATALOG", "DATABRICKS_SCHEMA")
# Where external datasets lie and how Redshift Spectrum reads them (macros/external/).
EXTERNAL_TABLE_VARIABLES = ("ANALYTICS_LANDING_BUCKET", "ANALYTICS_LANDING_PREFIX", "AWS_REGION",
                            "ANALYTICS_REDSHIFT_IAM_ROLE")
DBT_VARIABLES = ("ANALYTICS_ENV", "ANALYTICS_BRANCH", "ANALYTICS_WAREHOUSE", "ANALYTICS_DUCKDB_PATH",
                 "ANALYTICS_DUCKDB_MEMORY_LIMIT", "ANALYTICS_SPARK_WAREHOUSE_DIR",
                 *POSTGRES_VARIABLES, *REDSHIFT_VARIABLES, *DATABRICKS_VARIABLES, *EXTERNAL_TABLE_VARIABLES)
"""The variables dbt_project/profiles.yml and its macros read."""
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
    warehouse_type: str
    dbt_project_dir: Path
    dagster_home: Path
    dbt_docs_dir: Path = LOCAL_STATE_DIR / "dbt_docs"
    dbt_docs_s3_prefix: str | None = None  # s3://bucket/prefix
    # PostgreSQL (ANALYTICS_WAREHOUSE=postgres; also dbt's `postgres` target, profiles.yml).
    postgres_host: str = "localhost"
    postgres_port: int = 5432
    postgres_user: str = "postgres"
    postgres_password: str = field(default="", repr=False)  # never printed
    postgres_database: str = "analytics"
    postgres_schema: str = "analytics"
    # Redshift (ANALYTICS_WAREHOUSE=redshift): the cluster, and what its COPY needs: an IAM role
    # the cluster assumes to read the landing bucket (ANALYTICS_REDSHIFT_IAM_ROLE); region = AWS_REGION.
    redshift_host: str = "localhost"
    redshift_port: int = 5439
    redshift_user: str = "unset"
    redshift_password: str = field(default="", repr=False)  # never printed
    redshift_database: str = "dev"
    redshift_schema: str = "analytics"
    redshift_iam_role: str = ""
    # Databricks (ANALYTICS_WAREHOUSE=databricks; also dbt's `databricks` target, profiles.yml): a
    # SQL warehouse, and the Unity Catalog catalog holding the raw schemas and the ledger.
    databricks_host: str = "example.cloud.databricks.com"
    databricks_http_path: str = "/sql/1.0/warehouses/unset"
    databricks_token: str = field(default="", repr=False)  # never printed
    databricks_catalog: str = "main"
    databricks_schema: str = "analytics"
    # ANALYTICS_ENV=branch: the pull request (number or branch name) whose schemas this is,
    # `pr_<branch>_<layer>` (dbt_project/macros/environments/branch_schemas.sql).
    branch: str = ""
    # Where production publishes its dbt manifest for slim CI (`publish-manifest`, `ci`):
    # s3://bucket/prefix -> s3://bucket/prefix/manifest.json (lib/slim_ci.py).
    dbt_state_s3_prefix: str | None = None
    # Where the published docs site is browsed: each dbt asset links to its page there.
    dbt_docs_url: str = "http://127.0.0.1:8080/"  # `python -m http.server 8080 --directory .local/dbt_docs`
    # The SQS queue fed by the landing bucket's ObjectCreated notifications: when set, the landing
    # sensor learns of files from it (defs/landing/sqs_sensor.py) instead of listing every tick.
    landing_queue_url: str | None = None
    # Where failed runs and failing blocking checks are posted as JSON (defs/quality/alerts.py);
    # None: no alert sensor.
    alert_webhook_url: str | None = field(default=None, repr=False)  # may embed a token
    # DuckDB: where external datasets' files are mirrored and read in place (docs/GAME.md);
    # default: `lake/` beside the warehouse file.
    lake_dir: Path = LOCAL_STATE_DIR / "lake"
    # DuckDB: memory dbt's DuckDB may use before it spills to `<warehouse>.tmp` (profiles.yml).
    # DuckDB's own default is 80% of RAM, so a run's peak grew with the data (BENCHMARKS.md: 2.6x
    # from 10M to 30M orders); a fixed budget bounds it. The landing loader has its own, smaller one.
    duckdb_memory_limit: str = "4GB"
    # Spark (ANALYTICS_WAREHOUSE=spark; dbt's `spark` target): the local folder of its parquet
    # tables (`warehouse/`) and embedded metastore (`metastore_db/`), docs/SPARK_DATABRICKS.md.
    spark_warehouse_dir: Path = LOCAL_STATE_DIR / "spark"

    @property
    def is_local(self) -> bool:
        return self.environment == "local"

    @property
    def uses_loopback_s3(self) -> bool:
        host = urlparse(self.s3_endpoint_url or "").hostname or ""
        return host in {"127.0.0.1", "localhost", "::1"}

    @property
    def dbt_target(self) -> str:
        """The dbt target of the warehouse: profiles.yml names each output by warehouse type."""
        return self.warehouse_type

    def to_environment(self) -> dict[str, str]:
        """The environment variables that reproduce these settings: `load_settings`' inverse
        (for a subprocess: dbt, `dagster dev`, a benchmark child)."""
        return {
            "ANALYTICS_ENV": self.environment,
            "ANALYTICS_S3_ENDPOINT_URL": self.s3_endpoint_url or "",
            "AWS_REGION": self.aws_region,
            "ANALYTICS_LANDING_BUCKET": self.landing_bucket,
            "ANALYTICS_LANDING_PREFIX": self.landing_prefix,
            "ANALYTICS_DUCKDB_PATH": str(self.duckdb_path),
            "ANALYTICS_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
            "ANALYTICS_WAREHOUSE": self.warehouse_type,
            "ANALYTICS_DBT_PROJECT_DIR": str(self.dbt_project_dir),
            "DAGSTER_HOME": str(self.dagster_home),
            "ANALYTICS_DBT_DOCS_DIR": str(self.dbt_docs_dir),
            "ANALYTICS_DBT_DOCS_S3_PREFIX": self.dbt_docs_s3_prefix or "",
            "POSTGRES_HOST": self.postgres_host,
            "POSTGRES_PORT": str(self.postgres_port),
            "POSTGRES_USER": self.postgres_user,
            "POSTGRES_PASSWORD": self.postgres_password,
            "POSTGRES_DATABASE": self.postgres_database,
            "POSTGRES_SCHEMA": self.postgres_schema,
            "REDSHIFT_HOST": self.redshift_host,
            "REDSHIFT_PORT": str(self.redshift_port),
            "REDSHIFT_USER": self.redshift_user,
            "REDSHIFT_PASSWORD": self.redshift_password,
            "REDSHIFT_DATABASE": self.redshift_database,
            "REDSHIFT_SCHEMA": self.redshift_schema,
            "ANALYTICS_REDSHIFT_IAM_ROLE": self.redshift_iam_role,
            "DATABRICKS_HOST": self.databricks_host,
            "DATABRICKS_HTTP_PATH": self.databricks_http_path,
            **({"DATABRICKS_TOKEN": self.databricks_token} if self.databricks_token else {}),
            "DATABRICKS_CATALOG": self.databricks_catalog,
            "DATABRICKS_SCHEMA": self.databricks_schema,
            "ANALYTICS_DBT_DOCS_URL": self.dbt_docs_url,
            "ANALYTICS_BRANCH": self.branch,
            "ANALYTICS_DBT_STATE_S3_PREFIX": self.dbt_state_s3_prefix or "",
            "ANALYTICS_LANDING_QUEUE_URL": self.landing_queue_url or "",
            "ANALYTICS_ALERT_WEBHOOK_URL": self.alert_webhook_url or "",
            "ANALYTICS_LAKE_DIR": str(self.lake_dir),
            "ANALYTICS_SPARK_WAREHOUSE_DIR": str(self.spark_warehouse_dir),
        }


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    environment = env.get("ANALYTICS_ENV", "local").strip().lower() or "local"
    if environment not in ENVIRONMENTS:
        raise ValueError(f"ANALYTICS_ENV must be one of {', '.join(ENVIRONMENTS)}; got {environment!r}")
    warehouse_type = env.get("ANALYTICS_WAREHOUSE", "duckdb").strip().lower() or "duckdb"
    if warehouse_type not in WAREHOUSE_TYPES:
        raise ValueError(
            f"ANALYTICS_WAREHOUSE must be one of {', '.join(WAREHOUSE_TYPES)}; got {warehouse_type!r}"
        )

    endpoint_default = DEFAULT_LOCAL_S3_ENDPOINT if environment == "local" else ""
    endpoint = env.get("ANALYTICS_S3_ENDPOINT_URL", endpoint_default).strip() or None

    prefix = env.get("ANALYTICS_LANDING_PREFIX", "landing/").strip().strip("/") + "/"
    duckdb_path = Path(env.get("ANALYTICS_DUCKDB_PATH", str(LOCAL_STATE_DIR / "warehouse.duckdb"))).resolve()
    return Settings(
        environment=environment,
        s3_endpoint_url=endpoint,
        aws_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
        landing_bucket=env.get("ANALYTICS_LANDING_BUCKET", "analytics-landing").strip(),
        landing_prefix=prefix,
        duckdb_path=duckdb_path,
        warehouse_type=warehouse_type,
        dbt_project_dir=Path(
            env.get("ANALYTICS_DBT_PROJECT_DIR", str(REPO_ROOT / "dbt_project"))
        ).resolve(),
        dagster_home=Path(
            env.get("DAGSTER_HOME", str(LOCAL_STATE_DIR / "dagster_home"))
        ).resolve(),
        dbt_docs_dir=Path(env.get("ANALYTICS_DBT_DOCS_DIR") or Settings.dbt_docs_dir).resolve(),
        dbt_docs_s3_prefix=_s3_prefix_setting(env, "ANALYTICS_DBT_DOCS_S3_PREFIX"),
        postgres_host=env.get("POSTGRES_HOST") or Settings.postgres_host,
        postgres_port=int(env.get("POSTGRES_PORT") or Settings.postgres_port),
        postgres_user=env.get("POSTGRES_USER") or Settings.postgres_user,
        postgres_password=env.get("POSTGRES_PASSWORD") or "",
        postgres_database=env.get("POSTGRES_DATABASE") or Settings.postgres_database,
        postgres_schema=env.get("POSTGRES_SCHEMA") or Settings.postgres_schema,
        redshift_host=env.get("REDSHIFT_HOST") or Settings.redshift_host,
        redshift_port=int(env.get("REDSHIFT_PORT") or Settings.redshift_port),
        redshift_user=env.get("REDSHIFT_USER") or Settings.redshift_user,
        redshift_password=env.get("REDSHIFT_PASSWORD") or "",
        redshift_database=env.get("REDSHIFT_DATABASE") or Settings.redshift_database,
        redshift_schema=env.get("REDSHIFT_SCHEMA") or Settings.redshift_schema,
        redshift_iam_role=(env.get("ANALYTICS_REDSHIFT_IAM_ROLE") or "").strip(),
        databricks_host=env.get("DATABRICKS_HOST") or Settings.databricks_host,
        databricks_http_path=env.get("DATABRICKS_HTTP_PATH") or Settings.databricks_http_path,
        databricks_token=env.get("DATABRICKS_TOKEN") or "",
        databricks_catalog=env.get("DATABRICKS_CATALOG") or Settings.databricks_catalog,
        databricks_schema=env.get("DATABRICKS_SCHEMA") or Settings.databricks_schema,
        dbt_docs_url=(env.get("ANALYTICS_DBT_DOCS_URL") or "").strip() or Settings.dbt_docs_url,
        branch=_branch_setting(env, environment),
        dbt_state_s3_prefix=_s3_prefix_setting(env, "ANALYTICS_DBT_STATE_S3_PREFIX"),
        landing_queue_url=(env.get("ANALYTICS_LANDING_QUEUE_URL") or "").strip() or None,
        alert_webhook_url=(env.get("ANALYTICS_ALERT_WEBHOOK_URL") or "").strip() or None,
        lake_dir=Path(env.get("ANALYTICS_LAKE_DIR") or duckdb_path.parent / "lake").resolve(),
        duckdb_memory_limit=(env.get("ANALYTICS_DUCKDB_MEMORY_LIMIT") or "").strip() or Settings.duckdb_memory_limit,
        spark_warehouse_dir=Path(
            env.get("ANALYTICS_SPARK_WAREHOUSE_DIR") or Settings.spark_warehouse_dir
        ).resolve(),
    )


def _branch_setting(env: Mapping[str, str], environment: str) -> str:
    """A branch environment without its name would share schemas with every other one."""
    branch = (env.get("ANALYTICS_BRANCH") or "").strip()
    if environment == "branch" and not branch:
        raise ValueError("ANALYTICS_ENV=branch needs ANALYTICS_BRANCH (the pull request number or branch name)")
    return branch if environment == "branch" else ""


def _s3_prefix_setting(env: Mapping[str, str], name: str) -> str | None:
    value = (env.get(name) or "").strip()
    if not value:
        return None
    parsed = urlparse(value)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise ValueError(f"{name} must look like s3://bucket/prefix, got {value!r}")
    return value


DBT_FILE_LOG_LEVEL = "none"
"""The level of dbt's own log file (dbt.log in each invocation's target folder) for the platform's
dbt processes, unless DBT_LOG_LEVEL_FILE is set. dbt's default, debug, formats every event of every
node as JSON under dagster-dbt: ~17 ms per node (measurements in BENCHMARKS.md). Dagster already
records each node's events; the SQL a node ran is in the invocation's run/ folder.
`DBT_LOG_LEVEL_FILE=debug` brings the file back."""


def export_dbt_env(settings: Settings) -> None:
    """dbt runs as a subprocess that reads profiles.yml from the environment; keep them in step."""
    environment = settings.to_environment()
    os.environ.update({name: environment[name] for name in DBT_VARIABLES})
    os.environ.setdefault("DBT_LOG_LEVEL_FILE", DBT_FILE_LOG_LEVEL)
