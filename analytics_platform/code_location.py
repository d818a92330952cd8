"""Assembles what landing, transform and quality export into one Definitions object."""

from __future__ import annotations

import dagster as dg

from analytics_platform.landing.assets import ingest_landing_files
from analytics_platform.landing.resources import LandingZone, WarehouseResource, build_s3_resource
from analytics_platform.landing.sensor import build_landing_sensor
from analytics_platform.quality.freshness import with_raw_freshness
from analytics_platform.quality.source_freshness import build_source_freshness_checks
from analytics_platform.settings import Settings
from analytics_platform.transform.assets import (
    build_dbt_incremental_assets,
    build_dbt_model_assets,
    has_incremental_models,
)
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
    manifest = load_manifest(settings)
    project = dbt_project_for(settings)
    # The partitioned facts, their daily job and its schedule exist only if the project has
    # incremental models: a partitioned job over no assets cannot be scheduled.
    incremental = has_incremental_models(manifest)
    return dg.Definitions(
        assets=[
            with_raw_freshness(ingest_landing_files),
            build_dbt_model_assets(settings),
            *([build_dbt_incremental_assets(settings)] if incremental else []),
            dbt_docs_site,
            *build_exposure_specs(manifest),
        ],
        asset_checks=[build_source_freshness_checks(manifest, project)],
        jobs=[landing_to_gold_job, dbt_docs_job, *([dbt_incremental_daily_job] if incremental else [])],
        schedules=[dbt_docs_schedule, *([dbt_incremental_daily_schedule] if incremental else [])],
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

