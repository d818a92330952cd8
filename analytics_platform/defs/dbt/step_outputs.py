"""The output asset keys of a step, computed once per step instead of once per output.

Each time an op yields an `Output` of an asset, Dagster 1.13 checks that no asset downstream of it
in the same step was yielded before it (multi-assets must yield in topological order). For that
check it calls `StepExecutionContext.get_output_asset_keys()`, which walks every output of the
step and, for each, builds the set of all the asset's keys again: for a step of n outputs that is
n² sets of n keys. `dbt_models` is one step with an output per dbt model, so a build selecting
every model pays it: negligible at this project's size, seconds at 500 models, and it grows with
the cube of the models (BENCHMARKS.md, row "500 trivial models").

The keys cannot change while a step runs (its outputs, its node and the job's asset layer are
fixed), so the first answer is kept on the step's context. The check itself, and every other
caller, get the same set as before. Installed when the dbt assets are built (defs/dbt/assets.py),
which every process that executes `dbt_models` does. `test_step_outputs.py` compares the result
with Dagster's own on each run of the tests, so an upgrade that changes the method is caught.
"""

from collections.abc import Callable
from collections.abc import Set as AbstractSet

import dagster as dg
from dagster._core.execution.context.system import StepExecutionContext

_CACHE_ATTRIBUTE = "_analytics_output_asset_keys"

dagster_get_output_asset_keys: Callable[[StepExecutionContext], AbstractSet[dg.AssetKey]] = (
    StepExecutionContext.get_output_asset_keys
)


def get_output_asset_keys_once(self: StepExecutionContext) -> AbstractSet[dg.AssetKey]:
    keys = self.__dict__.get(_CACHE_ATTRIBUTE)
    if keys is None:
        keys = self.__dict__[_CACHE_ATTRIBUTE] = frozenset(dagster_get_output_asset_keys(self))
    return keys


def compute_output_asset_keys_once_per_step() -> None:
    """Idempotent."""
    StepExecutionContext.get_output_asset_keys = get_output_asset_keys_once  # type: ignore[method-assign]
