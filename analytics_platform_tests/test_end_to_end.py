"""Landing -> gold through Dagster on a real S3 API and a real DuckDB file, checked against an
independent recomputation from the landed files (standard library + pyarrow, no warehouse)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections import defaultdict
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from analytics_platform.local.dagster_yaml import DAGSTER_YAML
from analytics_platform.local.sample_data import (
    LandingFile,
    SampleSpec,
)
from analytics_platform.settings import Settings

from .helpers import REPO_ROOT, BuiltPlatform, read_rows

CENT = Decimal("0.01")


@pytest.fixture
def platform(built_platform: BuiltPlatform, monkeypatch) -> BuiltPlatform:
    for name, value in built_platform.settings.to_environment().items():
        monkeypatch.setenv(name, value)  # DAGSTER_HOME etc. for instances opened from config
    return built_platform


def query(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def as_datetime(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def good_rows(files: list[LandingFile], dataset: str) -> list[dict]:
    return [row for f in files if f.dataset == dataset and f.domain == "ecommerce" and not f.malformed
            for row in read_rows(f)]


def expected_daily_sales(files: list[LandingFile]) -> list[tuple]:
    orders = {row["order_id"].strip(): row for row in good_rows(files, "orders")}  # one per order
    days = defaultdict(lambda: [0, 0, Decimal(0)])
    for row in orders.values():
        if row["status"].strip().lower() == "cancelled":
            continue
        day = days[as_datetime(row["created_at"]).date()]
        quantity = int(row["quantity"])
        day[0] += 1
        day[1] += quantity
        day[2] += quantity * Decimal(str(row["unit_price"]))
    return [
        (date, count, units, revenue.quantize(CENT, ROUND_HALF_UP))
        for date, (count, units, revenue) in sorted(days.items())
    ]


def expected_daily_avg_rating(files: list[LandingFile]) -> list[tuple]:
    reviews = {row["review_id"].strip(): row for row in good_rows(files, "reviews")}
    groups = defaultdict(list)
    for row in reviews.values():
        groups[(as_datetime(row["created_at"]).date(), row["product_id"].strip())].append(int(row["rating"]))
    return [
        (date, product, (Decimal(sum(r)) / len(r)).quantize(CENT, ROUND_HALF_UP), len(r))
        for (date, product), r in sorted(groups.items())
    ]


def expected_product_categories(files: list[LandingFile]) -> list[tuple]:
    current = {}
    for row in good_rows(files, "products"):
        product_id = row["product_id"].strip()
        if product_id not in current or as_datetime(row["updated_at"]) >= as_datetime(current[product_id]["updated_at"]):
            current[product_id] = row
    categories = defaultdict(list)
    for row in current.values():
        categories[row["category"].strip()].append(Decimal(str(row["price"])))
    return [
        (category, len(prices), min(prices), max(prices), (sum(prices) / len(prices)).quantize(CENT, ROUND_HALF_UP))
        for category, prices in sorted(categories.items())
    ]


def test_the_job_succeeds_with_every_check_passing(platform):
    assert platform.result.success
    evaluations = platform.result.get_asset_check_evaluations()
    assert len(evaluations) > 20
    assert [e.asset_check_key for e in evaluations if not e.passed] == []
    # dbt source freshness is not part of a landing run: its own job (hourly schedule) runs it.
    assert [e for e in evaluations if e.check_name == "dbt_source_freshness"] == []


def test_source_freshness_runs_as_its_own_job_on_the_landed_data(platform):
    job = platform.definitions.resolve_job_def("source_freshness")
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    freshness = {e.asset_key: e for e in result.get_asset_check_evaluations()}
    ecommerce = {dg.AssetKey(["raw", "ecommerce", name]) for name in ("orders", "products", "users", "reviews")}
    assert ecommerce <= set(freshness)
    # Just loaded by the session's landing run: within the YAML's warn_after (24 h).
    assert all(freshness[key].passed and freshness[key].metadata["status"].value == "pass" for key in ecommerce)
    assert result.get_asset_materialization_events() == []  # checks only: nothing rebuilt


def test_gold_daily_sales_equals_an_independent_recomputation(platform):
    expected = expected_daily_sales(platform.files)
    actual = query(platform.settings, "SELECT order_date, orders, units, revenue FROM gold.gold_daily_sales ORDER BY 1")
    assert len(expected) == SampleSpec().days
    assert actual == expected


def test_gold_daily_avg_rating_equals_an_independent_recomputation(platform):
    expected = expected_daily_avg_rating(platform.files)
    actual = query(
        platform.settings,
        "SELECT review_date, product_id, avg_rating, review_count FROM gold.gold_daily_avg_rating ORDER BY 1, 2",
    )
    assert len(expected) > 100
    assert actual == expected


def test_product_categories_equals_an_independent_recomputation(platform):
    expected = expected_product_categories(platform.files)
    actual = query(
        platform.settings,
        "SELECT category, product_count, min_price, max_price, avg_price FROM gold.product_categories ORDER BY 1",
    )
    assert actual == expected


def test_malformed_files_are_quarantined_and_everything_else_is_loaded_once(platform):
    malformed = sorted(f.key for f in platform.files if f.malformed)
    assert len(malformed) == 2
    assert [key for (key,) in query(platform.settings, "SELECT s3_key FROM raw._ingestion_quarantine ORDER BY 1")] == malformed
    [(files, rows)] = query(platform.settings, "SELECT count(*), sum(rows) FROM raw._ingestion_ledger")
    good = [f for f in platform.files if not f.malformed]
    assert (files, rows) == (len(good), sum(len(read_rows(f)) for f in good))


def seed_rows(name: str) -> int:
    with (REPO_ROOT / "dbt_project" / "seeds" / f"{name}.csv").open(newline="") as handle:
        return sum(1 for _ in csv.DictReader(handle))


def test_each_node_the_landing_run_wrote_reports_its_rows_on_its_materialization(platform):
    """Rows as dbt's adapter reported them while dbt ran (DuckDB through the profile's plugin,
    dbt_project/macros/rows_affected.sql), compared with counts recomputed from the landed files."""
    metadata = {
        e.asset_key.to_user_string(): e.materialization.metadata
        for e in platform.result.get_asset_materialization_events()
    }
    row_counts = {
        "gold_daily_sales": len(expected_daily_sales(platform.files)),  # tables: their rows
        "gold_daily_avg_rating": len(expected_daily_avg_rating(platform.files)),
        "product_categories": len(expected_product_categories(platform.files)),
        "category_departments": seed_rows("category_departments"),  # a seed
    }
    assert {key: metadata[key]["dagster/row_count"].value for key in row_counts} == row_counts
    # An incremental model: the rows this run wrote (its first: one per order), not as its size.
    orders = {row["order_id"].strip() for row in good_rows(platform.files, "orders")}
    assert metadata["silver_orders"]["dbt/rows_affected"].value == len(orders)
    assert "dagster/row_count" not in metadata["silver_orders"]
    # A view wrote nothing.
    assert not {"dagster/row_count", "dbt/rows_affected"} & set(metadata["bronze_orders"])
    # A Python model (silver_customer_rfm on DuckDB) reports no rows: the hook counts them.
    customers = {
        row["user_id"].strip() for row in good_rows(platform.files, "orders")
        if row["status"].strip().lower() != "cancelled"
    }
    assert metadata["silver_customer_rfm"]["dagster/row_count"].value == len(customers)


def test_dbt_materializations_are_reported_while_dbt_runs(platform):
    """Not held until dbt exits: the first node's materialization, with its rows, arrives while
    the dbt process is still building the rest."""
    from analytics_platform.defs.dbt.assets import stream_with_row_counts
    from analytics_platform.lib.dbt_project import dbt_cli_resource, load_manifest

    settings = platform.settings
    selection = "gold_daily_sales gold_daily_avg_rating product_categories"
    invocation = dbt_cli_resource(settings).cli(
        ["build", "--select", selection], manifest=load_manifest(settings)
    )
    events = stream_with_row_counts(invocation)
    first = next(e for e in events if isinstance(e, dg.AssetMaterialization))
    dbt_still_running = invocation.process.poll() is None
    rest = [e for e in events if isinstance(e, dg.AssetMaterialization)]
    assert dbt_still_running
    rows = {e.asset_key.path[-1]: e.metadata["dagster/row_count"].value for e in [first, *rest]}
    assert rows == {
        "gold_daily_sales": len(expected_daily_sales(platform.files)),
        "gold_daily_avg_rating": len(expected_daily_avg_rating(platform.files)),
        "product_categories": len(expected_product_categories(platform.files)),
    }


def test_the_landing_runs_dbt_leaves_its_artifacts_and_no_debug_log_file(platform):
    """dbt's debug log file costs ~17 ms per node (settings.DBT_FILE_LOG_LEVEL): the platform's
    dbt skips it; Dagster has the node events, the invocation folder the SQL each node ran."""
    run_id = platform.result.run_id
    target = platform.settings.dbt_project_dir / os.environ.get("DBT_TARGET_PATH", "target")
    (invocation,) = target.glob(f"dbt_models-{run_id[:7]}-*")
    assert (invocation / "run_results.json").exists()
    assert list((invocation / "run").rglob("gold_daily_sales.sql"))
    assert not list(invocation.rglob("dbt.log*"))


def prepare_dagster_home(settings: Settings) -> None:
    """The CLI's instance folder, written before any reader opens it (a test run alone may ask
    for its runs before the first CLI run)."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    (settings.dagster_home / "dagster.yaml").write_text(DAGSTER_YAML)


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    prepare_dagster_home(settings)
    environment = {**os.environ, **settings.to_environment()}
    completed = subprocess.run(
        [str(Path(sys.executable).with_name(args[0])), *args[1:]],
        cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=600, check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed


def run_ids(platform: BuiltPlatform) -> set[str]:
    prepare_dagster_home(platform.settings)
    with dg.DagsterInstance.from_config(str(platform.settings.dagster_home)) as instance:
        return {run.run_id for run in instance.get_runs()}


def materialized_keys(platform: BuiltPlatform, runs_before: set[str]) -> set[str]:
    """Assets materialized by the CLI runs started since `runs_before` (the shared instance also
    holds other tests' runs)."""
    with dg.DagsterInstance.from_config(str(platform.settings.dagster_home)) as instance:
        return {
            event.dagster_event.asset_key.to_user_string()
            for run in instance.get_runs()
            if run.run_id not in runs_before
            for event in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
        }


def test_one_gold_table_builds_alone_from_already_built_parents_then_with_its_upstream(platform):
    settings = platform.settings
    first_day = query(settings, "SELECT min(order_date) FROM silver.silver_orders")[0][0]
    # Tamper with a parent: a gold-only build must read it as it is, not rebuild it.
    with duckdb.connect(str(settings.duckdb_path)) as con:
        con.execute("DELETE FROM silver.silver_orders WHERE order_date = $1", [first_day])

    before = run_ids(platform)
    run_cli(settings, "dg", "launch", "--assets", "key:gold_daily_sales")
    assert materialized_keys(platform, before) == {"gold_daily_sales"}
    days = [d for (d,) in query(settings, "SELECT order_date FROM gold.gold_daily_sales ORDER BY 1")]
    assert first_day not in days and len(days) == len(expected_daily_sales(platform.files)) - 1

    # With its upstream, the day missing from silver_orders is caught up (no raw row of it in
    # the table: macros/incremental/scope.sql), in one dbt invocation.
    before = run_ids(platform)
    run_cli(settings, "dg", "launch", "--assets", "+key:gold_daily_sales")
    rebuilt = materialized_keys(platform, before)
    assert {"silver_orders", "bronze_orders", "raw/ecommerce/orders", "gold_daily_sales"} <= rebuilt
    assert "gold_daily_avg_rating" not in rebuilt
    actual = query(settings, "SELECT order_date, orders, units, revenue FROM gold.gold_daily_sales ORDER BY 1")
    assert actual == expected_daily_sales(platform.files)


def test_the_code_location_validates(platform):
    completed = run_cli(platform.settings, "dagster", "definitions", "validate", "-w", "workspace.yaml")
    assert "Validation successful" in completed.stdout + completed.stderr
