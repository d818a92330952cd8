"""One `dbt build` of a generated project through Dagster, in its own process.

    python -m benchmarks.dbt_overhead_child VARIANT

VARIANT:
  dagster            the code location's job `landing_to_gold` (analytics_platform.definitions,
                     pointed at the generated project) selecting every asset dbt builds (not the
                     ingestion assets, whose raw tables the trivial models do not read, nor the
                     docs site), on a
                     DagsterInstance with the product's storage (DAGSTER_HOME, SQLite): the
                     product as `make dev` / `make demo` runs it
  dagster-ephemeral  the same on an in-memory instance: what event storage costs
  invocation         `dbt.cli(["build"]).wait()` with the project's dbt resource, outside any run

Settings come from the environment (ANALYTICS_DBT_PROJECT_DIR points at the generated
project). Only the build is timed, not the imports (a code server has those loaded already).
"""

from __future__ import annotations

import sys
import time

from benchmarks.common import emit_result


def main(argv: list[str] | None = None) -> int:
    variant = (argv or sys.argv[1:])[0]
    started = time.perf_counter()
    import dagster as dg

    from analytics_platform.definitions import defs

    job = defs.get_job_def("landing_to_gold")
    graph = defs.resolve_asset_graph()
    # What dbt builds: not the ingestion assets (raw/...) nor the docs site (its own group, which
    # landing_to_gold excludes; an explicit asset_selection would run it).
    dbt_built = [
        key for key in graph.materializable_asset_keys
        if key.path[0] != "raw" and graph.get(key).group_name != "docs"
    ]
    import_seconds = time.perf_counter() - started

    payload: dict = {"variant": variant, "import_seconds": round(import_seconds, 3)}
    build_started = time.perf_counter()
    if variant == "invocation":
        defs.resources["dbt"].cli(["build"]).wait()
        payload["success"] = True
    else:
        instance = dg.DagsterInstance.ephemeral() if variant == "dagster-ephemeral" else dg.DagsterInstance.get()
        result = job.execute_in_process(instance=instance, asset_selection=dbt_built, raise_on_error=False)
        payload["steps"] = sorted({e.step_key for e in result.all_events if e.step_key})
        payload["success"] = result.success
        payload["materializations"] = len(result.get_asset_materialization_events())
        payload["check_evaluations"] = len(result.get_asset_check_evaluations())
        payload["events"] = len(result.all_events)
    payload["seconds"] = round(time.perf_counter() - build_started, 3)
    emit_result(payload)
    return 0 if payload["success"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
