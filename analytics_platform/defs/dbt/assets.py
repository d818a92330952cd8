"""The dbt models, tests, seeds and snapshots as Dagster assets and asset checks.

Two @dbt_assets over one manifest:
- `dbt_models`: seeds, snapshots and every model but the incremental facts, unpartitioned;
- `dbt_incremental_models`: the incremental facts (`config.materialized:incremental`),
  partitioned by day (transform/partitions.py) with a single-run backfill policy, so a
  backfill of any date range is one dbt invocation with one half-open window.

A dbt test becomes an asset check of the asset it is attached to. A test that reads both an
incremental fact and a model downstream of it (e.g. gold_daily_sales reconciled against
silver_orders) belongs to the downstream asset; dbt's `--exclude` would drop it together with
the fact, so `dbt_models` lists what it builds by materialization and names those tests.

A run that targets no partition (the `landing_to_gold` job, the landing sensor) builds the
incremental facts the ordinary dbt way: from what is new since the last run plus the lookback
window (dbt_project/macros/incremental.sql).
"""

import functools
import json
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from analytics_platform.lib.dbt_project import dbt_project_for, load_manifest
from analytics_platform.lib.dbt_translator import analytics_translator
from analytics_platform.lib.partitions import daily_partitions, dbt_window_vars
from analytics_platform.settings import WAREHOUSE_POOL, Settings

INCREMENTAL_MODELS = "config.materialized:incremental"
OTHER_RESOURCES = (
    "resource_type:seed resource_type:snapshot "
    "config.materialized:view config.materialized:table config.materialized:ephemeral"
)


def has_incremental_models(manifest: Mapping[str, Any]) -> bool:
    """A project without incremental models has nothing to partition (and no daily job)."""
    return any(
        node["resource_type"] == "model" and node["config"].get("materialized") == "incremental"
        for node in manifest["nodes"].values()
    )


def tests_downstream_of_incremental_models(manifest: Mapping[str, Any]) -> list[str]:
    """Tests that read an incremental model and a model that is not upstream of one."""
    nodes, parents_of = manifest["nodes"], manifest["parent_map"]
    incremental = {
        unique_id for unique_id, node in nodes.items()
        if node["resource_type"] == "model" and node["config"].get("materialized") == "incremental"
    }
    upstream, queue = set(), list(incremental)
    while queue:
        for parent in parents_of.get(queue.pop(), []):
            if parent not in upstream:
                upstream.add(parent)
                queue.append(parent)
    return sorted(
        ".".join(node["fqn"])
        for unique_id, node in nodes.items()
        if node["resource_type"] == "test"
        and set(parents_of.get(unique_id, [])) & incremental
        and not set(parents_of.get(unique_id, [])) <= incremental | upstream
    )


@functools.cache
def build_dbt_model_assets(settings: Settings) -> dg.AssetsDefinition:
    """Built on first use, not at import, so a missing manifest is one clear error."""

    @dbt_assets(
        manifest=load_manifest(settings),
        project=dbt_project_for(settings),
        select=" ".join([OTHER_RESOURCES, *tests_downstream_of_incremental_models(load_manifest(settings))]),
        dagster_dbt_translator=analytics_translator(),
        pool=WAREHOUSE_POOL,
        name="dbt_models",
    )
    def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        yield from dbt.cli(["build"], context=context).stream()

    return dbt_models


def incremental_dbt_args(
    context: dg.AssetExecutionContext, partitions_def: dg.TimeWindowPartitionsDefinition
) -> list[str]:
    """`dbt build` arguments for the incremental facts: with the run's partition window, if any.

    Partitions [first, last] (one key is a range of one) -> the half-open window
    [start of first, end of last).
    """
    if not (context.has_partition_key or context.has_partition_key_range):
        return ["build"]  # no partition: the incremental catch-up run
    keys = context.partition_key_range
    start = partitions_def.time_window_for_partition_key(keys.start).start
    end = partitions_def.time_window_for_partition_key(keys.end).end
    context.log.info(f"dbt window [{start:%Y-%m-%d %H:%M}, {end:%Y-%m-%d %H:%M}) UTC")
    return ["build", "--vars", json.dumps(dbt_window_vars(start, end))]


@functools.cache
def build_dbt_incremental_assets(settings: Settings) -> dg.AssetsDefinition:
    partitions_def = daily_partitions(settings.partitions_start_date)

    @dbt_assets(
        manifest=load_manifest(settings),
        project=dbt_project_for(settings),
        select=INCREMENTAL_MODELS,
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run(),
        dagster_dbt_translator=analytics_translator(source_tests_as_checks=False),
        pool=WAREHOUSE_POOL,
        name="dbt_incremental_models",
    )
    def dbt_incremental_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        yield from dbt.cli(incremental_dbt_args(context, partitions_def), context=context).stream()

    return dbt_incremental_models
