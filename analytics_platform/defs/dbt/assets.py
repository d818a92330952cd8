"""The dbt models, tests, seeds and snapshots as Dagster assets and asset checks.

One unpartitioned @dbt_assets, `dbt_models`, over the whole manifest: a run (the landing sensor,
`landing_to_gold`, a UI launch of any selection) is one `dbt build`, whatever it selects. A dbt
test becomes an asset check of the asset it is attached to.

The incremental facts (silver_orders, silver_reviews) build the ordinary dbt incremental way:
what is new since the last run plus the lookback (dbt_project/macros/incremental/scope.sql).
A backfill of an event-time range sets the run config `window_start` / `window_end`
(lib/backfill_window.py): the same one invocation then rewrites exactly that window.

Test scope: the facts' row-level tests check only the rows this invocation wrote
(dbt_project/macros/incremental/test_scope.sql); a run that selects checks only (the
`dbt_full_tests` job, a check launched from the UI) checks the whole tables.
"""

import functools
import json
import re
from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from analytics_platform.defs.dbt.step_outputs import compute_output_asset_keys_once_per_step
from analytics_platform.lib.backfill_window import (
    DBT_OP,
    BackfillWindowError,
    DbtBuildConfig,
    dbt_window_vars,
)
from analytics_platform.lib.dbt_project import dbt_project_for, load_manifest
from analytics_platform.lib.dbt_translator import analytics_translator
from analytics_platform.settings import WAREHOUSE_POOL, Settings

FULL_TEST_SCOPE = {"test_scope": "full"}
"""dbt var: the facts' tests check the whole table, not only this invocation's rows."""


ROWS_WRITTEN = "dbt/rows_affected"

ROWS_AFFECTED_LINE = re.compile(r" rows_affected=(\d+)$")
"""The line dbt_project/macros/rows_affected.sql logs for a node: `<relation> rows_affected=<n>`."""


def row_count_metadata(rows: int, materialized: str | None) -> dict[str, Any]:
    """The rows a node's main statement wrote, as its adapter reported them.

    A table or seed is rebuilt whole, so the rows written are its row count (`dagster/row_count`,
    which the asset page and graph show). An incremental model or snapshot only wrote the rows of
    this run: those go under `dbt/rows_affected`, never as the table's size. Views: nothing.
    """
    if materialized == "view":
        return {}
    if materialized in {"table", "seed"}:
        return {"dagster/row_count": rows}  # what TableMetadataSet(row_count=...) writes
    return {ROWS_WRITTEN: rows}


def stream_with_row_counts(invocation) -> Iterator[Any]:
    """`invocation.stream()` with the rows each node wrote on its materialization.

    Each event is passed on as dbt reports its node, so a run's materializations appear while dbt
    runs. The project's post-hook `report_rows_affected()` logs a node's rows just before dbt
    reports the node's result; dagster-dbt's `stream()` drops such log lines, so this reads dbt's
    raw events itself and turns each into Dagster events the way `stream()` does. A node whose
    adapter reported no rows gets none (README "Row counts").
    """
    rows_by_node: dict[str, int] = {}
    nodes = invocation.manifest.get("nodes", {})
    for raw in invocation.stream_raw_events():  # raises once dbt exits, if dbt failed
        info = raw.raw_event["info"]
        unique_id = raw.raw_event["data"].get("node_info", {}).get("unique_id")
        if info["name"] == "JinjaLogInfo" and unique_id:
            if match := ROWS_AFFECTED_LINE.search(info.get("msg", "")):
                rows_by_node[unique_id] = int(match.group(1))
            continue
        for event in raw.to_default_asset_events(
            manifest=invocation.manifest,
            dagster_dbt_translator=invocation.dagster_dbt_translator,
            context=invocation.context,
            target_path=invocation.target_path,
            project=invocation.project,
        ):
            if isinstance(event, (dg.Output, dg.AssetMaterialization)) and unique_id in rows_by_node:
                node = nodes.get(unique_id, {})
                materialized = (
                    "seed" if node.get("resource_type") == "seed"
                    else node.get("config", {}).get("materialized")
                )
                extra = row_count_metadata(rows_by_node.pop(unique_id), materialized)
                if extra:
                    event = event.with_metadata({**event.metadata, **extra})
            yield event


def dbt_build_args(context: dg.AssetExecutionContext, config: DbtBuildConfig) -> list[str]:
    """`dbt build`, with the run's backfill window and, for a checks-only run, full test scope."""
    try:
        window = config.window()
    except BackfillWindowError as error:
        raise dg.Failure(str(error)) from None
    variables = {}
    if window is not None:
        variables.update(dbt_window_vars(*window))
        context.log.info(f"backfill window [{window[0]:%Y-%m-%d %H:%M}, {window[1]:%Y-%m-%d %H:%M}) UTC")
    if not context.selected_asset_keys and context.selected_asset_check_keys:
        variables.update(FULL_TEST_SCOPE)  # checks only: nothing was written, test it all
    return ["build", *(["--vars", json.dumps(variables)] if variables else [])]


@functools.cache
def build_dbt_model_assets(settings: Settings) -> dg.AssetsDefinition:
    """Built on first use, not at import, so a missing manifest is one clear error."""
    compute_output_asset_keys_once_per_step()  # one step yields an output per model

    @dbt_assets(
        manifest=load_manifest(settings),
        project=dbt_project_for(settings),
        dagster_dbt_translator=analytics_translator(docs_url=settings.dbt_docs_url),
        pool=WAREHOUSE_POOL,
        name=DBT_OP,
    )
    def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
        yield from stream_with_row_counts(dbt.cli(dbt_build_args(context, config), context=context))

    return dbt_models
