"""Scale: landing → gold at growing sizes; time at most linear in the data, memory bounded.

Points: the full builds the end-to-end benchmark measured (1M and 10M orders in full mode),
plus one `landing_to_gold` run on a fresh warehouse at each larger scale (30M orders in full
mode; `--extra-scale` chooses). Each point: the run's wall time and the peak resident memory of
the run worker plus its dbt processes (sampled every 100 ms). The largest scale is compared with
the one before it: time ratio against the ratio of orders (30M / 10M = 3, goal ≤ 3.3×), and the
peak memory ratio.
"""

from __future__ import annotations

import shutil

from benchmarks.common import Context, Figure, summarize
from benchmarks.datasets import SCALE_30M, SCALES, landing_dir, s3_client
from benchmarks.e2e import load_scale
from benchmarks.platform_runs import new_platform_run

LINEAR_SLACK = 1.1  # time may grow 10% faster than the data: 30M <= 3.3x of 10M
MEMORY_GROWTH_LIMIT = 1.5  # peak RSS at the largest scale vs the one before: bounded, not proportional
COMMAND = "make bench BENCH_ARGS='--only e2e --only scale'"


def extra_scales(ctx: Context) -> list:
    if "extra_scales" in ctx.state:
        return [SCALES[name] for name in ctx.state["extra_scales"]]
    return [] if ctx.smoke or "e2e_scales" in ctx.state else [SCALE_30M]


def measure_extra(ctx: Context, scale) -> dict:
    # Other buckets are done with: the local S3 server holds objects in this process's memory.
    client = s3_client(ctx.s3_endpoint)
    for bucket in client.list_buckets().get("Buckets", []):
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket["Name"]):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                client.delete_objects(Bucket=bucket["Name"], Delete={"Objects": keys})
    platform = new_platform_run(ctx, f"scale-{scale.name}", f"bench-{scale.name}")
    data = load_scale(ctx, scale)
    ctx.log(f"  {scale.name}: platform ...")
    payload = platform.run(ctx, "full", f"scale-{scale.name}")
    if not payload.get("success"):
        raise RuntimeError(f"landing_to_gold failed at scale {scale.name}: {payload}")
    ctx.log(f"    {payload['run_seconds']:.1f} s, peak RSS {payload['peak_rss_mib']:.0f} MiB, steps {payload['steps']}")
    shutil.rmtree(landing_dir(ctx, scale), ignore_errors=True)
    shutil.rmtree(platform.root, ignore_errors=True)
    return {
        "scale": scale,
        "seconds": payload["run_seconds"],
        "peak_rss_mib": payload["peak_rss_mib"],
        "steps": payload["steps"],
        "dbt": payload["dbt"],
        "megabytes": round(data["bytes"] / 1e6, 1),
    }


def run(ctx: Context) -> list[Figure]:
    points = [
        {
            "scale": state["scale"],
            "seconds": state["full_build_seconds"]["median"],
            "peak_rss_mib": state["peak_rss_mib"],
            "steps": state["last_payload"]["steps"],
        }
        for state in ctx.state.get("e2e", {}).values()
    ]
    points += [measure_extra(ctx, scale) for scale in extra_scales(ctx)]
    if not points:
        raise RuntimeError("no end-to-end runs to compare: run with --only e2e --only scale")
    points.sort(key=lambda p: p["scale"].orders)
    largest, previous = points[-1], points[-2] if len(points) > 1 else points[-1]
    data_ratio = largest["scale"].orders / previous["scale"].orders
    time_ratio = largest["seconds"] / previous["seconds"]
    memory_ratio = largest["peak_rss_mib"] / previous["peak_rss_mib"]
    time_goal = LINEAR_SLACK * data_ratio
    by_scale = {
        p["scale"].name: {"orders": p["scale"].orders, "seconds": p["seconds"], "peak_rss_mib": p["peak_rss_mib"],
                          "steps": p["steps"]}
        for p in points
    }
    compared = f"{largest['scale'].name} vs {previous['scale'].name}"
    notes = [] if len(points) > 1 else ["One scale only (smoke): the ratios compare it with itself."]
    return [
        Figure(
            id=f"scale_time_{largest['scale'].name}",
            row="scale-time",
            benchmark="scale",
            title=f"Scale: landing → gold time, {compared} ({data_ratio:g}× the orders)",
            unit="× time",
            value=summarize([time_ratio], 3),
            goal=f"≤ {time_goal:.2g}× (at most linear: {LINEAR_SLACK:g} × {data_ratio:g})",
            goal_met=time_ratio <= time_goal,
            absolute={f"seconds_{name}": p["seconds"] for name, p in by_scale.items()},
            details={"points": by_scale},
            notes=notes,
            command=COMMAND,
        ),
        Figure(
            id=f"scale_memory_{largest['scale'].name}",
            row="scale-memory",
            benchmark="scale",
            title=f"Scale: peak RSS of a landing run (worker + dbt processes), {compared}",
            unit="× peak RSS",
            value=summarize([memory_ratio], 3),
            goal=f"≤ {MEMORY_GROWTH_LIMIT:g}× (bounded: does not grow with the data)",
            goal_met=memory_ratio <= MEMORY_GROWTH_LIMIT,
            absolute={f"peak_rss_mib_{name}": p["peak_rss_mib"] for name, p in by_scale.items()},
            details={"points": by_scale},
            notes=notes,
            command=COMMAND,
        ),
    ]
