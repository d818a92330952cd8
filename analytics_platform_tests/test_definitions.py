"""The code location's wiring: single-writer pool, graph shape, settings."""

from __future__ import annotations

import sys

import dagster as dg
import pytest

from analytics_platform.defs import build_definitions
from analytics_platform.local.dagster_yaml import DAGSTER_YAML
from analytics_platform.settings import WAREHOUSE_POOL, load_settings

from .helpers import declared_datasets, run_dbt, write_small_dbt_project


@pytest.fixture
def definitions(settings, dbt_manifest) -> dg.Definitions:
    return build_definitions(settings)


def test_every_op_that_opens_the_warehouse_is_in_the_single_writer_pool(definitions):
    graph = definitions.resolve_asset_graph()
    executable = [a for a in graph.assets_defs if a.is_executable] + list(definitions.asset_checks or [])
    assert {a.node_def.name for a in executable} >= {"ingest_landing_files", "dbt_models", "dbt_source_freshness"}
    for definition in executable:
        assert definition.node_def.pools == {WAREHOUSE_POOL}, definition.node_def.name


def test_the_generated_instance_config_runs_one_warehouse_op_at_a_time(tmp_path, monkeypatch):
    with local_instance(tmp_path, monkeypatch) as instance:
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1


def local_instance(tmp_path, monkeypatch) -> dg.DagsterInstance:
    """An instance with the product's dagster.yaml in `tmp_path` (use it as a context manager)."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    (tmp_path / "dagster.yaml").write_text(DAGSTER_YAML)
    return dg.DagsterInstance.from_config(str(tmp_path))


def many_assets(count: int) -> tuple[list[dg.AssetSpec], dg.AssetsDefinition]:
    """One step materializing `count` assets, as a dbt build does."""
    specs = [dg.AssetSpec(f"asset_{i}") for i in range(count)]

    @dg.multi_asset(specs=specs)
    def many():
        for spec in specs:
            yield dg.MaterializeResult(asset_key=spec.key)

    return specs, many


def test_the_local_event_log_keeps_events_where_dagster_does_without_an_fsync_each(tmp_path, monkeypatch):
    from analytics_platform.local.instance import LocalSqliteEventLogStorage

    with local_instance(tmp_path, monkeypatch) as instance:
        assert isinstance(instance.event_log_storage, LocalSqliteEventLogStorage)

        @dg.asset
        def tiny():
            return 1

        result = dg.materialize([tiny], instance=instance)
        assert instance.fetch_materializations(dg.AssetKey("tiny"), limit=1).records
        with instance.event_log_storage.run_connection(result.run_id) as connection:
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        # wipe() deletes the run databases: the next run gets fresh ones, not stale engines.
        instance.wipe()
        rerun = dg.materialize([tiny], instance=instance)
        records = instance.fetch_materializations(dg.AssetKey("tiny"), limit=5).records
        assert [record.run_id for record in records] == [rerun.run_id]
        assert [e.event_type_value for e in instance.all_logs(result.run_id)] == []
    assert (tmp_path / "history" / "runs" / f"{rerun.run_id}.db").exists()
    # Other SQLite databases opened through SQLAlchemy keep SQLite's default (FULL).
    import sqlalchemy

    with sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'other.db'}").connect() as other:
        assert other.exec_driver_sql("PRAGMA synchronous").scalar() == 2


@pytest.mark.parametrize("batch_size", [None, "0"])
def test_the_local_event_log_stores_a_runs_planned_events_in_one_batch(tmp_path, monkeypatch, batch_size):
    """A run's start logs one "materialization planned" event per asset: the local storage writes
    them in one transaction per database (DAGSTER_EVENT_BATCH_SIZE defaults on; "0" turns it off),
    and every one of them is where Dagster reads it, in the run's log and the cross-run index."""
    from analytics_platform.local.instance import LocalSqliteEventLogStorage

    if batch_size is None:
        monkeypatch.delenv("DAGSTER_EVENT_BATCH_SIZE", raising=False)
    else:
        monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", batch_size)
    batches: list[list[str]] = []
    connections_opened: list[str] = []
    connections_per_batch: list[int] = []
    store_event_batch, open_connection = LocalSqliteEventLogStorage.store_event_batch, LocalSqliteEventLogStorage._open

    def recording_store_event_batch(self, events):
        # Recorded, asserted after the runs: Dagster catches an error raised in here.
        opened_before = len(connections_opened)
        store_event_batch(self, events)
        batches.append([e.dagster_event.event_type_value for e in events])
        connections_per_batch.append(len(connections_opened) - opened_before)

    def counting_open(self, shard):
        connections_opened.append(shard)
        return open_connection(self, shard)

    monkeypatch.setattr(LocalSqliteEventLogStorage, "store_event_batch", recording_store_event_batch)
    monkeypatch.setattr(LocalSqliteEventLogStorage, "_open", counting_open)
    specs, many = many_assets(25)
    with local_instance(tmp_path, monkeypatch) as instance:
        assert isinstance(instance.event_log_storage, LocalSqliteEventLogStorage)
        for _ in range(2):  # the second run updates the index rows the first one wrote
            result = dg.materialize([many], instance=instance)
            assert result.success
        planned = dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
        run_log = [e.dagster_event.asset_key for e in instance.all_logs(result.run_id, of_type=planned)]
        assert sorted(run_log) == sorted(spec.key for spec in specs)
        for spec in specs:
            records_filter = dg.EventRecordsFilter(event_type=planned, asset_key=spec.key)
            indexed = instance.event_log_storage.get_event_records(records_filter, limit=5)  # the index
            assert len(indexed) == 2
            assert indexed[0].run_id == result.run_id
            assert instance.fetch_materializations(spec.key, limit=1).records[0].run_id == result.run_id
    if batch_size == "0":
        assert batches == []
    else:
        assert batches == [[planned.value] * 25] * 2
        assert connections_per_batch == [2, 2]  # the run's database and the index, once a batch


def test_the_local_event_log_inspects_each_index_table_once_and_still_indexes_every_event(tmp_path, monkeypatch):
    """Dagster asks whether the asset-event-tags table exists for every materialization (a new
    connection each time): the local storage asks SQLite once, and every materialization's
    data-version tags still land in that table."""
    from dagster._core.storage.event_log.schema import AssetEventTagsTable
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    from analytics_platform.local.instance import LocalSqliteEventLogStorage

    inspected: list[str] = []
    inspect = SqliteEventLogStorage.has_table

    def counting_has_table(self, table_name):
        inspected.append(table_name)
        return inspect(self, table_name)

    monkeypatch.setattr(SqliteEventLogStorage, "has_table", counting_has_table)
    specs, many = many_assets(10)
    with local_instance(tmp_path, monkeypatch) as instance:
        assert isinstance(instance.event_log_storage, LocalSqliteEventLogStorage)
        runs = [dg.materialize([many], instance=instance) for _ in range(2)]
        assert all(run.success for run in runs)
        with instance.event_log_storage.index_connection() as connection:
            tagged = connection.execute(
                AssetEventTagsTable.select().with_only_columns(AssetEventTagsTable.c.asset_key).distinct()
            ).fetchall()
            events_tagged = connection.execute(
                AssetEventTagsTable.select().with_only_columns(AssetEventTagsTable.c.event_id).distinct()
            ).fetchall()
    assert sorted(row[0] for row in tagged) == sorted(spec.key.to_string() for spec in specs)
    assert len(events_tagged) == 20  # every materialization of both runs
    assert inspected.count(AssetEventTagsTable.name) == 1


def test_a_run_log_watcher_sees_each_event_while_the_writer_keeps_its_connection_open(tmp_path):
    """The webserver follows a live run through a file watcher on the run's database, and the run
    worker (another process, another storage) writes the events. Its connection stays open, so
    the events sit in the database's WAL until a checkpoint: the watcher must wake on the WAL."""
    import threading
    import time

    from dagster._core.events import DagsterEvent, DagsterEventType, EngineEventData
    from dagster._core.events.log import EventLogEntry

    from analytics_platform.local.instance import LocalSqliteEventLogStorage

    writer = LocalSqliteEventLogStorage(str(tmp_path))
    webserver = LocalSqliteEventLogStorage(str(tmp_path))
    run_id = "a-live-run"

    def event(message: str) -> EventLogEntry:
        return EventLogEntry(
            error_info=None, level=20, user_message=message, run_id=run_id, timestamp=time.time(),
            dagster_event=DagsterEvent(
                event_type_value=DagsterEventType.ENGINE_EVENT.value,
                job_name="a_job",
                event_specific_data=EngineEventData(),
                message=message,
            ),
        )

    writer.store_event(event("first"))  # the run database exists before anyone watches it
    seen: list[str] = []
    arrived = threading.Event()

    def on_event(entry: EventLogEntry, _cursor: str) -> None:
        seen.append(entry.user_message)
        arrived.set()

    webserver.watch(run_id, None, on_event)
    try:
        for message in ["second", "third"]:
            arrived.clear()
            writer.store_event(event(message))
            assert arrived.wait(timeout=10), f"the watcher did not see {message!r}: {seen}"
            assert seen[-1] == message
    finally:
        webserver.end_watch(run_id, on_event)
        webserver.dispose()
        writer.dispose()


def test_the_graph_reads_landing_to_gold_without_gaps(definitions):
    graph = definitions.resolve_asset_graph()
    for dataset in declared_datasets():
        node = graph.get(dataset.asset_key)
        assert node.group_name == f"{dataset.domain}_landing"
        # ecommerce's bronze models predate domains (bronze_orders); later domains name theirs
        # bronze_<domain>_<dataset> (model names are project-wide).
        bronze = f"bronze_{dataset.name}" if dataset.domain == "ecommerce" else f"bronze_{dataset.domain}_{dataset.name}"
        assert dg.AssetKey(bronze) in node.child_keys
    gold = graph.get(dg.AssetKey("gold_daily_sales"))
    assert gold.group_name == "ecommerce_gold" and gold.tags["domain"] == "ecommerce"
    assert gold.tags["layer"] == "gold"
    upstream = dg.AssetSelection.assets(gold.key).upstream().resolve(graph)
    assert dg.AssetKey(["raw", "ecommerce", "orders"]) in upstream
    assert graph.get(dg.AssetKey("metricflow_time_spine")).group_name == "semantic"


def test_settings_defaults_and_clear_errors():
    local = load_settings({})
    assert (local.is_local, local.s3_endpoint_url, local.warehouse_type) == (True, "http://127.0.0.1:4566", "duckdb")
    production = load_settings({"ANALYTICS_ENV": "production"})
    assert production.s3_endpoint_url is None and not production.is_local
    with pytest.raises(ValueError, match="ANALYTICS_ENV must be"):
        load_settings({"ANALYTICS_ENV": "staging"})
    assert local.dbt_docs_s3_prefix is None
    with pytest.raises(ValueError, match="ANALYTICS_DBT_DOCS_S3_PREFIX must look like"):
        load_settings({"ANALYTICS_DBT_DOCS_S3_PREFIX": "my-bucket/docs"})


def test_dbt_steps_skip_dbt_version_and_the_in_process_adapter(settings, dbt_manifest, monkeypatch):
    """Each costs seconds per dbt step; `dbt --version` also queries PyPI."""
    import importlib.metadata
    from pathlib import Path

    import dagster_dbt.core.resource

    from analytics_platform.lib.dbt_project import dbt_cli_resource

    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"dagster-dbt spawned {args}")

    monkeypatch.setattr(dagster_dbt.core.resource, "check_output", no_subprocess)
    dbt = dbt_cli_resource(settings)
    assert Path(dbt.dbt_executable).parent == Path(sys.executable).parent
    invocation = dbt.cli(["ls", "--select", "gold_daily_sales", "--quiet"]).wait()
    assert invocation.adapter is None
    assert str(dbt._cli_version) == importlib.metadata.version("dbt-core")
    assert invocation.is_successful()


def test_raw_and_gold_tables_carry_freshness_policies(definitions):
    from analytics_platform.defs.quality.freshness import GOLD_FRESHNESS, RAW_FRESHNESS

    graph = definitions.resolve_asset_graph()
    policies = {node.key: node.freshness_policy for node in graph.asset_nodes}
    for dataset in declared_datasets():
        assert policies[dataset.asset_key] == RAW_FRESHNESS
    assert policies[dg.AssetKey("gold_daily_sales")] == GOLD_FRESHNESS
    assert policies[dg.AssetKey("gold_sales_by_region_v1")] == GOLD_FRESHNESS
    assert policies[dg.AssetKey("silver_orders")] is None


def test_a_dbt_project_without_incremental_models_loads_without_the_daily_job(tmp_path, s3_endpoint):
    project = write_small_dbt_project(tmp_path / "dbt")
    warehouse = tmp_path / "w.duckdb"
    run_dbt(["parse", "--quiet"], target_path=project / "target", warehouse=warehouse, project_dir=project)
    settings = load_settings(
        {"ANALYTICS_S3_ENDPOINT_URL": s3_endpoint, "ANALYTICS_DBT_PROJECT_DIR": str(project),
         "ANALYTICS_DUCKDB_PATH": str(warehouse)}
    )
    definitions = build_definitions(settings)
    assert {job.name for job in definitions.jobs} == {"landing_to_gold", "dbt_docs"}
    keys = definitions.resolve_asset_graph().get_all_asset_keys()
    assert {dg.AssetKey(["raw", "shop", "items"]), dg.AssetKey("gold_item_count")} <= keys
