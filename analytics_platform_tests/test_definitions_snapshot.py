"""A snapshot of the whole Definitions object, so a refactor shows every change it makes.

The snapshot (snapshots/definitions.json) lists every asset with its deps, group, kinds, tags,
owners, freshness policy and partitions; every asset check (and whether it blocks); each job's
resolved selection; sensors and schedules. A change to the graph fails this test with a diff;
if the change is intended, rewrite the snapshot and commit it with the change:

    UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest analytics_platform_tests/test_definitions_snapshot.py
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import dagster as dg

from analytics_platform.defs import build_definitions

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"


def _freshness(policy) -> dict | None:
    if policy is None:
        return None
    described = {"type": type(policy).__name__}
    for name in ("fail_window", "warn_window", "deadline_cron", "lower_bound_delta", "timezone"):
        value = getattr(policy, name, None)
        if value is not None:
            described[name] = str(value.to_timedelta() if hasattr(value, "to_timedelta") else value)
    return described


def _partitions(partitions_def) -> dict | None:
    if partitions_def is None:
        return None
    described = {"type": type(partitions_def).__name__}
    for name in ("cron_schedule", "timezone", "fmt"):
        value = getattr(partitions_def, name, None)
        if value is not None:
            described[name] = str(value)
    start = getattr(partitions_def, "start", None)
    if start is not None:
        described["start"] = start.isoformat()
    return described


def describe(definitions: dg.Definitions) -> dict:
    graph = definitions.resolve_asset_graph()
    repository = definitions.get_repository_def()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "tags": dict(sorted(node.tags.items())),
            "owners": sorted(node.owners),
            "materializable": node.is_materializable,
            "freshness_policy": _freshness(node.freshness_policy),
            "partitions": _partitions(node.partitions_def),
            "checks": sorted(check.name for check in node.check_keys),
        }
    checks = {}
    for check_key in sorted(
        graph.asset_check_keys, key=lambda k: (k.asset_key.to_user_string(), k.name)
    ):
        spec = graph.get_check_spec(check_key)
        checks[f"{check_key.asset_key.to_user_string()}:{check_key.name}"] = {
            "blocking": spec.blocking
        }
    jobs = {}
    for job in sorted(definitions.resolve_all_job_defs(), key=lambda j: j.name):
        if job.name.startswith("__"):
            continue  # Dagster's implicit asset jobs
        selected = job.asset_layer.selected_asset_keys if job.asset_layer else set()
        jobs[job.name] = {
            "assets": sorted(key.to_user_string() for key in selected),
            "partitioned": job.partitions_def is not None,
        }
    sensors = {}
    for sensor in sorted(repository.sensor_defs, key=lambda s: s.name):
        target_keys = set()
        if sensor.has_jobs:
            for job in sensor.jobs:
                resolved = definitions.resolve_job_def(job.name)
                target_keys |= resolved.asset_layer.selected_asset_keys
        sensors[sensor.name] = {
            "default_status": sensor.default_status.value,
            "minimum_interval_seconds": sensor.minimum_interval_seconds,
            "targets": sorted(key.to_user_string() for key in target_keys),
        }
    schedules = {
        schedule.name: {
            "cron": schedule.cron_schedule,
            "job": schedule.job_name,
            "default_status": schedule.default_status.value,
        }
        for schedule in sorted(repository.schedule_defs, key=lambda s: s.name)
    }
    return {
        "assets": assets,
        "asset_checks": checks,
        "jobs": jobs,
        "sensors": sensors,
        "schedules": schedules,
    }


def test_the_definitions_match_the_committed_snapshot(settings, dbt_manifest):
    current = json.dumps(describe(build_definitions(settings)), indent=1, sort_keys=False) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(current)
    expected = SNAPSHOT.read_text() if SNAPSHOT.exists() else ""
    diff = "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True),
            current.splitlines(keepends=True),
            "snapshots/definitions.json (committed)",
            "definitions (now)",
        )
    )
    assert not diff, (
        "The definitions changed. If intended, rerun with UPDATE_SNAPSHOTS=1 and commit the "
        f"snapshot:\n{diff}"
    )
