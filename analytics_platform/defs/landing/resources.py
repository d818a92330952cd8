"""Resources of the landing side: the S3 bucket and the warehouse the raw tables live in."""

from __future__ import annotations

import dagster as dg
from dagster_aws.s3 import S3Resource

from analytics_platform.lib.warehouses import WarehouseLoader, open_loader
from analytics_platform.settings import Settings


class WarehouseResource(dg.ConfigurableResource):
    """Where raw tables are loaded, by warehouse type (the type also names the dbt target).

    One field per setting an engine needs; a new engine adds its own (host, catalog, ...) here and
    in `from_settings`.
    """

    warehouse_type: str = "duckdb"
    duckdb_path: str = ""
    lake_dir: str = ""  # DuckDB: where external datasets are mirrored (settings: ANALYTICS_LAKE_DIR)
    spark_warehouse_dir: str = ""  # Spark: tables and metastore folder (ANALYTICS_SPARK_WAREHOUSE_DIR)
    landing_prefix: str = "landing/"  # Spark: the landing root its external tables' view joins on
    # PostgreSQL and Redshift: where to connect. Passwords are not resource config (the UI shows
    # it): the loaders read POSTGRES_PASSWORD / REDSHIFT_PASSWORD from the environment.
    postgres_host: str = "localhost"
    postgres_port: int = 5432
    postgres_user: str = "postgres"
    postgres_database: str = "analytics"
    redshift_host: str = "localhost"
    redshift_port: int = 5439
    redshift_user: str = "unset"
    redshift_database: str = "dev"
    redshift_iam_role: str = ""
    aws_region: str = "us-east-1"

    @classmethod
    def from_settings(cls, settings: Settings) -> WarehouseResource:
        return cls(
            warehouse_type=settings.warehouse_type,
            duckdb_path=str(settings.duckdb_path),
            lake_dir=str(settings.lake_dir),
            spark_warehouse_dir=str(settings.spark_warehouse_dir),
            landing_prefix=settings.landing_prefix,
            postgres_host=settings.postgres_host,
            postgres_port=settings.postgres_port,
            postgres_user=settings.postgres_user,
            postgres_database=settings.postgres_database,
            redshift_host=settings.redshift_host,
            redshift_port=settings.redshift_port,
            redshift_user=settings.redshift_user,
            redshift_database=settings.redshift_database,
            redshift_iam_role=settings.redshift_iam_role,
            aws_region=settings.aws_region,
        )

    def open_loader(self) -> WarehouseLoader:
        return open_loader(self)


class LandingZone(dg.ConfigurableResource):
    bucket: str
    prefix: str

    @classmethod
    def from_settings(cls, settings: Settings) -> LandingZone:
        return cls(bucket=settings.landing_bucket, prefix=settings.landing_prefix)


def build_s3_resource(settings: Settings) -> S3Resource:
    credentials = {}
    if settings.uses_loopback_s3:
        # The local S3 server accepts any credentials; real ones, if exported, are not needed.
        credentials = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
    return S3Resource(
        endpoint_url=settings.s3_endpoint_url, region_name=settings.aws_region, **credentials
    )
