"""#1 End to end vs the engine's limit.

For each scale: the generated landing files are uploaded to the local S3 bucket; then, in pairs
run back to back, (a) the platform runs job `landing_to_gold` through Dagster on a fresh
warehouse (ingestion of every file + `dbt build` with its tests + source freshness checks) and
(b) `limit.sql` computes the same gold tables from the same files on local disk. Reported: the
ratio a/b per pair, both absolute times, rows/s, and a breakdown of where the platform's time
went (steps, dbt nodes). The gold tables of both are compared row by row.
"""

from __future__ import annotations

from benchmarks.common import Context, Figure, ratios, run_child, summarize, timed
from benchmarks.datasets import SCALE_1M, SCALE_10M, SMOKE, Scale, generate, landing_dir, upload_dir
from benchmarks.platform_runs import compare_gold, ensure_manifest, new_platform_run

GOAL_RATIO = 1.5


def scales(ctx: Context) -> list[tuple[Scale, int]]:
    """(scale, pairs of runs): fewer repeats where one run costs minutes."""
    if "e2e_scales" in ctx.state:
        by_name = {s.name: s for s in (SMOKE, SCALE_1M, SCALE_10M)}
        return [(by_name[name], pairs) for name, pairs in ctx.state["e2e_scales"]]
    if ctx.smoke:
        return [(SMOKE, 1)]
    return [(SCALE_1M, 3), (SCALE_10M, 2)]


def run_limit(ctx: Context, scale: Scale, tag: str) -> dict:
    database = ctx.folder(f"limit/{scale.name}") / f"limit-{tag}.duckdb"
    _, payload = run_child(
        ["benchmarks.limit", str(landing_dir(ctx, scale) / "landing"), str(database)],
        log_path=ctx.work_dir / "logs" / f"limit-{scale.name}.log",
    )
    payload["database"] = str(database)
    return payload


def load_scale(ctx: Context, scale: Scale) -> dict:
    """Generate (or reuse) the files and upload them to a bucket of their own."""
    info = generate(ctx, scale)
    bucket = f"bench-{scale.name}"
    seconds, uploaded = timed(lambda: upload_dir(ctx, landing_dir(ctx, scale), bucket))
    ctx.log(f"  uploaded {uploaded / 1e6:,.0f} MB to s3://{bucket} in {seconds:.1f} s")
    return {**info, "bucket": bucket, "upload_seconds": round(seconds, 2)}


def run(ctx: Context) -> list[Figure]:
    ensure_manifest(ctx)
    figures = []
    for scale, pairs in scales(ctx):
        platform = new_platform_run(ctx, f"e2e-{scale.name}", f"bench-{scale.name}")  # parses meanwhile
        data = load_scale(ctx, scale)
        platform_seconds, limit_seconds, payloads, limits = [], [], [], []
        last_run = None
        for i in range(pairs):
            limit = run_limit(ctx, scale, str(i))
            if i:
                platform = new_platform_run(ctx, f"e2e-{scale.name}", data["bucket"])
            ctx.log(f"  {scale.name} pair {i + 1}/{pairs}: limit {limit['seconds']:.1f} s; platform ...")
            payload = platform.run(ctx, "full", f"e2e-{scale.name}")
            if not payload.get("success"):
                raise RuntimeError(f"landing_to_gold failed at scale {scale.name}: {payload}")
            ctx.log(f"    platform {payload['run_seconds']:.1f} s (steps {payload['steps']})")
            platform_seconds.append(payload["run_seconds"])
            limit_seconds.append(limit["seconds"])
            payloads.append(payload)
            limits.append(limit)
            last_run = platform
        gold = compare_gold(last_run.duckdb_path, limits[-1]["database"])
        raw_rows = sum(payloads[-1]["warehouse"]["raw"].values())
        orders_rows = payloads[-1]["warehouse"]["raw"]["ecommerce.orders"]
        ratio = summarize(ratios(platform_seconds, limit_seconds), 3)
        platform_summary = summarize(platform_seconds, 2)
        limit_summary = summarize(limit_seconds, 3)
        ctx.state.setdefault("e2e", {})[scale.name] = {
            "run": last_run,
            "scale": scale,
            "bucket": data["bucket"],
            "full_build_seconds": platform_summary,
            "last_payload": payloads[-1],
        }
        goal_applies = scale.name in (SCALE_10M.name, SMOKE.name)
        figures.append(
            Figure(
                id=f"e2e_{scale.name}",
                benchmark="e2e",
                title=f"End to end landing → gold through Dagster vs the engine's limit, {scale.orders:,} orders",
                unit="× limit",
                value=ratio,
                goal=f"≤ {GOAL_RATIO}× the limit" + ("" if goal_applies else " (goal stated at 10M)"),
                goal_met=(ratio["median"] <= GOAL_RATIO) if goal_applies else None,
                absolute={
                    "platform_seconds": platform_summary,
                    "limit_seconds": limit_summary,
                    "landed_rows": raw_rows,
                    "landed_orders": orders_rows,
                    "platform_rows_per_second": round(raw_rows / platform_summary["median"]),
                    "limit_rows_per_second": round(raw_rows / limit_summary["median"]),
                    "files": data["files"],
                    "megabytes": round(data["bytes"] / 1e6, 1),
                },
                details={
                    "data": data,
                    "gold_equal_to_limit": gold,
                    "steps": [p["steps"] for p in payloads],
                    "dagster_events": payloads[-1]["events"],
                    "dbt": payloads[-1]["dbt"],
                    "failed_checks": payloads[-1]["failed_checks"],
                    "import_seconds": [p["import_seconds"] for p in payloads],
                },
                command="make bench BENCH_ARGS='--only e2e'",
            )
        )
    return figures
