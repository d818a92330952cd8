"""The dbt models, tests and snapshots as Dagster assets and asset checks."""


import functools

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from analytics_platform.settings import WAREHOUSE_POOL, Settings
from analytics_platform.transform.project import dbt_project_for, load_manifest
from analytics_platform.transform.translator import AnalyticsDbtTranslator


@functools.cache
def build_dbt_model_assets(settings: Settings) -> dg.AssetsDefinition:
    """Built on first use, not at import, so a missing manifest is one clear error."""

    @dbt_assets(
        manifest=load_manifest(settings),
        project=dbt_project_for(settings),
        dagster_dbt_translator=AnalyticsDbtTranslator(),
        pool=WAREHOUSE_POOL,
        name="dbt_models",
    )
    def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        yield from dbt.cli(["build"], context=context).stream()

    return dbt_models
