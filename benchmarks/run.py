"""`python -m benchmarks.run [--smoke] [--only NAME ...] [--scale S:N,...] [--keep-work]`: run the suite.

Full mode (`make bench`) writes benchmarks/results/<date>.json and regenerates the table in
BENCHMARKS.md; `--only` re-runs some benchmarks and merges their rows into the same day's file.
Smoke mode (`make bench-smoke`) runs every benchmark at a tiny scale to keep the harness
working; its results go to benchmarks/.work/results/ and BENCHMARKS.md is left alone.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import shutil
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone
from pathlib import Path

from benchmarks import common
from benchmarks.common import RESULTS_DIR, WORK_DIR, Context, describe_machine, machine_info
from benchmarks.datasets import SCALES

# name -> module; run in this order (incremental continues from the e2e warehouse, scale adds
# larger points to e2e's).
BENCHMARKS = {
    "e2e": "benchmarks.e2e",
    "incremental": "benchmarks.incremental",
    "scale": "benchmarks.scale",
    "dbt-overhead": "benchmarks.dbt_overhead",
    "load-time": "benchmarks.load_time",
    "sensor-tick": "benchmarks.sensor_tick",
    "ingest-memory": "benchmarks.ingest_memory",
}
# With --jobs 2 (the smoke default) these chains run side by side; within a chain, in order.
# Timings taken that way are not comparable: full mode runs one benchmark at a time.
CHAINS = [["e2e", "incremental", "scale"], ["dbt-overhead", "load-time", "sensor-tick", "ingest-memory"]]
BULKY_WORK = ("data", "runs", "limit", "ingest", "dbt", "sensor", "unorchestrated")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="every row at a tiny scale (<= 90 s on a quiet machine), results not published")
    parser.add_argument(
        "--only", action="append", choices=sorted(BENCHMARKS), help="run only these (repeatable)"
    )
    parser.add_argument("--keep-work", action="store_true", help="keep generated data under benchmarks/.work")
    parser.add_argument("--results", type=Path, help="results JSON path (default: by mode and date)")
    parser.add_argument("--work-dir", type=Path, help="scratch folder (default: benchmarks/.work/<mode>)")
    parser.add_argument("--no-markdown", action="store_true", help="do not touch BENCHMARKS.md")
    parser.add_argument(
        "--jobs", type=int, help="benchmark chains run side by side (default: 2 with --smoke, else 1)"
    )
    parser.add_argument(
        "--scale",
        "--e2e-scales",
        dest="scale",
        help=(
            "end-to-end scales and repetitions, e.g. '100k:1,1m:1' (scales: "
            + ", ".join(SCALES)
            + "; default: smoke:1, or 1m:3,10m:2); incremental runs at the largest up to 10m"
        ),
    )
    parser.add_argument(
        "--extra-scale",
        help="scales the scale figure adds with one landing run each, e.g. '30m' (default: 30m in full "
        "mode without --scale, else none)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="run every child under py-spy (must be installed); profiles in .work"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    selected = [name for name in BENCHMARKS if not args.only or name in args.only]
    work_dir = (args.work_dir or WORK_DIR / ("smoke" if args.smoke else "full")).resolve()
    (work_dir / "logs").mkdir(parents=True, exist_ok=True)
    ctx = Context(smoke=args.smoke, work_dir=work_dir)
    if args.profile:
        common.PROFILE_DIR = work_dir / "profiles"
    if args.scale:
        ctx.state["e2e_scales"] = [
            (name, int(pairs or 1)) for name, _, pairs in (s.partition(":") for s in args.scale.split(","))
        ]
    if args.extra_scale is not None:
        ctx.state["extra_scales"] = [name for name in args.extra_scale.split(",") if name]
    unknown = {n for n, _ in ctx.state.get("e2e_scales", [])} | set(ctx.state.get("extra_scales", []))
    if unknown - set(SCALES):
        raise SystemExit(f"unknown scale(s) {sorted(unknown - set(SCALES))}; known: {', '.join(SCALES)}")
    machine = machine_info()
    ctx.log(f"machine: {describe_machine(machine)}")
    ctx.log(f"mode: {'smoke' if args.smoke else 'full'}; benchmarks: {', '.join(selected)}")

    from analytics_platform.local.s3_server import local_s3_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log

    figures, errors, durations, load = [], {}, {}, {}

    def run_one(name: str) -> None:
        ctx.log(f"== {name}")
        bench_started = time.perf_counter()
        try:
            module = importlib.import_module(BENCHMARKS[name])
            produced = module.run(ctx)
            figures.extend(produced)
            for figure in produced:
                verdict = {True: "MET", False: "MISSED", None: "-"}[figure.goal_met]
                ctx.log(f"   {figure.id}: {figure.value['median']} {figure.unit} (goal {figure.goal}: {verdict})")
        except Exception:  # noqa: BLE001 - one failing benchmark must not hide the others
            errors[name] = traceback.format_exc()
            ctx.log(f"   {name} FAILED:\n{errors[name]}")
        durations[name] = round(time.perf_counter() - bench_started, 1)
        load[name] = [round(x, 2) for x in os.getloadavg()]
        ctx.log(f"   {name} took {durations[name]} s (load average after: {load[name]})")

    def run_chain(chain: list[str]) -> None:
        for name in chain:
            run_one(name)

    jobs = args.jobs or (2 if args.smoke else 1)
    chains = [[n for n in chain if n in selected] for chain in CHAINS] if jobs > 1 else [selected]
    with local_s3_server("http://127.0.0.1:0") as endpoint:
        ctx.s3_endpoint = endpoint
        ctx.log(f"local S3 server (moto) at {endpoint}")
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(run_chain, [c for c in chains if c]))
    order = list(BENCHMARKS)
    figures.sort(key=lambda f: order.index(f.benchmark) if f.benchmark in order else 99)

    total = round(time.perf_counter() - started, 1)
    results = {
        "date": date.today().isoformat(),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "mode": "smoke" if args.smoke else "full",
        "command": "python -m benchmarks.run " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": machine,
        "wall_seconds": total,
        "benchmark_seconds": durations,
        "load_average_after_each_benchmark": load,
        "figures": [f.to_json() for f in figures],
        "errors": errors,
    }
    path = args.results or (
        (work_dir / "results" / "smoke.json") if args.smoke else RESULTS_DIR / f"{results['date']}.json"
    )
    results = merge_with_existing(path, results, partial=bool(args.only))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=1, default=str) + "\n")
    ctx.log(f"results written to {path}")
    if not args.smoke and not args.no_markdown:
        from benchmarks.report import update_benchmarks_md

        update_benchmarks_md(results, path)
        ctx.log("BENCHMARKS.md table regenerated")
    if not args.keep_work:
        for name in BULKY_WORK:
            shutil.rmtree(work_dir / name, ignore_errors=True)
    ctx.log(f"total wall time {total:.0f} s; {len(figures)} figures, {len(errors)} benchmark(s) failed")
    return 1 if errors else 0


def merge_with_existing(path: Path, results: dict, partial: bool) -> dict:
    """A partial run (`--only`) replaces the rows it measured in the day's file and keeps the rest.

    A benchmark that failed in this run loses its old rows too (the errors say why); one that ran
    and measured fewer rows (e2e at one scale) keeps the others' earlier figures.
    """
    if not partial or not path.exists():
        return results
    previous = json.loads(path.read_text())
    fresh_rows = {f["row"] for f in results["figures"]}
    failed = set(results["errors"])
    kept = [
        f for f in previous.get("figures", [])
        if f["row"] not in fresh_rows and f["benchmark"] not in failed
    ]
    merged = dict(results)
    merged["figures"] = kept + results["figures"]
    merged["benchmark_seconds"] = {**previous.get("benchmark_seconds", {}), **results["benchmark_seconds"]}
    merged["errors"] = {
        **{k: v for k, v in previous.get("errors", {}).items() if k not in results["benchmark_seconds"]},
        **results["errors"],
    }
    merged["partial_runs"] = previous.get("partial_runs", []) + [
        {
            "command": results["command"],
            "finished_at": results["finished_at"],
            "wall_seconds": results["wall_seconds"],
            "machine": results["machine"],
        }
    ]
    # The header describes the complete run; each partial run keeps its own machine snapshot.
    merged["machine"] = previous.get("machine", results["machine"])
    merged["finished_at"] = previous.get("finished_at", results["finished_at"])
    merged["load_average_after_each_benchmark"] = {
        **previous.get("load_average_after_each_benchmark", {}),
        **results.get("load_average_after_each_benchmark", {}),
    }
    merged["wall_seconds"] = previous.get("wall_seconds")
    merged["command"] = previous.get("command")
    order = list(BENCHMARKS)
    merged["figures"].sort(key=lambda f: order.index(f["benchmark"]) if f["benchmark"] in order else 99)
    return merged


if __name__ == "__main__":
    raise SystemExit(main())
