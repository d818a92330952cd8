"""dbt: the manifest as assets (models, seeds, snapshots; tests as checks), exposures, the docs
site, and the jobs and schedules over them."""

from collections.abc import Mapping
from typing import Any

import dagster as dg

from analytics_platform.defs.dbt.assets import build_dbt_model_assets
from analytics_platform.defs.dbt.docs import DbtDocsSite, dbt_docs_site
from analytics_platform.defs.dbt.exposures import build_exposure_specs
from analytics_platform.defs.dbt.jobs import (
    dbt_docs_job,
    dbt_docs_schedule,
    dbt_full_tests_job,
    dbt_full_tests_schedule,
    dbt_incremental_daily_job,
    dbt_incremental_daily_schedule,
    landing_to_gold_job,
)
from analytics_platform.lib.dbt_project import dbt_cli_resource
from analytics_platform.settings import Settings


def has_incremental_models(manifest: Mapping[str, Any]) -> bool:
    return any(
        node["resource_type"] == "model" and node["config"].get("materialized") == "incremental"
        for node in manifest["nodes"].values()
    )


def dbt_definitions(settings: Settings, manifest: Mapping[str, Any]) -> dg.Definitions:
    # The jobs over the incremental facts exist only if the project has some: a job over no
    # assets cannot run.
    incremental = has_incremental_models(manifest)
    return dg.Definitions(
        assets=[build_dbt_model_assets(settings), dbt_docs_site, *build_exposure_specs(manifest)],
        jobs=[
            landing_to_gold_job,
            dbt_docs_job,
            *([dbt_incremental_daily_job, dbt_full_tests_job] if incremental else []),
        ],
        schedules=[
            dbt_docs_schedule,
            *([dbt_incremental_daily_schedule, dbt_full_tests_schedule] if incremental else []),
        ],
        resources={"dbt": dbt_cli_resource(settings), "dbt_docs": DbtDocsSite.from_settings(settings)},
    )
