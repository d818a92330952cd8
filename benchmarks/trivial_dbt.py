"""A throwaway dbt project of N trivial models, laid out like the real one.

`models/bench/{bronze,silver,gold}/` so the project's translator groups and tags them the same
way; bronze models declare a dependency on the real `raw` sources (same `meta.dagster.asset_key`
and freshness config as `dbt_project/models/ecommerce/bronze/_bronze__sources.yml`) without
querying them, so the code location built on it has the same shape as the real one (ingestion
assets upstream, source freshness checks) while a plain `dbt build` needs no raw tables.
Every `tests_every`-th model has a `not_null` test, so asset checks are exercised too; the
load-time project also has a few incremental models, like the real one.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from benchmarks.common import REPO_ROOT

PROJECT_NAME = "bench_trivial"
RAW_TABLES = ("orders", "products", "users", "reviews")

DBT_PROJECT_YML = f"""\
name: {PROJECT_NAME}
version: "1.0.0"
config-version: 2
profile: {PROJECT_NAME}
model-paths: ["models"]
target-path: target
flags:
  send_anonymous_usage_stats: false
models:
  {PROJECT_NAME}:
    +materialized: table
    +post-hook:
      - "{{{{ report_rows_affected() }}}}"
"""

# The real project's row-count hook (and, below, its DuckDB plugin): plain dbt runs them too.
ROWS_AFFECTED_MACRO = REPO_ROOT / "dbt_project" / "macros" / "rows_affected.sql"

# The real project's profile, whose `duckdb` output (threads, plugin, memory budget) this project
# runs with: the benchmark's dbt runs as the platform's does, and follows the profile when it changes.
REAL_PROFILES_YML = REPO_ROOT / "dbt_project" / "profiles.yml"


def profiles_yml() -> str:
    """dbt_project/profiles.yml's `duckdb` output under this project's profile name."""
    real = yaml.safe_load(REAL_PROFILES_YML.read_text())["analytics_platform"]
    profile = {"target": "duckdb", "outputs": {"duckdb": real["outputs"]["duckdb"]}}
    return yaml.safe_dump({PROJECT_NAME: profile}, sort_keys=False, width=1000)


def _sources_yml() -> str:
    """The raw tables as landing datasets of the `ecommerce` domain (one column each): the code
    location derives their ingestion assets and keys (raw/ecommerce/<table>) from this."""
    tables = "\n".join(
        f"""      - name: {name}
        columns:
          - name: id
            data_type: varchar
            description: Id."""
        for name in RAW_TABLES
    )
    return f"""\
version: 2
sources:
  - name: ecommerce
    schema: raw_ecommerce
    config:
      loaded_at_field: _loaded_at
      freshness:
        warn_after: {{count: 24, period: hour}}
        error_after: {{count: 48, period: hour}}
      meta:
        landing: {{}}
    tables:
{tables}
"""


def layer_of(index: int, models: int) -> str:
    third = max(1, models // 3)
    return "bronze" if index < third else "silver" if index < 2 * third else "gold"


def generate(path: Path, models: int, tests_every: int = 10, incremental_every: int = 0) -> Path:
    """Write the project under `path` (replacing it); returns `path`.

    `incremental_every`: every n-th gold model is `materialized='incremental'` (the code
    location builds those as a separate, partitioned dbt asset and needs at least one).
    """
    if path.exists():
        shutil.rmtree(path)
    (path / "models" / "bench").mkdir(parents=True)
    (path / "dbt_project.yml").write_text(DBT_PROJECT_YML)
    (path / "profiles.yml").write_text(profiles_yml())
    (path / "macros").mkdir()
    shutil.copy(ROWS_AFFECTED_MACRO, path / "macros" / ROWS_AFFECTED_MACRO.name)
    (path / "models" / "bench" / "_sources.yml").write_text(_sources_yml())
    tests: dict[str, list[str]] = {"bronze": [], "silver": [], "gold": []}
    for i in range(models):
        layer = layer_of(i, models)
        folder = path / "models" / "bench" / layer
        folder.mkdir(exist_ok=True)
        name = f"m{i:05d}"
        if layer == "bronze":
            raw = RAW_TABLES[i % len(RAW_TABLES)]
            body = (
                f"-- depends_on: {{{{ source('ecommerce', '{raw}') }}}}\n"
                f"select {i} as id, 'bronze' as payload\n"
            )
        else:
            # Two parents from the previous layer: a real DAG, not a list.
            third = max(1, models // 3)
            base = 0 if layer == "silver" else third
            a, b = base + (i * 7) % third, base + (i * 13 + 1) % third
            body = (
                f"select {i} as id, a.payload from {{{{ ref('m{a:05d}') }}}} as a\n"
                f"union all select {i}, b.payload from {{{{ ref('m{b:05d}') }}}} as b\n"
            )
            if layer == "gold" and incremental_every and i % incremental_every == 0:
                body = "{{ config(materialized='incremental') }}\n" + body
        (folder / f"{name}.sql").write_text(body)
        if tests_every and i % tests_every == 0:
            tests[layer].append(name)
    for layer, names in tests.items():
        if not names:
            continue
        entries = "\n".join(
            f"  - name: {n}\n    columns:\n      - name: id\n        data_tests: [not_null]"
            for n in names
        )
        (path / "models" / "bench" / layer / f"_{layer}__models.yml").write_text(
            f"version: 2\nmodels:\n{entries}\n"
        )
    return path


def dbt_executable() -> str:
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


def parse(path: Path, env: dict[str, str]) -> Path:
    """`dbt parse` the project (writes target/manifest.json and partial_parse.msgpack)."""
    subprocess.run(
        [dbt_executable(), "parse", "--quiet", "--project-dir", str(path), "--profiles-dir", str(path)],
        cwd=path,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return path / "target" / "manifest.json"
