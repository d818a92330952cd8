"""Resources of the landing side: the S3 bucket and the warehouse the raw tables live in."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster_aws.s3 import S3Resource

from analytics_platform.lib.warehouses import WarehouseLoader, open_loader
from analytics_platform.settings import Settings


class WarehouseResource(dg.ConfigurableResource):
    """Where raw tables are loaded; `target` names the dbt target of the same warehouse."""

    target: str
    duckdb_path: str

    @classmethod
    def from_settings(cls, settings: Settings) -> WarehouseResource:
        return cls(target=settings.dbt_target, duckdb_path=str(settings.duckdb_path))

    def open_loader(self) -> WarehouseLoader:
        return open_loader(self.target, Path(self.duckdb_path))


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
