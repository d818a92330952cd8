"""Runs the platform itself, in its own process, the way a Dagster run worker would.

    python -m benchmarks.platform_child full          # job landing_to_gold (ingestion + dbt build)
    python -m benchmarks.platform_child tick  --cursor-file F   # one sensor tick, cursor saved
    python -m benchmarks.platform_child sensor-run --cursor-file F  # tick, then run what it asks

`sensor-run` runs the sensor's own target job (`ingest_and_build`) narrowed to the request's
asset selection, with the request's tags, as the daemon would launch it.

Settings come from the environment (see `benchmarks.datasets.platform_env`); the code location
is the project's own `analytics_platform.definitions`, the instance is `DagsterInstance.get()`
on a fresh DAGSTER_HOME holding the product's dagster.yaml. The timings and a breakdown (steps,
dbt nodes, Dagster events) are printed as one JSON line for the parent.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.common import emit_result

GOLD_TABLES = ("gold_daily_sales", "gold_daily_avg_rating", "product_categories")


def step_breakdown(instance, run_id: str) -> dict[str, Any]:
    """Seconds per step (STEP_START -> STEP_SUCCESS/FAILURE) and event counts of the run."""
    starts: dict[str, float] = {}
    steps: dict[str, float] = {}
    events = Counter()
    first = last = None
    # Ingestion yields one materialization per dataset, in order: the gaps are per-dataset times.
    ingestion: dict[str, float] = {}
    previous_ingestion_event = None
    for entry in instance.all_logs(run_id):
        first = entry.timestamp if first is None else first
        last = entry.timestamp
        event = entry.dagster_event
        if event is None:
            events["log_message"] += 1
            continue
        events[event.event_type_value] += 1
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = entry.timestamp
            if event.step_key == "ingest_landing_files":
                previous_ingestion_event = entry.timestamp
        elif (
            event.event_type_value == "ASSET_MATERIALIZATION"
            and event.step_key == "ingest_landing_files"
            and previous_ingestion_event is not None
        ):
            ingestion[event.asset_key.to_user_string()] = round(entry.timestamp - previous_ingestion_event, 3)
            previous_ingestion_event = entry.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in starts:
            steps[event.step_key] = round(entry.timestamp - starts[event.step_key], 3)
    return {
        "steps": steps,
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["full", "tick", "sensor-run"])
    parser.add_argument("--cursor-file", type=Path)
    parser.add_argument("--land", type=Path, help="folder of files to PUT (at their relative keys) before the tick")
    args = parser.parse_args(argv)

    started = time.perf_counter()
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
            job = defs.get_job_def(request.job_name or TARGET_JOB)
            run_kwargs = {"asset_selection": request.asset_selection, "tags": request.tags}

    if job is not None and run_kwargs is not None:
        run_started = time.perf_counter()
        result = job.execute_in_process(instance=instance, raise_on_error=False, **run_kwargs)
        payload["run_seconds"] = round(time.perf_counter() - run_started, 3)
        payload["success"] = result.success
        payload["run_id"] = result.run_id
        failed_checks = [
            f"{c.asset_key.to_user_string()}:{c.check_name}"
            for c in result.get_asset_check_evaluations()
            if not c.passed
        ]
        payload["failed_checks"] = failed_checks
        payload.update(step_breakdown(instance, result.run_id))
        payload["dbt"] = dbt_breakdown(target_root, result.run_id)
        payload["warehouse"] = warehouse_counts(os.environ["ANALYTICS_DUCKDB_PATH"])
    payload["total_seconds"] = round(time.perf_counter() - started, 3)
    emit_result(payload)
    return 0 if payload.get("success", True) else 1


if __name__ == "__main__":
    raise SystemExit(main())
