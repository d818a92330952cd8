"""Assembles what each folder of defs/ exports into one Definitions object; nothing else.

Data reads straight down the folders: landing (files -> raw tables) -> dbt (bronze -> silver ->
gold) -> quality (freshness by layer, dbt source freshness).
"""

from __future__ import annotations

import dagster as dg

from analytics_platform.defs.dbt import dbt_definitions
from analytics_platform.defs.landing import landing_definitions
from analytics_platform.defs.quality import quality_definitions
from analytics_platform.defs.quality.freshness import with_freshness_by_layer
from analytics_platform.lib.datasets import datasets_from_manifest
from analytics_platform.lib.dbt_project import load_manifest
from analytics_platform.settings import Settings


def build_definitions(settings: Settings) -> dg.Definitions:
    manifest = load_manifest(settings)
    merged = dg.Definitions.merge(
        landing_definitions(settings, datasets_from_manifest(manifest)),
        dbt_definitions(settings, manifest),
        quality_definitions(settings, manifest),
    )
    return dg.Definitions(
        assets=with_freshness_by_layer(merged.assets or []),
        asset_checks=merged.asset_checks,
        jobs=merged.jobs,
        schedules=merged.schedules,
        sensors=merged.sensors,
        resources=merged.resources,
        # DuckDB admits one writer process: running a run's steps in one process keeps them
        # from fighting over the file lock; the `warehouse` pool serializes runs.
        executor=dg.in_process_executor,
    )
