"""The dbt project in Dagster: one unpartitioned dbt step per run (a landing run is ingestion +
one `dbt build`), backfill windows as run config (a date range backfilled from the CLI in one run
and one dbt invocation), fact tests scoped to the rows a run wrote with a full-scope job,
versioned models, exposures downstream of gold, dbt tests (business rules included) as asset
checks, and the docs site asset. The platform (moto S3 + a DuckDB file) built once per session by
the `landing_to_gold` job is shared with test_end_to_end.py.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from analytics_platform.defs import build_definitions
from analytics_platform.defs.dbt.docs import DOCS_ASSET_KEY, DocsDestination, publish
from analytics_platform.defs.landing.resources import build_s3_resource
from analytics_platform.lib.backfill_window import (
    BackfillWindowError,
    DbtBuildConfig,
    dbt_window_vars,
)
from analytics_platform.local.dagster_yaml import DAGSTER_YAML
from analytics_platform.settings import WAREHOUSE_POOL, Settings

from .helpers import REPO_ROOT, BuiltPlatform, landed_game_events, read_rows

FACTS = {dg.AssetKey("silver_orders"), dg.AssetKey("silver_reviews")}


@pytest.fixture
def platform(built_platform: BuiltPlatform, monkeypatch) -> BuiltPlatform:
    for name, value in built_platform.settings.to_environment().items():
        monkeypatch.setenv(name, value)  # DAGSTER_HOME etc. for instances opened from config
    return built_platform


def query(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    (settings.dagster_home / "dagster.yaml").write_text(DAGSTER_YAML)
    completed = subprocess.run(
        [str(Path(sys.executable).with_name(args[0])), *args[1:]],
        check=False, cwd=REPO_ROOT, env={**os.environ, **settings.to_environment()},
        capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed


@pytest.mark.parametrize(
    ("start", "end", "window"),
    [
        (None, None, None),  # no window: the incremental catch-up run
        ("2026-10-03", "2026-10-04", ("2026-10-03 00:00:00", "2026-10-04 00:00:00")),
        ("2026-10-02", "2026-10-06", ("2026-10-02 00:00:00", "2026-10-06 00:00:00")),
        ("2026-10-02 07:00", "2026-10-02 09:30", ("2026-10-02 07:00:00", "2026-10-02 09:30:00")),
        ("2026-10-02T23:00", "2026-10-03", ("2026-10-02 23:00:00", "2026-10-03 00:00:00")),
    ],
)
def test_a_backfill_window_becomes_one_half_open_dbt_window(start, end, window):
    parsed = DbtBuildConfig(window_start=start, window_end=end).window()
    if window is None:
        assert parsed is None
    else:
        assert dbt_window_vars(*parsed) == {"window_start": window[0], "window_end": window[1]}


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-10-02", None, "Set both window_start and window_end"),
        (None, "2026-10-02", "Set both window_start and window_end"),
        ("2026-10-03", "2026-10-03", "must be before window_end"),
        ("2026-10-04 10:00", "2026-10-04 09:00", "must be before window_end"),
        ("02/10/2026", "2026-10-03", "is not a UTC date or hour"),
    ],
)
def test_a_wrong_backfill_window_is_refused_with_a_message_naming_the_fix(start, end, message):
    with pytest.raises(BackfillWindowError, match=message):
        DbtBuildConfig(window_start=start, window_end=end).window()


def ops_of(job: dg.JobDefinition) -> set[str]:
    return {node.name for node in job.graph.node_defs}


def test_every_job_runs_its_dbt_part_in_one_op_and_nothing_is_partitioned(platform):
    definitions = platform.definitions
    graph = definitions.resolve_asset_graph()
    assert [key for key in graph.get_all_asset_keys() if graph.get(key).partitions_def] == []
    for key in FACTS:
        assert graph.get(key).tags["materialized"] == "incremental"

    # A landing run: the ingestion step and one dbt step, without dbt source freshness (its
    # own job and hourly schedule).
    landing = definitions.resolve_job_def("landing_to_gold")
    in_job = set(landing.asset_layer.executable_asset_keys)
    assert FACTS | {dg.AssetKey(["raw", "ecommerce", "orders"]), dg.AssetKey("gold_daily_sales")} <= in_job
    assert DOCS_ASSET_KEY not in in_job
    assert ops_of(landing) == {"ingest_landing_files", "dbt_models"}
    sensor_job = definitions.resolve_job_def("ingest_and_build")
    assert ops_of(sensor_job) == {"ingest_landing_files", "dbt_models"}
    freshness = definitions.resolve_job_def("source_freshness")
    freshness_checks = set(freshness.asset_layer.asset_graph.asset_check_keys)
    checked = {check.asset_key for check in freshness_checks}
    assert {dg.AssetKey(["raw", "ecommerce", name]) for name in ("orders", "products", "users", "reviews")} <= checked
    assert all(key.path[0] == "raw" for key in checked)  # the landed sources, nothing else
    for job in (landing, sensor_job):
        assert not freshness_checks & set(job.asset_layer.asset_graph.asset_check_keys), job.name
    schedules = {schedule.name: schedule for schedule in definitions.schedules}
    assert schedules["source_freshness_hourly"].cron_schedule == "15 * * * *"

    daily = definitions.resolve_job_def("dbt_incremental_daily")
    assert set(daily.asset_layer.executable_asset_keys) >= FACTS | {dg.AssetKey("gold_daily_sales")}
    assert dg.AssetKey("bronze_orders") not in set(daily.asset_layer.executable_asset_keys)
    assert ops_of(daily) == {"dbt_models"}
    # Its nightly schedule passes yesterday's window as run config.
    with dg.build_schedule_context(
        scheduled_execution_time=datetime(2026, 10, 6, 2, 0, tzinfo=timezone.utc)
    ) as context:
        [request] = schedules["dbt_incremental_daily_schedule"].evaluate_tick(context).run_requests
    assert request.run_config == {"ops": {"dbt_models": {"config": {
        "window_start": "2026-10-05 00:00", "window_end": "2026-10-06 00:00"}}}}

    full_tests = definitions.resolve_job_def("dbt_full_tests")
    assert set(full_tests.asset_layer.executable_asset_keys) & set(graph.get_all_asset_keys()) == set()
    incremental = {key for key in graph.get_all_asset_keys() if graph.get(key).tags.get("materialized") == "incremental"}
    assert FACTS <= incremental  # (and the incremental facts of other domains)
    fact_checks = {check for check in graph.asset_check_keys if check.asset_key in incremental}
    assert set(full_tests.asset_layer.asset_graph.asset_check_keys) == fact_checks
    assert any(check.name.startswith("unique_silver_orders_order_id") for check in fact_checks)


def test_versions_exposures_checks_and_the_docs_asset_in_the_graph(platform):
    graph = platform.definitions.resolve_asset_graph()
    # The latest version of a versioned model keeps the bare name; v1 is suffixed like its relation.
    assert dg.AssetKey("gold_sales_by_region_v1") in graph.get(dg.AssetKey("gold_sales_by_region")).child_keys

    sales = graph.get(dg.AssetKey(["exposures", "sales_overview"]))
    assert not sales.is_executable and sales.group_name == "exposures"
    assert set(sales.parent_keys) == {dg.AssetKey("gold_daily_sales"), dg.AssetKey("gold_sales_by_region")}
    finance = graph.get(dg.AssetKey(["exposures", "finance_weekly_report"]))
    assert set(finance.parent_keys) == {dg.AssetKey("gold_sales_by_region_v1")}

    checks = {check.asset_key: set() for check in graph.asset_check_keys}
    for check in graph.asset_check_keys:
        checks[check.asset_key].add(check.name)
    # Singular business-rule tests land on the asset named in their meta.dagster.ref.
    assert "assert_gold_daily_sales_reconciles_with_silver_orders" in checks[dg.AssetKey("gold_daily_sales")]
    assert "assert_sales_by_region_adds_up_to_daily_sales" in checks[dg.AssetKey("gold_sales_by_region")]
    assert any(name.startswith("relationships_silver_orders_product_id") for name in checks[dg.AssetKey("silver_orders")])

    docs = graph.get(DOCS_ASSET_KEY)
    assert docs.group_name == "docs" and docs.assets_def.node_def.pools == {WAREHOUSE_POOL}


def step_keys(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The steps a run started, in order (its event log)."""
    return [entry.step_key for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START)]


def test_the_landing_run_is_the_ingestion_step_and_one_dbt_build(platform):
    result = platform.result
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert [e.asset_check_key for e in evaluations if not e.passed] == []
    checked = {e.asset_key for e in evaluations}
    assert FACTS | {dg.AssetKey("gold_daily_sales"), dg.AssetKey("gold_sales_by_region")} <= checked
    started = [e.step_key for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_START]
    assert started == ["ingest_landing_files", "dbt_models"]
    [(days,)] = query(platform.settings, "SELECT count(*) FROM gold.gold_daily_sales")
    # One row per delivery day of a loadable orders file (a malformed file is quarantined whole).
    order_days = {
        f.key.split("/")[-2] for f in platform.files
        if (f.domain, f.dataset) == ("ecommerce", "orders") and not f.malformed
    }
    assert days == len(order_days)
    [(orders, bronze)] = query(
        platform.settings,
        "SELECT (SELECT count(*) FROM silver.silver_orders), (SELECT count(*) FROM bronze.bronze_orders)",
    )
    assert orders == bronze


def keys_in_window(files: list, start: date, end: date, dataset: str = "orders", key: str = "order_id") -> set[str]:
    """The keys (order_ids, or review_ids) whose event day is in [start, end), from the landed
    files (a later delivery of a key replaces an earlier one, as the loader's ledger order does)."""
    latest = {}
    for landing_file in files:
        if (landing_file.domain, landing_file.dataset) != ("ecommerce", dataset) or landing_file.malformed:
            continue
        for row in read_rows(landing_file):
            latest[str(row[key]).strip()] = row
    return {
        order_id for order_id, row in latest.items()
        if start <= datetime.fromisoformat(str(row["created_at"])).date() < end
    }


def test_a_date_range_is_backfilled_from_the_cli_in_one_run_and_one_dbt_invocation(platform):
    settings = platform.settings
    window = ("2026-10-02", "2026-10-04")  # two days, half-open
    before = {
        table: query(settings, f"SELECT * EXCLUDE (_dbt_run_at) FROM silver.{table} ORDER BY ALL")
        for table in ("silver_orders", "silver_reviews")
    }
    stamps_before = dict(query(settings, "SELECT order_id, _dbt_run_at FROM silver.silver_orders"))
    with duckdb.connect(str(settings.duckdb_path)) as con:
        con.execute("DELETE FROM silver.silver_orders WHERE order_date >= ? AND order_date < ?", window)
        con.execute("DELETE FROM silver.silver_reviews WHERE review_date >= ? AND review_date < ?", window)

    run_cli(settings, "analytics-platform", "backfill", "--start", window[0], "--end", window[1])

    for table, rows in before.items():
        assert query(settings, f"SELECT * EXCLUDE (_dbt_run_at) FROM silver.{table} ORDER BY ALL") == rows, table
    # Exactly the window's orders were written (their stamp is new), as the landed files say.
    stamps_after = dict(query(settings, "SELECT order_id, _dbt_run_at FROM silver.silver_orders"))
    rewritten = {order_id for order_id, stamp in stamps_after.items() if stamp != stamps_before[order_id]}
    expected = keys_in_window(platform.files, date(2026, 10, 2), date(2026, 10, 4))
    assert len(expected) > 50 and rewritten == expected
    assert_one_backfill_run_and_dbt_invocation(
        settings, ("2026-10-02 00:00", "2026-10-04 00:00"), ("2026-10-02 00:00:00", "2026-10-04 00:00:00")
    )


def assert_one_backfill_run_and_dbt_invocation(settings, config_window, dbt_window) -> None:
    """The backfill was one run of one step in the instance the UI serves, and one dbt build."""
    [(command, variables, status)] = query(
        settings,
        "SELECT command, vars, status FROM audit.dbt_invocations "
        f"WHERE vars LIKE '%\"window_start\": \"{dbt_window[0]}\"%' ORDER BY started_at",
    )
    assert (command, status) == ("build", "success")
    assert json.loads(variables) == {"window_start": dbt_window[0], "window_end": dbt_window[1]}
    expected_config = {"window_start": config_window[0], "window_end": config_window[1]}
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        [run] = [
            r for r in instance.get_runs() if r.job_name == "dbt_incremental_daily"
            and r.run_config["ops"]["dbt_models"]["config"] == expected_config
        ]
        assert run.status == dg.DagsterRunStatus.SUCCESS
        assert step_keys(instance, run.run_id) == ["dbt_models"]


def test_an_hour_range_of_the_game_facts_is_backfilled_in_one_dbt_invocation(platform):
    """Hour precision: the hourly game fact rewrites exactly the events of the window's hours;
    the daily facts, which replace whole days, rewrite the whole day those hours fall in and
    keep every row of it."""
    settings = platform.settings
    start, end = datetime(2026, 10, 1, 5, tzinfo=timezone.utc), datetime(2026, 10, 1, 8, tzinfo=timezone.utc)
    table = "silver.silver_game_events"
    before = query(settings, f"SELECT * EXCLUDE (_dbt_run_at) FROM {table} ORDER BY ALL")
    stamps_before = dict(query(settings, f"SELECT event_id, _dbt_run_at FROM {table}"))
    daily_before = {
        daily: query(settings, f"SELECT * EXCLUDE (_dbt_run_at) FROM silver.{daily} ORDER BY ALL")
        for daily in ("silver_orders", "silver_reviews")
    }
    review_stamps_before = dict(query(settings, "SELECT review_id, _dbt_run_at FROM silver.silver_reviews"))
    with duckdb.connect(str(settings.duckdb_path)) as con:
        con.execute(f"DELETE FROM {table} WHERE event_hour >= ? AND event_hour < ?",
                    [start.replace(tzinfo=None), end.replace(tzinfo=None)])

    run_cli(settings, "analytics-platform", "backfill", "--start", "2026-10-01 05:00", "--end", "2026-10-01 08:00")

    assert query(settings, f"SELECT * EXCLUDE (_dbt_run_at) FROM {table} ORDER BY ALL") == before
    stamps_after = dict(query(settings, f"SELECT event_id, _dbt_run_at FROM {table}"))
    rewritten = {event_id for event_id, stamp in stamps_after.items() if stamp != stamps_before[event_id]}
    expected = {  # from the landed files: every event (any type) whose time is in the window
        event["event_id"] for _, event in landed_game_events(platform.files)
        if start.timestamp() <= event["event_timestamp"] < end.timestamp()
    }
    assert len(expected) > 20 and rewritten == expected
    for daily, rows in daily_before.items():
        assert query(settings, f"SELECT * EXCLUDE (_dbt_run_at) FROM silver.{daily} ORDER BY ALL") == rows, daily
    # silver_reviews replaces whole days (delete+insert on review_date): all of 2026-10-01.
    review_stamps_after = dict(query(settings, "SELECT review_id, _dbt_run_at FROM silver.silver_reviews"))
    reviews_rewritten = {r for r, stamp in review_stamps_after.items() if stamp != review_stamps_before[r]}
    assert reviews_rewritten == keys_in_window(
        platform.files, date(2026, 10, 1), date(2026, 10, 2), dataset="reviews", key="review_id"
    )
    assert_one_backfill_run_and_dbt_invocation(
        settings, ("2026-10-01 05:00", "2026-10-01 08:00"), ("2026-10-01 05:00:00", "2026-10-01 08:00:00")
    )


PLANTED = "planted/duplicate.csv"


def test_a_landing_run_tests_the_rows_it_wrote_and_the_full_job_the_whole_table(platform):
    """A duplicate order planted on an old day (no new delivery of its key, so no run rewrites it), and
    placed hours after its file was loaded, is invisible to a landing run's tests (the column
    tests, the count of one row per raw order and the singular assert_no_orders_from_the_future)
    and found by the scheduled full-scope job. It is planted cancelled, so the gold tables the
    landing run rebuilds (cancelled orders excluded) stay as the landed files say for the tests
    that share the platform."""
    settings = platform.settings
    with duckdb.connect(str(settings.duckdb_path)) as con:
        [(first_day,)] = con.execute("SELECT min(order_date) FROM silver.silver_orders").fetchall()
        con.execute(
            "INSERT INTO silver.silver_orders SELECT * REPLACE (? AS _source_key, 'cancelled' AS status, "
            "true AS is_cancelled, _loaded_at + INTERVAL 2 HOUR AS created_at) FROM silver.silver_orders "
            "WHERE order_date = ? ORDER BY order_id LIMIT 1", [PLANTED, first_day],
        )
    try:
        instance = dg.DagsterInstance.ephemeral()
        landing = platform.definitions.resolve_job_def("landing_to_gold").execute_in_process(
            instance=instance, raise_on_error=False
        )
        assert landing.success
        assert step_keys(instance, landing.run_id) == ["ingest_landing_files", "dbt_models"]
        unique = [e for e in landing.get_asset_check_evaluations()
                  if e.asset_key == dg.AssetKey("silver_orders") and e.check_name.startswith("unique_")]
        assert [e.passed for e in unique] == [True]  # the planted row was not written by the run
        # ... nor loaded by it: the count of one row per raw order covers the run's keys only.
        [one_row_per_order] = [e for e in landing.get_asset_check_evaluations()
                               if e.check_name == "silver_orders_one_row_per_raw_order_id"]
        assert one_row_per_order.passed
        [future] = [e for e in landing.get_asset_check_evaluations()
                    if e.check_name == "assert_no_orders_from_the_future"]
        assert future.passed

        full = platform.definitions.resolve_job_def("dbt_full_tests").execute_in_process(
            instance=instance, raise_on_error=False
        )
        evaluations = {e.check_name: e for e in full.get_asset_check_evaluations()}
        failed = sorted(name for name, e in evaluations.items() if not e.passed)
        assert [name for name in failed if name.startswith("unique_silver_orders")] == ["unique_silver_orders_order_id"]
        assert evaluations["unique_silver_orders_order_id"].metadata["dagster_dbt/failed_row_count"].value == 1
        # One order from the future: a warning (warn_if > 0, error_if > 10).
        future = evaluations["assert_no_orders_from_the_future"]
        assert not future.passed and future.severity == dg.AssetCheckSeverity.WARN
        assert future.metadata["dagster_dbt/failed_row_count"].value == 1
        # The whole table holds one order more than raw: a warning (severity warn).
        counted = evaluations["silver_orders_one_row_per_raw_order_id"]
        assert not counted.passed and counted.severity == dg.AssetCheckSeverity.WARN
        # Full scope: the tests read the whole tables (not_null passes over every row).
        assert evaluations["not_null_silver_orders_order_id"].passed
    finally:
        with duckdb.connect(str(settings.duckdb_path)) as con:
            con.execute("DELETE FROM silver.silver_orders WHERE _source_key = ?", [PLANTED])


def test_the_docs_site_is_generated_and_published(platform, tmp_path, monkeypatch):
    for name, value in platform.settings.to_environment().items():
        monkeypatch.setenv(name, value)
    settings = dataclasses.replace(platform.settings, dbt_docs_dir=tmp_path / "site")
    job = build_definitions(settings).resolve_job_def("dbt_docs")
    assert job.execute_in_process(instance=dg.DagsterInstance.ephemeral()).success

    site = tmp_path / "site"
    assert {p.name for p in site.iterdir()} == {"index.html", "static_index.html", "manifest.json", "catalog.json"}
    catalog = json.loads((site / "catalog.json").read_text())
    assert "model.analytics_platform.gold_daily_sales" in catalog["nodes"]
    manifest = json.loads((site / "manifest.json").read_text())
    assert manifest["nodes"]["model.analytics_platform.gold_daily_sales"]["description"]

    # The same files to an S3 prefix (moto here).
    s3 = build_s3_resource(platform.settings)
    published = publish(site, DocsDestination(bucket=platform.settings.landing_bucket, prefix="dbt-docs/"), s3)
    assert len(published) == 4
    head = s3.get_client().head_object(Bucket=platform.settings.landing_bucket, Key="dbt-docs/static_index.html")
    assert head["ContentType"] == "text/html"
