"""End to end: a landing run against a hand-written script and against the same work unorchestrated.

For each scale: the generated landing files are uploaded to the local S3 bucket; then, per
repetition, back to back: (a) `limit.sql`, the hand-written DuckDB script computing the gold tables
from the same files on local disk; (b) the platform's job `landing_to_gold` on a fresh warehouse
(ingestion of every file + dbt, as the code location defines the job), with the dbt processes it
started counted and its peak memory sampled (benchmarks/platform_child.py); (c) the same work
without orchestration (benchmarks/unorchestrated_child.py): DuckDB `CREATE TABLE AS SELECT *
FROM read_*` of the same files, then the SQL dbt executed for run (b) replayed back to back on one
connection. Ratios are per repetition. Figures:

- dbt processes a landing run started (every run, every scale);
- platform / script at the smallest scale and at the largest scale up to 10M orders;
- platform / unorchestrated, and ingestion / DuckDB reading the files, at that large scale.
"""

from __future__ import annotations

from benchmarks.common import Context, Figure, ratios, run_child, summarize, timed
from benchmarks.datasets import (
    SCALE_1M,
    SCALE_10M,
    SCALES,
    SMOKE,
    Scale,
    generate,
    landing_dir,
    upload_dir,
)
from benchmarks.platform_runs import PlatformRun, compare_gold, ensure_manifest, new_platform_run

SCRIPT_GOAL_LARGE = 3.0  # at 10M orders
SCRIPT_GOAL_SMALL = 8.0  # at 1M orders
UNORCHESTRATED_GOAL = 1.25
INGESTION_GOAL = 1.5
DBT_PROCESSES_GOAL = 1
COMMAND = "make bench BENCH_ARGS='--only e2e'"


def scales(ctx: Context) -> list[tuple[Scale, int]]:
    """(scale, repetitions): fewer where one costs minutes; `--scale` overrides."""
    if "e2e_scales" in ctx.state:
        return [(SCALES[name], pairs) for name, pairs in ctx.state["e2e_scales"]]
    if ctx.smoke:
        return [(SMOKE, 1)]
    return [(SCALE_1M, 3), (SCALE_10M, 2)]


def large_scale(measured: list[Scale]) -> Scale:
    """The scale the 10M goals are read at: the largest measured up to 10M orders."""
    upto = [s for s in measured if s.orders <= SCALE_10M.orders]
    return max(upto or measured, key=lambda s: s.orders)


def run_limit(ctx: Context, scale: Scale, tag: str) -> dict:
    database = ctx.folder(f"limit/{scale.name}") / f"limit-{tag}.duckdb"
    _, payload = run_child(
        ["benchmarks.limit", str(landing_dir(ctx, scale) / "landing"), str(database)],
        log_path=ctx.work_dir / "logs" / f"limit-{scale.name}.log",
    )
    payload["database"] = str(database)
    return payload


def run_unorchestrated(ctx: Context, scale: Scale, platform: PlatformRun, payload: dict) -> dict:
    _, result = run_child(
        [
            "benchmarks.unorchestrated_child",
            "--landing", str(landing_dir(ctx, scale) / "landing"),
            "--platform-db", str(platform.duckdb_path),
            "--out", str(ctx.folder(f"unorchestrated/{scale.name}", fresh=True)),
            *payload["dbt_invocation_dirs"],
        ],
        env=platform.env(ctx),
        log_path=ctx.work_dir / "logs" / f"unorchestrated-{scale.name}.log",
    )
    return result


def load_scale(ctx: Context, scale: Scale) -> dict:
    """Generate (or reuse) the files and upload them to a bucket of their own."""
    info = generate(ctx, scale)
    bucket = f"bench-{scale.name}"
    seconds, uploaded = timed(lambda: upload_dir(ctx, landing_dir(ctx, scale), bucket))
    ctx.log(f"  uploaded {uploaded / 1e6:,.0f} MB to s3://{bucket} in {seconds:.1f} s")
    return {**info, "bucket": bucket, "upload_seconds": round(seconds, 2)}


def ingestion_seconds(payload: dict) -> float:
    """Seconds of the run's steps that materialized raw tables (the ingestion step)."""
    return sum(s for step, s in payload["steps"].items() if step in payload.get("ingestion_steps", []))


def measure_scale(ctx: Context, scale: Scale, repetitions: int, platform: PlatformRun, data: dict) -> dict:
    runs = []
    for i in range(repetitions):
        limit = run_limit(ctx, scale, str(i))
        if i:
            platform = new_platform_run(ctx, f"e2e-{scale.name}", data["bucket"])
        ctx.log(f"  {scale.name} {i + 1}/{repetitions}: script {limit['seconds']:.1f} s; platform ...")
        payload = platform.run(ctx, "full", f"e2e-{scale.name}")
        if not payload.get("success"):
            raise RuntimeError(f"landing_to_gold failed at scale {scale.name}: {payload}")
        try:
            bare = run_unorchestrated(ctx, scale, platform, payload)
        except RuntimeError as error:  # the platform's figures stand; these rows say what failed
            ctx.log(f"    unorchestrated replay FAILED: {error}")
            failed = {"seconds": None, "error": str(error)[-2000:]}
            bare = {**failed, "plain_load": dict(failed, by_dataset={}), "replay": dict(failed, failed=[str(error)[-300:]]),
                    "gold_equal_to_platform": {"all_equal": False}}
        ctx.log(
            f"    platform {payload['run_seconds']:.1f} s ({payload['dbt_processes']} dbt processes, "
            f"steps {payload['steps']}); unorchestrated {bare['seconds']} s "
            f"(load {bare['plain_load']['seconds']} + SQL {bare['replay']['seconds']})"
        )
        runs.append({"limit": limit, "platform": payload, "unorchestrated": bare})
    return {
        "scale": scale,
        "data": data,
        "run": platform,
        "runs": runs,
        "gold_vs_script": compare_gold(platform.duckdb_path, runs[-1]["limit"]["database"]),
        "platform_seconds": [r["platform"]["run_seconds"] for r in runs],
    }


def script_figure(measured: dict, role: str, goal: float) -> Figure:
    scale, runs = measured["scale"], measured["runs"]
    platform = [r["platform"]["run_seconds"] for r in runs]
    script = [r["limit"]["seconds"] for r in runs]
    ratio = summarize(ratios(platform, script), 3)
    last = runs[-1]["platform"]
    raw_rows = sum(last["warehouse"]["raw"].values())
    return Figure(
        id=f"e2e_script_{role}_{scale.name}",
        row=f"e2e-script-{role}",
        benchmark="e2e",
        title=f"End to end landing → gold (`landing_to_gold`) vs the hand-written DuckDB script, {scale.orders:,} orders",
        unit="× script",
        value=ratio,
        goal=f"≤ {goal:g}× the script",
        goal_met=ratio["median"] <= goal,
        absolute={
            "platform_seconds": summarize(platform, 2),
            "script_seconds": summarize(script, 3),
            "landed_rows": raw_rows,
            "platform_rows_per_second": round(raw_rows / summarize(platform)["median"]),
            "files": measured["data"]["files"],
            "megabytes": round(measured["data"]["bytes"] / 1e6, 1),
        },
        details={
            "data": measured["data"],
            "gold_equal_to_script": measured["gold_vs_script"],
            "steps": [r["platform"]["steps"] for r in runs],
            "dbt": last["dbt"],
            "dagster_events": last["events"],
            "failed_checks": last["failed_checks"],
            "import_seconds": [r["platform"]["import_seconds"] for r in runs],
        },
        command=COMMAND,
    )


def large_figures(measured: dict, all_runs: list[dict]) -> list[Figure]:
    scale, runs = measured["scale"], measured["runs"]
    platform = [r["platform"]["run_seconds"] for r in runs]
    bare = [r["unorchestrated"]["seconds"] or 0 for r in runs]
    ratio = summarize(ratios(platform, bare), 3)
    last = runs[-1]
    ingest = [ingestion_seconds(r["platform"]) for r in runs]
    plain_load = [r["unorchestrated"]["plain_load"]["seconds"] or 0 for r in runs]
    ingest_ratio = summarize(ratios(ingest, plain_load), 3)
    processes = [r["platform"]["dbt_processes"] for r in all_runs]
    process_summary = summarize(processes, 0)
    processes_figure = Figure(
        id="dbt_processes_landing_run",
        row="dbt-processes",
        benchmark="e2e",
        title="Landing run (`landing_to_gold`, and the sensor's runs when incremental ran): dbt processes "
        "started (audit hook on subprocess.Popen)",
        unit="processes",
        value=process_summary,
        display=f"**{max(processes)}** (most in one run; {len(processes)} runs)",
        goal=f"{DBT_PROCESSES_GOAL} (source freshness on its own schedule)",
        goal_met=max(processes) <= DBT_PROCESSES_GOAL,
        absolute={"dbt_commands": last["platform"]["dbt_commands"], "steps": list(last["platform"]["steps"])},
        details={"per_run": processes},
        command=COMMAND,
    )
    return [
        processes_figure,
        Figure(
            id=f"e2e_unorchestrated_{scale.name}",
            row="e2e-unorchestrated",
            benchmark="e2e",
            title=(
                f"End to end vs the same work without orchestration (DuckDB load of the files + the SQL "
                f"dbt ran, back to back on one connection), {scale.orders:,} orders"
            ),
            unit="× unorchestrated",
            value=ratio,
            goal=f"≤ {UNORCHESTRATED_GOAL:g}×",
            goal_met=ratio["median"] is not None and ratio["median"] <= UNORCHESTRATED_GOAL,
            absolute={
                "platform_seconds": summarize(platform, 2),
                "unorchestrated_seconds": summarize(bare, 2),
                "plain_load_seconds": summarize(plain_load, 2),
                "replayed_sql_seconds": summarize([r["unorchestrated"]["replay"]["seconds"] or 0 for r in runs], 2),
                "dbt_elapsed_seconds": last["platform"]["dbt"].get("dbt_elapsed_seconds"),
            },
            details={
                "replay": last["unorchestrated"]["replay"],
                "gold_equal_to_platform": last["unorchestrated"]["gold_equal_to_platform"],
                "steps": last["platform"]["steps"],
                "dbt": last["platform"]["dbt"],
            },
            notes=[f"{len(last['unorchestrated']['replay']['failed'])} replayed statements failed"]
            if last["unorchestrated"]["replay"]["failed"] else [],
            command=COMMAND,
        ),
        Figure(
            id=f"ingestion_vs_ctas_{scale.name}",
            row="ingestion",
            benchmark="e2e",
            title=(
                f"Ingestion (the run's ingestion step, from S3) vs DuckDB `CREATE TABLE AS SELECT * FROM "
                f"read_csv/read_json/read_parquet` of the same files, {scale.orders:,} orders"
            ),
            unit="× DuckDB",
            value=ingest_ratio,
            goal=f"≤ {INGESTION_GOAL:g}×",
            goal_met=ingest_ratio["median"] is not None and ingest_ratio["median"] <= INGESTION_GOAL,
            absolute={
                "ingestion_seconds": summarize(ingest, 2),
                "duckdb_seconds": summarize(plain_load, 2),
            },
            details={
                "ingestion_seconds_by_dataset": last["platform"].get("ingestion_seconds_by_dataset"),
                "duckdb_by_dataset": last["unorchestrated"]["plain_load"]["by_dataset"],
            },
            command=COMMAND,
        ),
    ]


def run(ctx: Context) -> list[Figure]:
    ensure_manifest(ctx)
    measured = {}
    for scale, repetitions in scales(ctx):
        platform = new_platform_run(ctx, f"e2e-{scale.name}", f"bench-{scale.name}")  # parses meanwhile
        data = load_scale(ctx, scale)
        measured[scale.name] = measure_scale(ctx, scale, repetitions, platform, data)
        m = measured[scale.name]
        # For incremental.py (continues from the large scale's warehouse) and scale.py.
        ctx.state.setdefault("e2e", {})[scale.name] = {
            "run": m["run"],
            "scale": scale,
            "bucket": data["bucket"],
            "full_build_seconds": summarize(m["platform_seconds"], 2),
            "peak_rss_mib": max(r["platform"]["peak_rss_mib"] for r in m["runs"]),
            "last_payload": m["runs"][-1]["platform"],
        }
    scale_list = [m["scale"] for m in measured.values()]
    small = min(scale_list, key=lambda s: s.orders)
    large = large_scale(scale_list)
    ctx.state["large_scale"] = large.name
    all_runs = [r["platform"] for m in measured.values() for r in m["runs"]]
    figures = large_figures(measured[large.name], [{"platform": p} for p in all_runs])
    ctx.state["dbt_processes_figure"] = figures[0]  # incremental.py adds the sensor's runs to it
    figures.append(script_figure(measured[large.name], "large", SCRIPT_GOAL_LARGE))
    # One scale measured (`--scale 10m:2`) is not a 1M figure: the day's file keeps its 1M row.
    # The smoke run has one tiny scale and fills both rows, to keep the row's code exercised.
    if small != large or ctx.smoke:
        figures.append(script_figure(measured[small.name], "small", SCRIPT_GOAL_SMALL))
    return figures
