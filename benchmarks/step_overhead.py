"""Diagnostic, not a row of the table: Dagster's own cost for one step that yields many assets.

A multi-asset of N assets whose op does nothing but yield a `MaterializeResult` for each, run with
`materialize()` on a fresh local instance (the dagster.yaml `analytics-platform` writes, so the
local event log of `local/instance.py`), once per repetition. Everything timed is Dagster's: the
run's planned events, and per asset an output and a materialization event with their checks.
`dbt_models` is such a step, with one output per dbt model, so this isolates what the
"500 trivial models" row pays on top of dbt.

    .venv/bin/python -m benchmarks.step_overhead --assets 550 --runs 3

Run it on two commits (e.g. with `git worktree add` and `PYTHONPATH=<worktree>`) to compare.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=550)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    import dagster as dg

    from analytics_platform.local.dagster_yaml import DAGSTER_YAML

    try:  # installed by the code location when it builds the dbt assets (absent before 910b738)
        from analytics_platform.defs.dbt.step_outputs import compute_output_asset_keys_once_per_step
    except ImportError:
        print("no defs/dbt/step_outputs.py on this commit: Dagster's own get_output_asset_keys")
    else:
        compute_output_asset_keys_once_per_step()

    specs = [dg.AssetSpec(f"asset_{i}") for i in range(args.assets)]

    @dg.multi_asset(specs=specs)
    def many_assets():
        for spec in specs:
            yield dg.MaterializeResult(asset_key=spec.key)

    home = Path(tempfile.mkdtemp(prefix="step-overhead-"))
    (home / "dagster.yaml").write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    with dg.DagsterInstance.get() as instance:
        for run in range(1, args.runs + 1):
            started = time.perf_counter()
            result = dg.materialize([many_assets], instance=instance)
            seconds = time.perf_counter() - started
            events = len(instance.all_logs(result.run_id))
            print(f"run {run}: {args.assets} assets, {events} events in the run's log, {seconds:.2f} s")


if __name__ == "__main__":
    main()
