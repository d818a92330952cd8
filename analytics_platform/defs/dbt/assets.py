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
window (dbt_project/macros/incremental/scope.sql).
"""

import functools
import json
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets
from dagster_dbt.errors import DagsterDbtCliRuntimeError

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


@functools.cache
def build_dbt_model_assets(settings: Settings) -> dg.AssetsDefinition:
    """Built on first use, not at import, so a missing manifest is one clear error."""

    @dbt_assets(
        manifest=load_manifest(settings),
        project=dbt_project_for(settings),
        select=" ".join([OTHER_RESOURCES, *tests_downstream_of_incremental_models(load_manifest(settings))]),
        dagster_dbt_translator=analytics_translator(docs_url=settings.dbt_docs_url),
        pool=WAREHOUSE_POOL,
        name="dbt_models",
    )
    def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        yield from stream_with_row_counts(
            dbt.cli(["build"], context=context), duckdb_row_counter(settings)
        )

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
        dagster_dbt_translator=analytics_translator(
            source_tests_as_checks=False, docs_url=settings.dbt_docs_url
        ),
        pool=WAREHOUSE_POOL,
        name="dbt_incremental_models",
    )
    def dbt_incremental_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        yield from stream_with_row_counts(
            dbt.cli(incremental_dbt_args(context, partitions_def), context=context),
            duckdb_row_counter(settings),
        )

    return dbt_incremental_models
