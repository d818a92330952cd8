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
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets
from dagster_dbt.errors import DagsterDbtCliRuntimeError

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


def row_count_metadata(result: Mapping[str, Any], materialized: str | None) -> dict[str, Any]:
    """What dbt itself reported for a node it built: `adapter_response.rows_affected` in
    run_results.json (dbt-duckdb fills it for tables and seeds; -1 or absent otherwise).

    A table or seed is rebuilt whole, so the rows written are its row count (`dagster/row_count`,
    which the asset page and graph show). An incremental model or snapshot only wrote the rows of
    this run: those go under `dbt/rows_affected`, never as the table's size. Views: nothing.
    """
    if isinstance(result.get("table_rows"), int):  # counted after dbt exited (DuckDB)
        return {"dagster/row_count": result["table_rows"]}
    rows = (result.get("adapter_response") or {}).get("rows_affected")
    if not isinstance(rows, int) or rows < 0 or materialized == "view":
        return {}
    if materialized in {"table", "seed"}:
        return {"dagster/row_count": rows}  # what TableMetadataSet(row_count=...) writes
    return {ROWS_WRITTEN: rows}


def duckdb_row_counter(settings: Settings):
    """DuckDB does not report rows_affected for tables (dbt-duckdb 1.11: seeds only, measured):
    after dbt exits, one read-only connection counts them (`count(*)` of a DuckDB table reads
    row-group metadata: ~1 ms each). Other warehouses: None (rows_affected or nothing)."""
    if settings.warehouse_type != "duckdb":
        return None

    def count(relations: list[str]) -> dict[str, int]:
        import duckdb

        counts = {}
        with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
            for relation in relations:
                try:
                    counts[relation] = con.execute(f"select count(*) from {relation}").fetchone()[0]
                except duckdb.Error:
                    continue
        return counts

    return count


def stream_with_row_counts(invocation, count_rows=None) -> Iterator[Any]:
    """`invocation.stream()` with each model's row count from dbt's own run_results.json.

    dbt writes `rows_affected` only in run_results.json (at the end) and in its DEBUG-level
    NodeFinished events, which dagster-dbt does not ask for; so the events are held until dbt
    exits, as dagster-dbt's `.fetch_row_counts()` does on DuckDB (the file lock), but without its
    `count(*)` per model: README "Row-count cost" has the measurement.
    """
    events, error = [], None
    iterator = iter(invocation.stream())
    try:
        events.extend(iterator)
    except DagsterDbtCliRuntimeError as raised:  # yield what dbt did build, then fail the same
        error = raised
    try:
        results = {
            result["unique_id"]: result
            for result in invocation.get_artifact("run_results.json").get("results", [])
        }
    except (OSError, ValueError):  # no run_results.json (dbt failed early): no row counts
        results = {}
    nodes = invocation.manifest.get("nodes", {})
    if count_rows is not None:  # tables dbt built without a rows_affected
        # schema.table: the manifest's database part names the file it was parsed against
        missing = {
            f'"{nodes[unique_id]["schema"]}"."{nodes[unique_id].get("alias") or nodes[unique_id]["name"]}"': unique_id
            for unique_id, result in results.items()
            if unique_id in nodes and nodes[unique_id].get("relation_name")
            and result.get("status") == "success"
            and nodes[unique_id].get("config", {}).get("materialized") in {"table", "incremental"}
            and "rows_affected" not in (result.get("adapter_response") or {})
        }
        for relation, rows in count_rows(list(missing)).items():
            response = dict(results[missing[relation]].get("adapter_response") or {})
            results[missing[relation]] = {
                **results[missing[relation]], "adapter_response": response, "table_rows": rows
            }
    for event in events:
        unique_id = (event.metadata or {}).get("unique_id")
        unique_id = getattr(unique_id, "value", unique_id)
        if isinstance(event, (dg.Output, dg.AssetMaterialization)) and unique_id in results:
            node = nodes.get(unique_id, {})
            materialized = (
                "seed" if node.get("resource_type") == "seed"
                else node.get("config", {}).get("materialized")
            )
            extra = row_count_metadata(results[unique_id], materialized)
            if extra:
                event = event.with_metadata({**event.metadata, **extra})
        yield event
    if error is not None:
        raise error


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
        yield from stream_with_row_counts(
            dbt.cli(dbt_build_args(context, config), context=context), duckdb_row_counter(settings)
        )

    return dbt_models
