"""Orchestration overhead vs plain dbt: `dbt build` of 500 trivial models, plain and through
the platform (the code location's `landing_to_gold` job selecting what dbt builds).

Runs come in rounds, back to back: plain `dbt build` (the CLI, timed from launch to exit), then
the project's own dbt assets materialized on an instance with the product's storage (the
headline), then, once, a diagnostic: the same on an in-memory instance (what event storage
costs). Ratios are per round. Both sides run the project's row-count post-hook and DuckDB plugin
(trivial_dbt.py). All variants start from the same partial-parse file, made once by `dbt parse`
with the same settings.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import replace
from pathlib import Path

from analytics_platform.settings import DBT_FILE_LOG_LEVEL, load_settings
from benchmarks import trivial_dbt
from benchmarks.common import Context, Figure, child_env, ratios, run_child, summarize
from benchmarks.platform_runs import product_dagster_yaml

GOAL_RATIO = 1.15
SMOKE_MODELS = 5
KEEP_IN_TARGET = {"compiled", "run"}


def models_and_rounds(ctx: Context) -> tuple[int, int, list[str]]:
    """(models, rounds, diagnostic variants run once, in the first round)."""
    if ctx.smoke:
        return SMOKE_MODELS, 1, []
    return 500, 5, ["dagster-ephemeral"]  # 5: plain dbt alone varies by ±20% on a shared VM


def prepare_project(ctx: Context, models: int, incremental_every: int = 0) -> tuple[Path, dict[str, str]]:
    """Generate the project, `dbt parse` it with its settings; cached for the session."""
    cache = ctx.state.setdefault("trivial_projects", {})
    if (models, incremental_every) in cache:
        return cache[(models, incremental_every)]
    name = f"trivial_{models}" + (f"_inc{incremental_every}" if incremental_every else "")
    path = trivial_dbt.generate(ctx.folder("dbt") / name, models, incremental_every=incremental_every)
    settings = replace(
        load_settings({"ANALYTICS_ENV": "local"}),
        dbt_project_dir=path,
        duckdb_path=path / "warehouse.duckdb",
        s3_endpoint_url=ctx.s3_endpoint or "http://127.0.0.1:1",
        landing_bucket="bench-trivial",
    )
    env = child_env(settings.to_environment())
    env.pop("DBT_TARGET_PATH", None)
    started = time.perf_counter()
    trivial_dbt.parse(path, env)
    ctx.log(f"  generated and parsed a {models}-model project in {time.perf_counter() - started:.1f} s")
    cache[(models, incremental_every)] = (path, env)
    return path, env


def clean_invocation_dirs(path: Path) -> None:
    """dagster-dbt leaves one target/<op>-<run>-<id>/ folder per invocation; plain dbt none."""
    for child in (path / "target").iterdir():
        if child.is_dir() and child.name not in KEEP_IN_TARGET:
            shutil.rmtree(child, ignore_errors=True)


def plain_dbt(ctx: Context, path: Path, env: dict[str, str]) -> float:
    log = ctx.work_dir / "logs" / "dbt-overhead-plain.log"
    # Without dbt's debug log file, as the platform's dbt processes run (settings.DBT_FILE_LOG_LEVEL):
    # the row compares orchestration, not logging.
    command = [trivial_dbt.dbt_executable(), "build", "--project-dir", str(path), "--profiles-dir", str(path),
               "--target", "duckdb", "--log-level-file", DBT_FILE_LOG_LEVEL]
    with log.open("a") as handle:
        started = time.perf_counter()
        subprocess.run(command, cwd=path, env=env, stdout=handle, stderr=subprocess.STDOUT, check=True)
        return time.perf_counter() - started


def through_dagster(ctx: Context, path: Path, env: dict[str, str], variant: str) -> dict:
    home = ctx.folder("dbt/dagster_home", fresh=True)
    (home / "dagster.yaml").write_text(product_dagster_yaml())
    _, payload = run_child(
        ["benchmarks.dbt_overhead_child", variant],
        env={**env, "DAGSTER_HOME": str(home)},
        log_path=ctx.work_dir / "logs" / f"dbt-overhead-{variant}.log",
    )
    clean_invocation_dirs(path)
    return payload


def run(ctx: Context) -> list[Figure]:
    models, rounds, diagnostics = models_and_rounds(ctx)
    path, env = prepare_project(ctx, models)
    if not ctx.smoke:
        plain_dbt(ctx, path, env)  # warm-up: every later build replaces existing tables
    plain, dagster, extra = [], [], {v: [] for v in diagnostics}
    payloads = []
    for i in range(rounds):
        plain.append(plain_dbt(ctx, path, env))
        payload = through_dagster(ctx, path, env, "dagster")
        dagster.append(payload["seconds"])
        payloads.append(payload)
        line = f"  round {i + 1}/{rounds}: plain {plain[-1]:.1f} s, dagster {dagster[-1]:.1f} s"
        for variant in diagnostics if i == 0 else []:
            extra[variant].append(through_dagster(ctx, path, env, variant)["seconds"])
            line += f", {variant} {extra[variant][-1]:.1f} s"
        ctx.log(line)
    paired = lambda values: summarize(ratios(values, plain[: len(values)]), 3)
    headline = paired(dagster)
    details = {
        "plain_seconds": summarize(plain, 2),
        "dagster_seconds": summarize(dagster, 2),
        "dagster_events": payloads[-1].get("events"),
        "steps": payloads[-1].get("steps"),
        "materializations": payloads[-1].get("materializations"),
        "check_evaluations": payloads[-1].get("check_evaluations"),
        "diagnostics": {
            variant: {"seconds": summarize(values, 2), "ratio_to_plain": paired(values)}
            for variant, values in extra.items()
        },
    }
    figures = [
        Figure(
            id=f"dbt_overhead_{models}",
            row="dbt-overhead",
            benchmark="dbt-overhead",
            title=f"`dbt build` of {models} trivial models through the platform (`landing_to_gold`) vs plain dbt",
            unit="× plain dbt",
            value=headline,
            goal=f"≤ {GOAL_RATIO}× plain dbt",
            goal_met=headline["median"] <= GOAL_RATIO,
            absolute={"plain_seconds": details["plain_seconds"], "dagster_seconds": details["dagster_seconds"]},
            details=details,
            command="make bench BENCH_ARGS='--only dbt-overhead'",
        )
    ]
    return figures
