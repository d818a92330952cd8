"""Assembles what landing, transform and quality export into one Definitions object."""

from __future__ import annotations

import dagster as dg

from analytics_platform.landing.assets import ingest_landing_files
from analytics_platform.landing.resources import LandingZone, WarehouseResource, build_s3_resource
from analytics_platform.landing.sensor import build_landing_sensor
from analytics_platform.quality.freshness import apply_freshness_policies
from analytics_platform.quality.source_freshness import build_source_freshness_checks
from analytics_platform.settings import Settings
from analytics_platform.transform.assets import build_dbt_incremental_assets, build_dbt_model_assets
from analytics_platform.transform.docs import dbt_docs_site
from analytics_platform.transform.exposures import build_exposure_specs
from analytics_platform.transform.jobs import (
    dbt_docs_job,
    dbt_docs_schedule,
    dbt_incremental_daily_job,
    dbt_incremental_daily_schedule,
    landing_to_gold_job,
)
from analytics_platform.transform.project import dbt_cli_resource, dbt_project_for, load_manifest


def build_definitions(settings: Settings) -> dg.Definitions:
    dbt_models = build_dbt_model_assets(settings)
    project = dbt_project_for(settings)
    definitions = dg.Definitions(
        assets=[
            ingest_landing_files,
            dbt_models,
            build_dbt_incremental_assets(settings),
            dbt_docs_site,
            *build_exposure_specs(load_manifest(settings)),
        ],
        asset_checks=[build_source_freshness_checks(load_manifest(settings), project)],
        jobs=[landing_to_gold_job, dbt_incremental_daily_job, dbt_docs_job],
        schedules=[dbt_incremental_daily_schedule, dbt_docs_schedule],
        sensors=[
            build_landing_sensor(
                dg.DefaultSensorStatus.RUNNING if settings.is_local else dg.DefaultSensorStatus.STOPPED
            )
        ],
        resources={
            "s3": build_s3_resource(settings),
            "landing_zone": LandingZone(bucket=settings.landing_bucket, prefix=settings.landing_prefix),
            "warehouse": WarehouseResource(
                target=settings.dbt_target, duckdb_path=str(settings.duckdb_path)
            ),
            "dbt": dbt_cli_resource(settings),
        },
        # DuckDB admits one writer process: running a run's steps in one process keeps them
        # from fighting over the file lock; the `warehouse` pool serializes runs.
        executor=dg.in_process_executor,
    )
    return apply_freshness_policies(definitions)

