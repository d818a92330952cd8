"""Runs the platform itself, in its own process, the way a Dagster run worker would.

    python -m benchmarks.platform_child full          # job landing_to_gold (ingestion + dbt build)
    python -m benchmarks.platform_child tick  --cursor-file F   # one sensor tick, cursor saved
    python -m benchmarks.platform_child sensor-run --cursor-file F  # tick, then run what it asks
    python -m benchmarks.platform_child sensor-run --cursor-file F --idle-run  # ... then again, nothing new

`sensor-run` runs the sensor's own target job (`ingest_and_build`) narrowed to the request's
asset selection, with the request's tags, as the daemon would launch it. `--idle-run` then runs
the same job and selection once more with nothing new landed (a landing run's fixed cost) and
times one dbt start on its own (`dbt build` selecting nothing, same project and target).

Every run reports the dbt processes it started, counted by an audit hook on `subprocess.Popen`
in this process (the run executes in process, so every step's subprocesses are seen), and the
peak resident memory of this process plus its descendants (sampled every 100 ms from /proc).

Settings come from the environment (see `benchmarks.datasets.platform_env`); the code location
is the project's own `analytics_platform.definitions`, the instance is `DagsterInstance.get()`
on a fresh DAGSTER_HOME holding the product's dagster.yaml. The timings and a breakdown (steps,
dbt nodes, Dagster events) are printed as one JSON line for the parent.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.common import emit_result

GOLD_TABLES = ("gold_daily_sales", "gold_daily_avg_rating", "product_categories")


class DbtProcesses:
    """Every `subprocess.Popen` of this process whose program is dbt, from a `sys.addaudithook`:
    the count is what the run really started, whatever code path started it."""

    def __init__(self) -> None:
        self.commands: list[list[str]] = []
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple) -> None:
        if event != "subprocess.Popen":
            return
        argv = [os.fsdecode(a) for a in (args[1] if isinstance(args[1], (list, tuple)) else [args[1]])]
        program = os.path.basename(argv[0]) if argv else ""
        if program == "dbt" or (program.startswith("python") and argv[1:3] == ["-m", "dbt"]):
            self.commands.append(argv)

    def take(self) -> list[list[str]]:
        taken, self.commands = self.commands, []
        return taken


def _tree_rss_kib(pid: int) -> int:
    """Resident KiB of `pid` and every descendant (from /proc; 0 for processes gone meanwhile)."""
    total = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
                break
        for task in os.listdir(f"/proc/{pid}/task"):
            for child in Path(f"/proc/{pid}/task/{task}/children").read_text().split():
                total += _tree_rss_kib(int(child))
    except (OSError, ValueError):
        pass
    return total


class PeakMemory(threading.Thread):
    """Peak resident memory of this process and its descendants (dbt), sampled every 100 ms."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kib = 0
        self.start()

    def run(self) -> None:
        while True:
            self.peak_kib = max(self.peak_kib, _tree_rss_kib(os.getpid()))
            time.sleep(0.1)

    def take(self) -> float:
        """Peak MiB since the last call."""
        peak, self.peak_kib = self.peak_kib, _tree_rss_kib(os.getpid())
        return round(peak / 1024, 1)


def step_breakdown(instance, run_id: str) -> dict[str, Any]:
    """Seconds per step (STEP_START -> STEP_SUCCESS/FAILURE), event counts, and which steps
    ingested (materialized a `raw/...` asset) with the seconds per ingested dataset."""
    starts: dict[str, float] = {}
    steps: dict[str, float] = {}
    events = Counter()
    first = last = None
    # Ingestion yields one materialization per dataset, in order: the gaps are per-dataset times.
    ingestion: dict[str, float] = {}
    ingestion_steps: set[str] = set()
    previous_event: dict[str, float] = {}
    for entry in instance.all_logs(run_id):
        first = entry.timestamp if first is None else first
        last = entry.timestamp
        event = entry.dagster_event
        if event is None:
            events["log_message"] += 1
            continue
        events[event.event_type_value] += 1
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = previous_event[event.step_key] = entry.timestamp
        elif event.event_type_value == "ASSET_MATERIALIZATION" and event.asset_key.path[0] == "raw":
            ingestion_steps.add(event.step_key)
            since = previous_event.get(event.step_key, entry.timestamp)
            ingestion[event.asset_key.to_user_string()] = round(entry.timestamp - since, 3)
            previous_event[event.step_key] = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in starts:
            steps[event.step_key] = round(entry.timestamp - starts[event.step_key], 3)
    return {
        "steps": steps,
        "ingestion_steps": sorted(ingestion_steps),
        "ingestion_seconds_by_dataset": ingestion,
        "events": dict(events.most_common()),
        "event_count": sum(events.values()),
        "run_span_seconds": round((last or 0) - (first or 0), 3),
    }


def dbt_breakdown(target_root: Path, run_id: str) -> dict[str, Any]:
    """From the run_results.json of every dbt invocation of the run: where dbt spent its time."""
    found = sorted(target_root.glob(f"*-{run_id[:7]}-*/run_results.json"))
    if not found:
        return {}
    by_type: Counter = Counter()
    by_layer: Counter = Counter()
    nodes, elapsed = [], []
    for path in found:
        results = json.loads(path.read_text())
        elapsed.append(round(float(results.get("elapsed_time") or 0), 3))
        for result in results["results"]:
            unique_id = result["unique_id"]
            resource_type = unique_id.split(".", 1)[0]
            seconds = float(result.get("execution_time") or 0)
            by_type[resource_type] += seconds
            if resource_type == "model":
                name = unique_id.rsplit(".", 1)[-1]
                by_layer[name.split("_", 1)[0]] += seconds
            nodes.append((seconds, unique_id, result.get("status")))
    nodes.sort(reverse=True)
    return {
        "invocations": len(found),
        "dbt_elapsed_seconds": round(sum(elapsed), 3),
        "dbt_elapsed_seconds_by_invocation": elapsed,
        "nodes": len(nodes),
        "seconds_by_resource_type": {k: round(v, 3) for k, v in by_type.most_common()},
        "model_seconds_by_layer": {k: round(v, 3) for k, v in by_layer.most_common()},
        "slowest_nodes": [
            {"node": uid.split(".", 2)[-1], "seconds": round(s, 3), "status": status}
            for s, uid, status in nodes[:10]
        ],
    }


def warehouse_counts(duckdb_path: str) -> dict[str, Any]:
    import duckdb

    counts: dict[str, Any] = {"raw": {}, "gold": {}}
    with duckdb.connect(duckdb_path, read_only=True) as con:
        from analytics_platform.lib.datasets import load_datasets
        from analytics_platform.settings import load_settings

        for dataset in load_datasets(load_settings()):
            # Keyed by domain: two domains may declare datasets of the same name (users).
            counts["raw"][dataset.qualified_name] = con.execute(f"SELECT count(*) FROM {dataset.raw_table}").fetchone()[0]
        for table in GOLD_TABLES:
            try:
                counts["gold"][table] = con.execute(f"SELECT count(*) FROM gold.{table}").fetchone()[0]
            except duckdb.CatalogException:
                counts["gold"][table] = None
    return counts


def time_dbt_start(target_root: Path) -> float:
    """Wall seconds of one dbt process that builds nothing (`dbt build` selecting no node), with
    the run's project, target and partial-parse file: the fixed cost of starting dbt."""
    from analytics_platform.lib.dbt_project import _dbt_executable
    from analytics_platform.settings import load_settings

    settings = load_settings()
    project_dir = str(settings.dbt_project_dir)
    started = time.perf_counter()
    subprocess.run(
        [_dbt_executable(), "build", "--quiet", "--select", "tag:__bench_selects_nothing__",
         "--project-dir", project_dir, "--profiles-dir", project_dir, "--target", settings.dbt_target,
         "--target-path", str(target_root)],
        check=True, cwd=project_dir, stdout=subprocess.DEVNULL,
    )
    return round(time.perf_counter() - started, 3)


def execute(job, instance, target_root: Path, dbt: DbtProcesses, memory: PeakMemory, **run_kwargs) -> dict:
    """Run `job` in process; its timings, dbt processes, memory and a breakdown."""
    dbt.take()
    memory.take()
    run_started = time.perf_counter()
    result = job.execute_in_process(instance=instance, raise_on_error=False, **run_kwargs)
    payload: dict[str, Any] = {"run_seconds": round(time.perf_counter() - run_started, 3)}
    payload["peak_rss_mib"] = memory.take()
    commands = dbt.take()
    payload["dbt_processes"] = len(commands)
    payload["dbt_commands"] = [" ".join(c[1:4]) for c in commands]
    payload["success"] = result.success
    payload["run_id"] = result.run_id
    payload["failed_checks"] = [
        f"{c.asset_key.to_user_string()}:{c.check_name}"
        for c in result.get_asset_check_evaluations()
        if not c.passed
    ]
    payload.update(step_breakdown(instance, result.run_id))
    payload["dbt"] = dbt_breakdown(target_root, result.run_id)
    payload["dbt_invocation_dirs"] = [
        str(p.parent) for p in sorted(target_root.glob(f"*-{result.run_id[:7]}-*/run_results.json"))
    ]
    return payload


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["full", "tick", "sensor-run"])
    parser.add_argument("--cursor-file", type=Path)
    parser.add_argument("--land", type=Path, help="folder of files to PUT (at their relative keys) before the tick")
    parser.add_argument("--idle-run", action="store_true", help="after the sensor's run, the same run with nothing new")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    dbt = DbtProcesses()
    memory = PeakMemory()
    import dagster as dg

    from analytics_platform.definitions import defs
    from analytics_platform.defs.landing.sensor import FILES_ANNOUNCED_TAG, TARGET_JOB

    payload: dict[str, Any] = {"import_seconds": round(time.perf_counter() - started, 3)}
    instance = dg.DagsterInstance.get()
    target_root = Path(os.environ["DBT_TARGET_PATH"])

    run_kwargs: dict[str, Any] | None = None
    job = None
    if args.mode == "full":
        job = defs.get_job_def("landing_to_gold")
        run_kwargs = {}
    else:
        sensor = defs.get_sensor_def("landing_files_sensor")
        client = defs.resources["s3"].get_client()
        landing_zone = defs.resources["landing_zone"]

        def tick(cursor: str | None):
            context = dg.build_sensor_context(
                instance=instance, cursor=cursor, resources=defs.resources, definitions=defs
            )
            tick_started = time.perf_counter()
            evaluated = sensor.evaluate_tick(context)
            return time.perf_counter() - tick_started, evaluated

        cursor = args.cursor_file.read_text() if args.cursor_file.exists() else None
        if cursor is None:
            # The tick that would have started the full load: here it only sets the cursor.
            seconds, first = tick(None)
            payload["initial_tick_seconds"] = round(seconds, 4)
            cursor = first.cursor or ""
            args.cursor_file.write_text(cursor)
    if args.mode == "sensor-run":
        if args.land:
            from analytics_platform.local.sample_data.files import upload_directory

            upload_directory(client, landing_zone.bucket, args.land)
        seconds, evaluated = tick(cursor)
        payload["tick_seconds"] = round(seconds, 4)
        payload["regular_tick_saw_new_files"] = bool(evaluated.run_requests)
        if not evaluated.run_requests:
            payload["success"] = False
            payload["error"] = "the sensor's next tick did not request a run for the new files"
        payload["run_requests"] = len(evaluated.run_requests or [])
        if evaluated.cursor is not None:
            args.cursor_file.write_text(evaluated.cursor)
        payload["cursor_bytes"] = len(evaluated.cursor or "")
        if evaluated.run_requests:
            [request] = evaluated.run_requests
            payload["new_files"] = int(request.tags.get(FILES_ANNOUNCED_TAG, 0))
            payload["selected_assets"] = len(request.asset_selection or [])
            # As the daemon launches it: the request's assets and its checks (the source
            # freshness checks are not among them).
            job = defs.get_job_def(request.job_name or TARGET_JOB).get_subset(
                asset_selection=set(request.asset_selection or []),
                asset_check_selection=set(request.asset_check_keys or []),
            )
            run_kwargs = {"tags": request.tags}

    if job is not None and run_kwargs is not None:
        payload.update(execute(job, instance, target_root, dbt, memory, **run_kwargs))
        payload["warehouse"] = warehouse_counts(os.environ["ANALYTICS_DUCKDB_PATH"])
        if args.idle_run and payload["success"]:
            # The same landing run again, nothing new in the bucket: what any landing run costs.
            idle = execute(job, instance, target_root, dbt, memory, **run_kwargs)
            payload["idle_run"] = idle
            payload["dbt_start_seconds"] = time_dbt_start(target_root)
            payload["success"] = idle["success"]
    payload["total_seconds"] = round(time.perf_counter() - started, 3)
    emit_result(payload)
    return 0 if payload.get("success", True) else 1


if __name__ == "__main__":
    raise SystemExit(main())
