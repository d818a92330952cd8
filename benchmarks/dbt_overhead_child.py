"""One `dbt build` of a generated project through Dagster, in its own process.

    python -m benchmarks.dbt_overhead_child VARIANT

VARIANT:
  dagster            the project's own dbt assets (`build_dbt_model_assets`) and dbt resource,
                     on a DagsterInstance with the product's storage (DAGSTER_HOME, SQLite):
                     the product as `make dev` / `make demo` runs it
  dagster-ephemeral  the same on an in-memory instance: what event storage costs
  invocation         `dbt.cli(["build"]).wait()` outside any run: dagster-dbt's own wrapper

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

    from analytics_platform.defs.dbt.assets import build_dbt_model_assets
    from analytics_platform.lib.dbt_project import dbt_cli_resource
    from analytics_platform.settings import load_settings

    settings = load_settings()
    dbt = dbt_cli_resource(settings)
    assets = build_dbt_model_assets(settings)
    import_seconds = time.perf_counter() - started

    payload: dict = {"variant": variant, "import_seconds": round(import_seconds, 3)}
    build_started = time.perf_counter()
    if variant == "invocation":
        dbt.cli(["build"]).wait()
        payload["success"] = True
    else:
        instance = None if variant == "dagster-ephemeral" else dg.DagsterInstance.get()
        result = dg.materialize([assets], resources={"dbt": dbt}, instance=instance, raise_on_error=False)
        payload["success"] = result.success
        payload["materializations"] = len(result.get_asset_materialization_events())
        payload["check_evaluations"] = len(result.get_asset_check_evaluations())
        payload["events"] = len(result.all_events)
    payload["seconds"] = round(time.perf_counter() - build_started, 3)
    emit_result(payload)
    return 0 if payload["success"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
