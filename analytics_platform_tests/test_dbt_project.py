"""The dbt project on its own: offline parse and compile for every target, settings precedence,
contracts, the project's custom generic tests and the Python RFM scoring.

dbt runs as a subprocess (the dbt beside this interpreter) with its own DuckDB file, target
and log folder per test, so nothing here touches dbt_project/target or .local/.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
import textwrap
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from .helpers import (
    DBT_PROJECT,
    create_raw_tables,
    run_dbt,
    run_results,
)


def compiled_sql(target_path: Path, relative: str) -> str:
    return (target_path / "compiled" / "analytics_platform" / relative).read_text()


# --------------------------------------------------------------------------- other targets

@pytest.mark.parametrize(
    ("target", "dialect_markers"),
    [
        # Databricks: Spark SQL date functions, a spine from explode(sequence()).
        ("databricks", {"ecommerce/silver/silver_reviews.sql": "date_add(", "ecommerce/gold/gold_sales_by_region.sql": "explode(sequence("}),
        # Redshift: dateadd(), a spine from cross-joined digits (no generate_series on compute nodes).
        ("redshift", {"ecommerce/silver/silver_reviews.sql": "dateadd(day,", "ecommerce/gold/gold_sales_by_region.sql": "datediff(day,"}),
    ],
)
def test_the_project_parses_and_compiles_offline_for(target, dialect_markers, offline_compiled):
    # One offline compile per target and test session (conftest `offline_compiled`): Python
    # models are left out there (dbt-databricks looks the table up on the cluster to compile one).
    target_path = offline_compiled[target]
    manifest = json.loads((target_path / "manifest.json").read_text())
    python_model = "model.analytics_platform.silver_customer_rfm"
    # dbt-redshift runs no Python models: the RFM model and what reads it are disabled there.
    assert (python_model in manifest["nodes"]) is (target != "redshift")

    compiled = target_path / "compiled" / "analytics_platform" / "models"
    models = {p.stem for p in compiled.rglob("*.sql")}
    assert {"silver_orders", "silver_reviews", "gold_daily_sales", "gold_sales_by_region", "gold_sales_by_region_v1"} <= models
    for relative, marker in dialect_markers.items():
        assert marker in (compiled / relative).read_text(), (relative, marker)


# --------------------------------------------------------------------------- settings

@pytest.mark.parametrize(
    ("environment", "cli_vars", "lookback_days", "orphan_error_if"),
    [
        ("local", None, 3, ">100"),                    # settings_by_environment.local
        ("production", None, 7, ">10"),                # settings_by_environment.production
        ("production", {"incremental_lookback_days": 10, "orphan_orders_error_if": 5}, 10, ">5"),  # --vars wins
    ],
)
def test_settings_follow_the_documented_precedence(environment, cli_vars, lookback_days, orphan_error_if, tmp_path):
    # silver_reviews: the day-scoped fact (silver_orders scopes by key, macros/incremental/key_scope.sql)
    args = ["--no-populate-cache", "compile", "--no-introspect", "--select", "silver_reviews"]
    if cli_vars:
        args += ["--vars", json.dumps(cli_vars)]
    run_dbt(args, target_path=tmp_path, env={"ANALYTICS_ENV": environment})

    sql = compiled_sql(tmp_path, "models/ecommerce/silver/silver_reviews.sql")
    assert f"cast(-{lookback_days} as integer)" in sql
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    [orphan_test] = [
        node for node in manifest["nodes"].values()
        if node["resource_type"] == "test" and node["name"].startswith("relationships_silver_orders_product_id")
    ]
    assert (orphan_test["config"]["severity"], orphan_test["config"]["warn_if"]) == ("error", ">0")
    assert orphan_test["config"]["error_if"] == orphan_error_if


WINDOW_FILTER = re.compile(r"cast\(cast\(created_at as date\) as timestamp\)\s+>=.*?< cast\('[^']+' as timestamp\)", re.DOTALL)


@pytest.mark.parametrize(
    ("window_start", "window_end", "first_day", "last_day"),
    [
        ("2026-10-02 00:00:00", "2026-10-04 00:00:00", "2026-10-02", "2026-10-03"),  # days, half-open
        ("2026-10-02 05:00:00", "2026-10-02 08:00:00", "2026-10-02", "2026-10-02"),  # hours: their whole day
    ],
)
def test_a_backfill_window_reads_the_whole_days_it_touches(tmp_path, window_start, window_end, first_day, last_day):
    """A daily fact replaces whole days (silver_reviews: delete+insert on the day), so its window
    filter selects every row of each day the window touches: evaluated here on DuckDB."""
    window = {"window_start": window_start, "window_end": window_end}
    run_dbt(
        ["--no-populate-cache", "compile", "--no-introspect", "--select", "silver_orders", "--vars", json.dumps(window)],
        target_path=tmp_path,
    )
    sql = compiled_sql(tmp_path, "models/ecommerce/silver/silver_orders.sql")
    assert "not exists" not in sql  # the window replaces the incremental lookback entirely
    predicate = WINDOW_FILTER.search(sql).group(0)
    probes = [datetime(2026, 10, day, hour, minute) for day in (1, 2, 3, 4, 5) for hour, minute in ((0, 0), (23, 59))]
    with duckdb.connect() as con:
        selected = con.execute(
            f"SELECT created_at FROM unnest(?::TIMESTAMP[]) AS probes(created_at) WHERE {predicate} ORDER BY 1",
            [probes],
        ).fetchall()
    first, last = date.fromisoformat(first_day), date.fromisoformat(last_day)
    assert [ts for (ts,) in selected] == [ts for ts in probes if first <= ts.date() <= last]


def test_a_window_needs_both_bounds(tmp_path):
    refused = run_dbt(
        ["--no-populate-cache", "compile", "--no-introspect", "--select", "silver_orders",
         "--vars", json.dumps({"window_start": "2026-10-02 00:00:00"})],
        target_path=tmp_path, check=False,
    )
    assert refused.returncode != 0 and "Set both window_start and window_end" in refused.stdout


# --------------------------------------------------------------------------- schemas per environment

SCHEMA_PROBES = {
    # node -> its custom schema (dbt_project.yml)
    "model.analytics_platform.bronze_orders": "bronze",
    "model.analytics_platform.silver_orders": "silver",
    "model.analytics_platform.gold_daily_sales": "gold",
    "seed.analytics_platform.country_regions": "reference",
    "snapshot.analytics_platform.snap_products": "snapshots",
}


def parsed_schemas(tmp_path: Path, environment: str, target: str, env: dict[str, str]) -> dict[str, str]:
    """unique_id -> schema of the SCHEMA_PROBES nodes, from `dbt parse` (offline) in `environment`."""
    run_dbt(["parse", "--target", target], target_path=tmp_path, env={"ANALYTICS_ENV": environment, **env})
    nodes = json.loads((tmp_path / "manifest.json").read_text())["nodes"]
    return {unique_id: nodes[unique_id]["schema"] for unique_id in SCHEMA_PROBES}


@pytest.mark.parametrize(
    ("environment", "target", "env", "prefix"),
    [
        # production and local (a private DuckDB file, a test's throwaway server): bare schemas.
        ("production", "redshift", {"REDSHIFT_SCHEMA": "analytics"}, ""),
        ("local", "duckdb", {}, ""),
        # shared non-production warehouses: the target's own schema prefixes every custom schema.
        ("dev", "postgres", {"POSTGRES_SCHEMA": "dbt_alice"}, "dbt_alice_"),
        ("branch", "databricks", {"DATABRICKS_SCHEMA": "pr_123"}, "pr_123_"),
    ],
)
def test_each_environment_builds_in_its_own_schemas(environment, target, env, prefix, tmp_path):
    schemas = parsed_schemas(tmp_path, environment, target, env)
    assert schemas == {unique_id: prefix + custom for unique_id, custom in SCHEMA_PROBES.items()}


def test_two_dev_targets_on_one_warehouse_share_no_schema(tmp_path):
    alice = parsed_schemas(tmp_path / "alice", "dev", "postgres", {"POSTGRES_SCHEMA": "dbt_alice"})
    bob = parsed_schemas(tmp_path / "bob", "dev", "postgres", {"POSTGRES_SCHEMA": "dbt_bob"})
    production = parsed_schemas(tmp_path / "production", "production", "postgres", {"POSTGRES_SCHEMA": "dbt_alice"})
    assert not set(alice.values()) & set(bob.values())
    assert not set(alice.values()) & set(production.values())

    # The run hooks' audit tables follow the same rule (macros/audit.sql).
    compiled = run_dbt(
        ["--no-populate-cache", "compile", "--no-introspect", "--target", "postgres",
         "--inline", "select '{{ audit_relation(\"dbt_invocations\") }}' as audit_table"],
        target_path=tmp_path / "alice", env={"ANALYTICS_ENV": "dev", "POSTGRES_SCHEMA": "dbt_alice"},
    )
    assert '"dbt_alice_audit"."dbt_invocations"' in compiled.stdout


# --------------------------------------------------------------------------- contracts

def test_an_enforced_contract_rejects_a_column_of_the_wrong_type(tmp_path):
    project = tmp_path / "project"
    shutil.copytree(DBT_PROJECT, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    model = project / "models" / "ecommerce" / "gold" / "gold_daily_sales.sql"
    good = model.read_text()
    bad = good.replace("cast(count(*) as bigint) as orders", "cast(count(*) as varchar) as orders")
    assert bad != good
    model.write_text(bad)
    warehouse = tmp_path / "warehouse.duckdb"
    create_raw_tables(warehouse)

    completed = run_dbt(
        ["build", "--select", "+gold_daily_sales", "--exclude", "resource_type:test", "resource_type:unit_test"],
        target_path=tmp_path / "target", warehouse=warehouse, project_dir=project, check=False,
    )

    assert completed.returncode != 0
    result = run_results(tmp_path / "target")["model.analytics_platform.gold_daily_sales"]
    assert result["status"] == "error"
    assert "enforced contract" in result["message"] and "orders" in result["message"]
    assert result["message"].count("varchar") or "VARCHAR" in result["message"]
    # Everything upstream built; the gold table was never created with the wrong shape.
    assert run_results(tmp_path / "target")["model.analytics_platform.silver_orders"]["status"] == "success"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        gold = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'gold' AND table_name = 'gold_daily_sales'"
        ).fetchone()[0]
    assert gold == 0


# --------------------------------------------------------------------------- custom generic tests

GENERIC_TESTS_PROJECT = {
    "dbt_project.yml": """
        name: generic_tests_check
        version: "1.0.0"
        config-version: 2
        profile: generic_tests_check
        macro-paths: ["macros"]
        test-paths: ["tests"]
        models:
          generic_tests_check:
            +materialized: table
    """,
    "profiles.yml": """
        generic_tests_check:
          target: local
          outputs:
            local:
              type: duckdb
              path: "{{ env_var('ANALYTICS_DUCKDB_PATH') }}"
              threads: 1
    """,
    # Rows where every rule below holds.
    "models/good_rows.sql": """
        select * from (values
            (1, 'a', 'x', 10, 5, {{ add_hours(utc_now(), -1) }}),
            (2, 'a', 'y', 20, 5, {{ add_hours(utc_now(), -2) }}),
            (3, 'b', 'x', 30, null, {{ add_hours(utc_now(), -3) }})
        ) as t(id, region, channel, amount, score, loaded_at)
    """,
    # Two duplicated (region, channel) pairs, two rows breaking `amount > 0`, one null
    # expression, two scores out of [1, 5], nothing loaded in the last 24 hours, 5 rows.
    "models/bad_rows.sql": """
        select * from (values
            (1, 'a', 'x', 10, 5, {{ add_hours(utc_now(), -48) }}),
            (2, 'a', 'x', -5, 0, {{ add_hours(utc_now(), -49) }}),
            (3, 'b', 'y', 0, 9, {{ add_hours(utc_now(), -50) }}),
            (4, 'b', 'y', null, 3, {{ add_hours(utc_now(), -51) }}),
            (5, 'c', 'z', 7, null, {{ add_hours(utc_now(), -52) }})
        ) as t(id, region, channel, amount, score, loaded_at)
    """,
    "models/three_rows.sql": "select * from (values (1), (2), (3)) as t(n)",
}

# failures each test must report on bad_rows (good_rows: 0, status pass).
EXPECTED_FAILURES_ON_BAD_ROWS = {
    "expression_is_true": 3,  # -5, 0 and null (a null expression is not true)
    "unique_combination_of_columns": 2,  # (a, x) and (b, y)
    "row_count_comparison": 1,  # 5 rows vs 3
    "row_count_comparison_distinct_at_most": 1,  # 3 regions vs 2 rows with n > 1
    "accepted_range": 2,  # 0 and 9; null is left to not_null
    "recency": 1,  # newest row 48 hours old
}


def generic_tests_schema() -> str:
    """The same six checks on good_rows and on bad_rows, each named <model>__<check>."""
    models = []
    for model in ("good_rows", "bad_rows"):
        models.append({
            "name": model,
            "data_tests": [
                {"expression_is_true": {"name": f"{model}__expression_is_true", "arguments": {"expression": "amount > 0"}}},
                {"unique_combination_of_columns": {
                    "name": f"{model}__unique_combination_of_columns",
                    "arguments": {"combination_of_columns": ["region", "channel"]}}},
                {"row_count_comparison": {
                    "name": f"{model}__row_count_comparison", "arguments": {"compare_model": "ref('three_rows')"}}},
                {"row_count_comparison": {
                    "name": f"{model}__row_count_comparison_distinct_at_most",
                    "arguments": {"compare_model": "ref('three_rows')", "operator": "<=",
                                  "count_expression": "count(distinct region)", "compare_where": "n > 1"}}},
            ],
            "columns": [
                {"name": "score", "data_tests": [{"accepted_range": {
                    "name": f"{model}__accepted_range", "arguments": {"min_value": 1, "max_value": 5}}}]},
                {"name": "loaded_at", "data_tests": [{"recency": {
                    "name": f"{model}__recency", "arguments": {"max_age_hours": 24}}}]},
            ],
        })
    return json.dumps({"version": 2, "models": models}, indent=2)  # JSON is YAML


def generic_tests_project(project: Path, schema: str, models: dict[str, str]) -> Path:
    """GENERIC_TESTS_PROJECT plus `models`, with the project's own generic tests and the macros
    they use (cross-database, and the run scope of the incremental facts' tests), unchanged."""
    (project / "models").mkdir(parents=True)
    (project / "models" / "schema.yml").write_text(schema)
    for relative, text in {**GENERIC_TESTS_PROJECT, **models}.items():
        path = project / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    shutil.copytree(DBT_PROJECT / "tests" / "generic", project / "tests" / "generic")
    shutil.copytree(DBT_PROJECT / "macros" / "cross_db", project / "macros" / "cross_db")
    (project / "macros" / "incremental").mkdir()
    shutil.copy(DBT_PROJECT / "macros" / "incremental" / "test_scope.sql", project / "macros" / "incremental")
    return project


def results_of_tests(target_path: Path) -> dict[str, dict]:
    return {
        result["unique_id"].split(".")[2]: result
        for result in run_results(target_path).values()
        if result["unique_id"].startswith("test.")
    }


def test_custom_generic_tests_fail_on_bad_data_and_pass_on_good_data(tmp_path):
    project = generic_tests_project(tmp_path / "project", generic_tests_schema(), {})

    run_dbt(
        ["build"], target_path=tmp_path / "target", warehouse=tmp_path / "checks.duckdb",
        project_dir=project, check=False,
    )

    by_name = results_of_tests(tmp_path / "target")
    assert len(by_name) == 2 * len(EXPECTED_FAILURES_ON_BAD_ROWS)
    for test, failures in EXPECTED_FAILURES_ON_BAD_ROWS.items():
        good, bad = by_name[f"good_rows__{test}"], by_name[f"bad_rows__{test}"]
        assert (good["status"], good["failures"]) == ("pass", 0), (test, good["message"])
        assert (bad["status"], bad["failures"]) == ("fail", failures), (test, bad["message"])


# A landed table and facts built from it, as an incremental fact stands after a landing run:
# keys 1-3 written by an earlier run from an earlier load (old.csv), keys 4 and 5 loaded since
# (new.csv; 5 twice, once with spaces) and written by this run (`dbt_run_at()`: this
# invocation's stamp).
EARLIER_LOAD, EARLIER_RUN, NEW_LOAD = "2026-01-01 00:00:00", "2026-01-01 01:00:00", "2026-01-02 00:00:00"
NEW, OLD = ("new.csv", NEW_LOAD), ("old.csv", EARLIER_LOAD)  # (file, when it was loaded)
FACT_ROWS = {  # fact -> (keys an earlier run wrote, (key, file) this run wrote)
    "fact_complete": (["1", "2", "3"], [("4", NEW), ("5", NEW)]),
    # this run rewrote key 2 from its old file (e.g. a product version re-priced it)
    "fact_rewrote_an_old_key": (["1", "3"], [("2", OLD), ("4", NEW), ("5", NEW)]),
    "fact_lost_a_new_key": (["1", "2", "3"], [("4", NEW)]),
    "fact_old_duplicate": (["1", "1", "2", "3"], [("4", NEW), ("5", NEW)]),
    "fact_new_duplicate": (["1", "2", "3"], [("4", NEW), ("4", NEW), ("5", NEW)]),
    "fact_wrote_a_key_never_landed": (["1", "2", "3"], [("4", NEW), ("5", NEW), ("6", NEW)]),
}


def scoped_count_models() -> dict[str, str]:
    def row(key: str, origin: tuple[str, str], run_at: str) -> str:
        return f"('{key}', '{origin[0]}', cast('{origin[1]}' as timestamp), {run_at})"

    landed = [(" 1", OLD), ("2", OLD), ("3", OLD), ("4", NEW), ("5 ", NEW), ("5", NEW)]
    models = {"models/landed.sql": "select * from (values {}) as t(id, _source_key, _loaded_at)".format(
        ", ".join(f"('{key}', '{file}', cast('{at}' as timestamp))" for key, (file, at) in landed))}
    for fact, (earlier, this_run) in FACT_ROWS.items():
        rows = [row(key, OLD, f"cast('{EARLIER_RUN}' as timestamp)") for key in earlier]
        rows += [row(key, origin, "{{ dbt_run_at() }}") for key, origin in this_run]
        models[f"models/{fact}.sql"] = (
            "select * from (values {}) as t(id, _source_key, _loaded_at, _dbt_run_at)".format(", ".join(rows))
        )
    return models


def scoped_count_schema() -> str:
    return json.dumps({"version": 2, "models": [
        {"name": fact, "data_tests": [{"row_count_comparison": {"name": f"{fact}__one_row_per_landed_id", "arguments": {
            "compare_model": "ref('landed')", "key": "id", "compare_key": "trim(id)"}}}]}
        for fact in FACT_ROWS
    ]})


def test_row_count_comparison_by_key_counts_the_keys_of_the_run_and_every_key_under_full_scope(tmp_path):
    """A landing run's count covers the keys it wrote and the keys loaded since the fact's older
    rows: a lost, doubled or never-landed key among them fails it, a duplicate among older rows
    is left to the scheduled full-scope run (dbt_full_tests), which fails on all four."""
    project = generic_tests_project(tmp_path / "project", scoped_count_schema(), scoped_count_models())
    outcomes = {}
    for scope, extra in (("this_run", []), ("full", ["--vars", "{test_scope: full}"])):
        target = tmp_path / f"target_{scope}"
        run_dbt(["build", *extra], target_path=target, warehouse=tmp_path / "checks.duckdb",
                project_dir=project, check=False)
        outcomes[scope] = {name.split("__")[0]: result["status"] for name, result in results_of_tests(target).items()}

    assert outcomes["this_run"] == {
        "fact_complete": "pass", "fact_rewrote_an_old_key": "pass", "fact_lost_a_new_key": "fail",
        "fact_old_duplicate": "pass", "fact_new_duplicate": "fail", "fact_wrote_a_key_never_landed": "fail",
    }, outcomes["this_run"]
    assert outcomes["full"] == {
        "fact_complete": "pass", "fact_rewrote_an_old_key": "pass", "fact_lost_a_new_key": "fail",
        "fact_old_duplicate": "fail", "fact_new_duplicate": "fail", "fact_wrote_a_key_never_landed": "fail",
    }, outcomes["full"]


# --------------------------------------------------------------------------- Python model

RFM_MODEL = DBT_PROJECT / "models" / "ecommerce" / "silver" / "silver_customer_rfm.py"


def load_rfm_model():
    spec = importlib.util.spec_from_file_location("silver_customer_rfm", RFM_MODEL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sample_rfm_orders() -> pd.DataFrame:
    return pd.DataFrame(
        [
            # U1: recent, frequent, big -> Champions; U5: long ago, once, small -> Hibernating
            *[(f"O1{i}", "U1", "2026-10-14", 100.0, False) for i in range(5)],
            *[(f"O2{i}", "U2", "2026-10-13", 30.0, False) for i in range(3)],
            ("O30", "U3", "2026-10-12", 20.0, False),
            ("O31", "U3", "2026-10-12", 999.0, True),  # cancelled: ignored
            ("O40", "U4", "2026-10-05", 15.0, False),
            ("O50", "U5", "2026-10-01", 5.0, False),
        ],
        columns=["order_id", "user_id", "order_date", "line_revenue", "is_cancelled"],
    )


def test_rfm_scoring_ranks_customers_and_applies_the_first_matching_rule():
    rfm = load_rfm_model()
    orders = sample_rfm_orders()
    scored = rfm.score_customers(orders).set_index("user_id")

    assert list(scored.index) == ["U1", "U2", "U3", "U4", "U5"]
    assert scored.loc["U3", "orders"] == 1 and scored.loc["U3", "revenue"] == 20.0
    assert (scored.loc["U1", "rfm_score"], scored.loc["U1", "segment"]) == ("555", "Champions")
    assert (scored.loc["U5", "rfm_score"], scored.loc["U5", "segment"]) == ("111", "Hibernating")
    assert scored["recency_days"].to_dict() == {"U1": 0, "U2": 1, "U3": 2, "U4": 9, "U5": 13}
    assert set(scored["scored_as_of"].astype(str)) == {"2026-10-14"}
    assert rfm.score_customers(orders.iloc[0:0]).empty


def test_rfm_scoring_in_duckdb_equals_the_pandas_reference():
    """dbt-duckdb runs score_relation (lazy DuckDB relations); score_customers (pandas) is the
    reference and the Databricks path: same rows, values and order on the same orders, ties
    and a cancelled order included."""
    rfm = load_rfm_model()
    orders = sample_rfm_orders()
    orders = pd.concat([orders, pd.DataFrame(  # ties on every score, and a customer with only a cancellation
        [("O60", "U6", "2026-10-05", 15.0, False), ("O70", "U7", "2026-10-02", 50.0, True)],
        columns=orders.columns,
    )], ignore_index=True)
    con = duckdb.connect()
    con.register("orders_frame", orders)
    relation = con.sql(
        "select order_id, user_id, cast(order_date as date) as order_date,"
        " cast(line_revenue as decimal(18, 2)) as line_revenue, is_cancelled from orders_frame"
    )
    scored = rfm.score_relation(relation)

    assert scored.columns == rfm.COLUMNS
    assert [str(t) for t in scored.types] == [
        "VARCHAR", "DATE", "DATE", "BIGINT", "DOUBLE", "BIGINT",
        "BIGINT", "BIGINT", "BIGINT", "VARCHAR", "VARCHAR", "DATE",
    ]
    expected = rfm.score_customers(orders)
    assert scored.fetchall() == [tuple(row) for row in expected.itertuples(index=False)]


def test_rfm_scoring_in_duckdb_leaves_pandas_unimported():
    """The DuckDB path composes relations only; importing pandas there cost ~0.3 s of every DuckDB
    build. Run in a fresh interpreter: this one has pandas loaded already."""
    script = textwrap.dedent(
        f"""
        import runpy, sys
        import duckdb
        rfm = runpy.run_path({str(RFM_MODEL)!r})
        orders = duckdb.sql(
            "select 'O1' as order_id, 'U1' as user_id, date '2026-10-01' as order_date,"
            " cast(12.5 as decimal(18, 2)) as line_revenue, false as is_cancelled"
        )
        print(rfm["score_relation"](orders).fetchall())
        print(sorted(name for name in sys.modules if name.split('.')[0] == 'pandas'))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    scored, pandas_modules = result.stdout.strip().splitlines()
    assert scored.startswith("[('U1', datetime.date(2026, 10, 1)"), scored
    assert pandas_modules == "[]"


def test_rfm_segment_rules_give_the_same_segment_in_sql_and_python():
    rfm = load_rfm_model()
    rows = duckdb.sql(
        f"select r_score, f_score, m_score, {rfm.segment_case_sql()} as segment"
        " from range(1, 6) r(r_score), range(1, 6) f(f_score), range(1, 6) m(m_score)"
    ).fetchall()
    assert len(rows) == 125
    assert {(r, f, m): segment for r, f, m, segment in rows} == {
        (r, f, m): rfm.segment_for(r, f, m) for r, f, m, _ in rows
    }
    assert {segment for *_, segment in rows} == {name for name, _ in rfm.SEGMENT_RULES} | {rfm.DEFAULT_SEGMENT}
