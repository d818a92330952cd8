"""Code-location load time at 1,000 and 5,000 dbt models.

The project's own code location (`analytics_platform.definitions`) is pointed at a generated
dbt project (ANALYTICS_DBT_PROJECT_DIR) whose manifest is prepared beforehand, and loaded in
fresh interpreters. The headline is the time from the child's first line to a resolved
repository (libraries imported, Definitions built, asset graph resolved); the interpreter's own
start and the wall time of `dagster definitions validate` (1,000 models) are reported too.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

from benchmarks.common import Context, Figure, run_child, summarize
from benchmarks.dbt_overhead import SMOKE_MODELS, prepare_project

# models -> goal in seconds
GOALS = {1_000: 2.0, 5_000: 5.0}


def measure(ctx: Context, models: int, goal: float, repeats: int) -> Figure:
    # A few incremental models, like the real project (none in smoke: the dbt-overhead project
    # is reused as it is, to save a parse).
    generated = SMOKE_MODELS if ctx.smoke else models
    path, env = prepare_project(ctx, generated, incremental_every=0 if ctx.smoke else 50)
    env = {**env, "DAGSTER_HOME": str(ctx.folder("dbt/load_home"))}
    payloads, walls = [], []
    for _ in range(repeats):
        wall, payload = run_child(["benchmarks.load_child"], env=env, log_path=ctx.work_dir / "logs" / "load-time.log")
        payloads.append(payload)
        walls.append(wall)
    load = summarize([p["load_seconds"] for p in payloads], 3)
    absolute = {
        "process_wall_seconds": summarize(walls, 3),
        "libraries_seconds": summarize([p["libraries_seconds"] for p in payloads], 3),
        "definitions_seconds": summarize([p["definitions_seconds"] for p in payloads], 3),
        "resolve_seconds": summarize([p["resolve_seconds"] for p in payloads], 3),
        "assets": payloads[-1]["assets"],
        "asset_checks": payloads[-1]["asset_checks"],
    }
    if not ctx.smoke and models == min(GOALS):
        validate = [str(Path(sys.executable).with_name("dagster")), "definitions", "validate",
                    "-m", "analytics_platform.definitions"]
        started = time.perf_counter()
        completed = subprocess.run(validate, check=False, env=env, capture_output=True, text=True, cwd=path)
        absolute["dagster_definitions_validate_seconds"] = round(time.perf_counter() - started, 2)
        absolute["dagster_definitions_validate_ok"] = completed.returncode == 0
    ctx.log(f"  {generated} models: load {load['median']:.2f} s (process {absolute['process_wall_seconds']['median']:.2f} s)")
    return Figure(
        id=f"load_time_{generated}",
        row=f"load-time-{models}",
        benchmark="load-time",
        title=f"Code-location load (import analytics_platform.definitions + resolve), {generated:,} dbt models",
        unit="s",
        value=load,
        goal=f"≤ {goal:g} s",
        goal_met=load["median"] <= goal,
        absolute=absolute,
        details={"runs": payloads},
        command="make bench BENCH_ARGS='--only load-time'",
    )


def run(ctx: Context) -> list[Figure]:
    if ctx.smoke:  # one tiny load, reported on both rows: the code path, not the figure
        figure = measure(ctx, min(GOALS), GOALS[min(GOALS)], 1)
        return [
            replace(figure, id=f"{figure.id}_as_{models}", row=f"load-time-{models}", goal=f"≤ {goal:g} s",
                    goal_met=figure.value["median"] <= goal)
            for models, goal in GOALS.items()
        ]
    return [measure(ctx, models, goal, 5) for models, goal in GOALS.items()]
