"""Environments (issue 11 item 5): ANALYTICS_ENV keys the schemas; a branch (one per pull request,
ANALYTICS_BRANCH) builds in its own `pr_<branch>_*` schemas and `drop-branch-schemas` removes
exactly those.

- The repo's project, parsed offline in production, dev and two branches on one (PostgreSQL)
  target: no schema of one environment is a schema of another; branch prefixes are sanitised
  and length-limited as documented (the expected names are recomputed here, md5 included).
- For real on DuckDB and on the session's PostgreSQL server: production and two branches built
  side by side in one warehouse; dropping one branch leaves production and the other branch
  untouched. A small project that uses the repo's macros folder keeps each dbt call short.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest

from analytics_platform import cli
from analytics_platform.settings import load_settings

from .helpers import DBT_PROJECT, postgres_database, run_dbt

LONG_BRANCH = "Feature/ÜBER-Long_branch name, with punctuation & a ticket ABC-1234 in it"
DATABASE_OBJECTS = ("model", "seed", "snapshot", "test")


def expected_prefix(branch: str) -> str:
    """The documented rule (macros/environments/branch_schemas.sql), recomputed independently."""
    clean = re.sub(r"[^a-z0-9]+", "_", branch.lower()).strip("_")
    if clean == branch and len("pr_" + clean) <= 40:
        return "pr_" + clean
    cut = clean[:28].strip("_")
    return f"pr_{cut + '_' if cut else ''}{hashlib.md5(branch.encode()).hexdigest()[:8]}"


def parsed_schemas(target_path: Path, env: dict[str, str]) -> dict[str, str]:
    run_dbt(["parse", "--target", "postgres"], target_path=target_path,
            env={"POSTGRES_SCHEMA": "analytics", "ANALYTICS_BRANCH": "", **env})
    nodes = json.loads((target_path / "manifest.json").read_text())["nodes"]
    return {uid: node["schema"] for uid, node in nodes.items() if node["resource_type"] in DATABASE_OBJECTS}


def test_no_schema_of_one_environment_is_a_schema_of_another(tmp_path):
    environments = {
        "production": {"ANALYTICS_ENV": "production"},
        "dev (alice)": {"ANALYTICS_ENV": "dev", "POSTGRES_SCHEMA": "dbt_alice"},
        # Both branches keep the default target schema, production's: the branch name alone
        # must keep them apart.
        "branch 123": {"ANALYTICS_ENV": "branch", "ANALYTICS_BRANCH": "123"},
        "branch long": {"ANALYTICS_ENV": "branch", "ANALYTICS_BRANCH": LONG_BRANCH},
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(parsed_schemas, tmp_path / str(i), env)
                   for i, (name, env) in enumerate(environments.items())}
        schemas = {name: future.result() for name, future in futures.items()}

    assert len({frozenset(by_node) for by_node in schemas.values()}) == 1  # the same nodes everywhere
    names = list(schemas)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            shared = set(schemas[first].values()) & set(schemas[second].values())
            assert not shared, f"{first} and {second} share schemas {sorted(shared)}"
    # Every schema of a branch starts with its prefix; every name fits PostgreSQL's 63 bytes.
    for name, branch in (("branch 123", "123"), ("branch long", LONG_BRANCH)):
        prefix = expected_prefix(branch)
        assert all(schema.startswith(prefix + "_") for schema in schemas[name].values()), name
    assert {schema.removeprefix("pr_123_") for schema in schemas["branch 123"].values()} == \
        set(schemas["production"].values())
    assert max(len(schema.encode()) for by_node in schemas.values() for schema in by_node.values()) <= 63


# --------------------------------------------------------------------------- drop-branch-schemas

SMALL_PROJECT = {
    "dbt_project.yml": """\
name: environments_probe
version: "1.0.0"
config-version: 2
profile: analytics_platform
macro-paths: ["{macros}"]
vars:
  settings_by_environment:
    default: {{audit_schema: audit}}
models:
  environments_probe:
    bronze: {{+schema: bronze, +materialized: view}}
    silver: {{+schema: silver, +materialized: table}}
    gold: {{+schema: gold, +materialized: table}}
""",
    "models/bronze/bronze_numbers.sql": "select 1 as n union all select 2\n",
    "models/silver/silver_numbers.sql": "select n from {{ ref('bronze_numbers') }}\n",
    "models/gold/gold_total.sql": "select sum(n) as total from {{ ref('silver_numbers') }}\n",
}
LAYERS = ("bronze", "silver", "gold")
BRANCHES = ("7", "7_1")  # pr_7_* and pr_7_1_*: one prefix begins the other's names


def small_project(path: Path) -> Path:
    """Three models, one per layer, on the repo's macros (schema naming, drop_branch_schemas)
    and profiles.yml."""
    macros = os.path.relpath(DBT_PROJECT / "macros", path)
    for relative, text in SMALL_PROJECT.items():
        (path / relative).parent.mkdir(parents=True, exist_ok=True)
        (path / relative).write_text(text.format(macros=macros) if relative == "dbt_project.yml" else text)
    (path / "profiles.yml").write_text((DBT_PROJECT / "profiles.yml").read_text())
    return path


def build_three_environments(project: Path, tmp_path: Path, target: str, env: dict[str, str]) -> None:
    def build(name: str, variables: dict[str, str]) -> None:
        run_dbt(["run", "--target", target], target_path=tmp_path / name, project_dir=project,
                env={**env, "ANALYTICS_WAREHOUSE": target, **variables})

    build("production", {"ANALYTICS_ENV": "production"})
    for branch in BRANCHES:
        build(f"branch_{branch}", {"ANALYTICS_ENV": "branch", "ANALYTICS_BRANCH": branch})


def drop_branch(monkeypatch, project: Path, env: dict[str, str], branch: str) -> int:
    settings = load_settings({**env, "ANALYTICS_ENV": "branch", "ANALYTICS_BRANCH": branch,
                              "ANALYTICS_DBT_PROJECT_DIR": str(project)})
    for name, value in settings.to_environment().items():
        monkeypatch.setenv(name, value)
    return cli.main(["drop-branch-schemas"])


def expected_schemas(*branches: str) -> set[str]:
    return {*LAYERS, *(f"{expected_prefix(b)}_{layer}" for b in branches for layer in LAYERS)}


def test_dropping_a_branch_on_duckdb_leaves_production_and_the_other_branch(tmp_path, monkeypatch):
    project = small_project(tmp_path / "project")
    warehouse = tmp_path / "warehouse.duckdb"
    env = {"ANALYTICS_DUCKDB_PATH": str(warehouse), "ANALYTICS_WAREHOUSE": "duckdb"}
    build_three_environments(project, tmp_path, "duckdb", env)

    def schemas() -> set[str]:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            rows = con.execute("SELECT DISTINCT table_schema FROM information_schema.tables").fetchall()
        return {schema for (schema,) in rows}

    assert schemas() == expected_schemas(*BRANCHES)
    # Outside a branch the command refuses before dbt runs.
    monkeypatch.setenv("ANALYTICS_ENV", "production")
    assert cli.main(["drop-branch-schemas"]) == 2

    assert drop_branch(monkeypatch, project, env, "7") == 0
    assert schemas() == expected_schemas("7_1")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT total FROM pr_7_1_gold.gold_total").fetchone() == (3,)
        assert con.execute("SELECT total FROM gold.gold_total").fetchone() == (3,)


def test_dbt_refuses_to_drop_branch_schemas_outside_a_branch(tmp_path):
    project = small_project(tmp_path / "project")
    completed = run_dbt(["run-operation", "drop_branch_schemas"], target_path=tmp_path / "target",
                        project_dir=project, env={"ANALYTICS_ENV": "production"}, check=False)
    assert completed.returncode != 0
    assert "drop_branch_schemas runs only with ANALYTICS_ENV=branch" in completed.stdout


@pytest.fixture
def postgres_env(postgres_server) -> dict[str, str]:
    return {**postgres_database(postgres_server, "environments"), "POSTGRES_SCHEMA": "analytics"}


def test_dropping_a_branch_on_postgres_leaves_production_and_the_other_branch(tmp_path, monkeypatch, postgres_env):
    import psycopg2

    project = small_project(tmp_path / "project")
    build_three_environments(project, tmp_path, "postgres", postgres_env)

    def schemas() -> set[str]:
        con = psycopg2.connect(host=postgres_env["POSTGRES_HOST"], port=int(postgres_env["POSTGRES_PORT"]),
                               user="postgres", dbname=postgres_env["POSTGRES_DATABASE"])
        try:
            with con.cursor() as cursor:
                cursor.execute("SELECT DISTINCT table_schema FROM information_schema.tables "
                               "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")
                return {schema for (schema,) in cursor.fetchall()}
        finally:
            con.close()

    assert schemas() == expected_schemas(*BRANCHES)
    assert drop_branch(monkeypatch, project, {**postgres_env, "ANALYTICS_WAREHOUSE": "postgres"}, "7_1") == 0
    assert schemas() == expected_schemas("7")
