"""The step's output asset keys, computed once per step (defs/dbt/step_outputs.py): same answer
as Dagster's own, the topological-order check still enforced, and no longer once per output."""

import dagster as dg
import pytest

from analytics_platform.defs.dbt import step_outputs


@pytest.fixture
def counted_dagster_calls(monkeypatch) -> list[int]:
    """Installs the once-per-step version; counts how often Dagster's own computation runs."""
    calls: list[int] = []
    dagster_version = step_outputs.dagster_get_output_asset_keys

    def counted(context):
        calls.append(1)
        return dagster_version(context)

    monkeypatch.setattr(step_outputs, "dagster_get_output_asset_keys", counted)
    step_outputs.compute_output_asset_keys_once_per_step()
    return calls


def chain_of(n: int) -> list[dg.AssetSpec]:
    """link_0 <- link_1 <- ... : each depends on the one before, all in one step."""
    return [dg.AssetSpec(f"link_{i}", deps=[f"link_{i - 1}"] if i else []) for i in range(n)]


def test_a_step_computes_its_output_asset_keys_once_and_dagster_agrees(counted_dagster_calls):
    specs = chain_of(40)
    answers: list[tuple[frozenset, frozenset]] = []

    @dg.multi_asset(specs=specs, can_subset=True)
    def chain(context: dg.AssetExecutionContext):
        step_context = context.op_execution_context._step_execution_context
        for spec in specs:
            if spec.key in context.selected_asset_keys:
                yield dg.MaterializeResult(asset_key=spec.key)
        answers.append(
            (
                frozenset(step_context.get_output_asset_keys()),
                frozenset(step_outputs.dagster_get_output_asset_keys(step_context)),
            )
        )

    selected = [spec.key for spec in specs[5:30]]
    result = dg.materialize([chain], selection=selected, instance=dg.DagsterInstance.ephemeral())

    assert result.success
    materialized = [event.asset_key for event in result.get_asset_materialization_events()]
    assert materialized == selected
    (kept, dagster_now), = answers
    assert kept == dagster_now == frozenset(selected)
    # Once for the step (25 outputs checked against it) and once for the comparison above.
    assert len(counted_dagster_calls) == 2


def test_an_asset_yielded_before_its_upstream_in_the_same_step_is_still_refused(counted_dagster_calls):
    specs = chain_of(3)

    @dg.multi_asset(specs=specs)
    def out_of_order():
        for spec in reversed(specs):
            yield dg.MaterializeResult(asset_key=spec.key)

    with pytest.raises(dg.DagsterInvariantViolationError, match="was yielded before its dependency"):
        dg.materialize([out_of_order], instance=dg.DagsterInstance.ephemeral())
