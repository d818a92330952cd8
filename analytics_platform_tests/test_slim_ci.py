"""Slim CI (issue 11 item 6): production publishes its dbt manifest to S3; a pull request's
`analytics-platform ci` builds and tests only the model it changed and that model's children, in
the branch's own schemas, and reads every other parent from production.

Real parts: a copy of the repo's dbt project, one DuckDB file holding production's and the
branch's schemas (as one Redshift / Databricks warehouse would), the moto S3 server, dbt itself.
The expected node set is computed from the production manifest's child_map, not from dbt's
selection."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from analytics_platform import cli
from analytics_platform.defs.landing.resources import build_s3_resource
from analytics_platform.settings import Settings, load_settings

from .helpers import copy_dbt_project, create_raw_tables, run_dbt, run_results

CHANGED = "model.analytics_platform.silver_reviews"  # a silver model with a gold child
BRANCH = "PR-77/review tweaks"  # sanitised to pr_pr_77_review_tweaks_<md5>
EXECUTED = ("model.", "seed.", "snapshot.", "test.", "unit_test.")


def descendants(child_map: dict[str, list[str]], start: str) -> set[str]:
    found, todo = set(), [start]
    while todo:
        for child in child_map.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def physical_parents(manifest: dict, unique_id: str) -> set[str]:
    """The relations a node reads: its model / seed / snapshot parents, looking through ephemeral
    models (compiled inline as CTEs, so never deferred)."""
    found = set()
    for parent in manifest["parent_map"][unique_id]:
        node = manifest["nodes"].get(parent)
        if node is None:  # a source: raw tables, shared by every environment
            continue
        if node["config"]["materialized"] == "ephemeral":
            found |= physical_parents(manifest, parent)
        else:
            found.add(parent)
    return found


def use_environment(monkeypatch, variables: dict[str, str]) -> Settings:
    """The process environment of `analytics-platform` with these settings (all of them, so
    nothing the commands export to dbt outlives the test)."""
    settings = load_settings(variables)
    for name, value in settings.to_environment().items():
        monkeypatch.setenv(name, value)
    return settings


def test_ci_builds_only_the_changed_model_and_its_children_deferring_to_production(
    tmp_path: Path, s3_endpoint: str, dbt_manifest: Path, monkeypatch
):
    project = copy_dbt_project(tmp_path / "project")
    warehouse = tmp_path / "warehouse.duckdb"
    create_raw_tables(warehouse)
    common = {
        "ANALYTICS_S3_ENDPOINT_URL": s3_endpoint,
        "ANALYTICS_DUCKDB_PATH": str(warehouse),
        "ANALYTICS_DBT_PROJECT_DIR": str(project),
        "ANALYTICS_WAREHOUSE": "duckdb",
        "ANALYTICS_DBT_STATE_S3_PREFIX": "s3://ci-state-bucket/analytics/production",
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }

    # Production: build what the changed model and its children read (`@`: them, their
    # children and every ancestor), then publish the manifest.
    production = tmp_path / "production"
    run_dbt(["build", "--select", "@silver_reviews", "--exclude", "resource_type:test", "resource_type:unit_test"],
            target_path=production, warehouse=warehouse, project_dir=project, env={"ANALYTICS_ENV": "production"})
    s3 = build_s3_resource(use_environment(monkeypatch, {**common, "ANALYTICS_ENV": "production"})).get_client()
    s3.create_bucket(Bucket="ci-state-bucket")
    assert cli.main(["publish-manifest", "--manifest", str(production / "manifest.json")]) == 0
    published = s3.get_object(Bucket="ci-state-bucket", Key="analytics/production/manifest.json")["Body"].read()
    assert published == (production / "manifest.json").read_bytes()
    manifest = json.loads(published)

    # The pull request changes one silver model.
    model_file = project / manifest["nodes"][CHANGED]["original_file_path"]
    model_file.write_text(model_file.read_text() + "\n-- changed on the branch: slim CI rebuilds this and its children\n")

    use_environment(monkeypatch, {**common, "ANALYTICS_ENV": "branch", "ANALYTICS_BRANCH": BRANCH})
    assert cli.main(["ci", "--target-path", str(tmp_path / "ci")]) == 0

    # Exactly the changed model and everything downstream of it ran (tests and unit tests
    # included), and passed.
    results = run_results(tmp_path / "ci" / "branch")
    executed = {unique_id for unique_id in results if unique_id.startswith(EXECUTED)}
    expected = {CHANGED} | descendants(manifest["child_map"], CHANGED)
    expected = {unique_id for unique_id in expected if unique_id.startswith(EXECUTED)}
    assert any(unique_id.startswith("model.") for unique_id in expected - {CHANGED}), "pick a model with a child model"
    assert executed == expected
    assert {results[unique_id]["status"] for unique_id in executed} <= {"success", "pass"}

    # The models it built went to the branch's schemas; their other parents were read from
    # production's relations, which the branch has no copy of.
    branch_manifest = json.loads((tmp_path / "ci" / "branch" / "manifest.json").read_text())
    built = {unique_id for unique_id in executed if unique_id.startswith("model.")}
    prefix = branch_manifest["nodes"][CHANGED]["schema"].removesuffix("_silver")
    assert prefix.startswith("pr_pr_77_review_tweaks_") and len(prefix) <= 40
    deferred = set().union(*(physical_parents(manifest, unique_id) for unique_id in built)) - built
    assert deferred, "the changed model reads other models"
    for unique_id in built:
        compiled = results[unique_id]["compiled_code"]
        for parent in physical_parents(manifest, unique_id) - built:
            assert manifest["nodes"][parent]["relation_name"] in compiled, (unique_id, parent)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        branch_tables = set(con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE starts_with(table_schema, ?) "
            "AND table_schema <> ?", [prefix + "_", prefix + "_audit"]
        ).fetchall())
        production_tables = set(con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN "
            "('bronze', 'silver', 'gold', 'reference', 'snapshots')").fetchall())
    nodes = branch_manifest["nodes"]
    assert branch_tables == {(nodes[unique_id]["schema"], nodes[unique_id]["alias"]) for unique_id in built}
    assert all(schema.startswith(prefix + "_") for schema, _ in branch_tables)
    production_nodes = manifest["nodes"]
    assert {(production_nodes[p]["schema"], production_nodes[p]["alias"]) for p in deferred} <= production_tables
