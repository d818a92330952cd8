"""#4 Code-location load time at 1,000 dbt models.

The project's own code location (`analytics_platform.definitions`) is pointed at a generated
1,000-model dbt project (ANALYTICS_DBT_PROJECT_DIR) whose manifest is prepared beforehand, and
loaded in fresh interpreters. The headline is the time from the child's first line to a
resolved repository (libraries imported, Definitions built, asset graph resolved); the
interpreter's own start and the wall time of `dagster definitions validate` are reported too.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import Context, Figure, run_child, summarize
from benchmarks.dbt_overhead import SMOKE_MODELS, prepare_project

GOAL_SECONDS = 2.0


def run(ctx: Context) -> list[Figure]:
    models, repeats = (SMOKE_MODELS, 1) if ctx.smoke else (1_000, 5)
    # A few incremental models, like the real project: the code location partitions them.
    path, env = prepare_project(ctx, models, incremental_every=2 if ctx.smoke else 50)
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
    if not ctx.smoke:
        validate = [str(Path(sys.executable).with_name("dagster")), "definitions", "validate",
                    "-m", "analytics_platform.definitions"]
        started = time.perf_counter()
        completed = subprocess.run(validate, check=False, env=env, capture_output=True, text=True, cwd=path)
        absolute["dagster_definitions_validate_seconds"] = round(time.perf_counter() - started, 2)
        absolute["dagster_definitions_validate_ok"] = completed.returncode == 0
    ctx.log(f"  load {load['median']:.2f} s (process {absolute['process_wall_seconds']['median']:.2f} s)")
    return [
        Figure(
            id=f"load_time_{models}",
            benchmark="load-time",
            title=f"Code-location load (import analytics_platform.definitions + resolve), {models:,} dbt models",
            unit="s",
            value=load,
            goal=f"≤ {GOAL_SECONDS:g} s",
            goal_met=load["median"] <= GOAL_SECONDS,
            absolute=absolute,
            details={"runs": payloads},
            command="make bench BENCH_ARGS='--only load-time'",
        )
    ]
