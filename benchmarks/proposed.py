"""Changes the benchmarks suggest for the product, runnable here so their effect is measured.

Nothing in the product imports this module; BENCHMARKS.md says where each change would go.

`prefetched`: `dbt.cli(...).stream()` reads dbt's stdout in the step's thread, between the
Dagster events it yields. Each event is written to the run's event log before the next line is
read (with the default SQLite storage: a new connection, a commit and a close per event), so
while Dagster stores events, dbt blocks on a full pipe: the two costs add up. Draining the
stream in a background thread lets dbt run at full speed while Dagster stores events on the
other core; the step then costs about max(dbt, event storage) instead of their sum.
"""

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

T = TypeVar("T")
_DONE = object()


def prefetched(events: Iterable[T]) -> Iterator[T]:
    """Yield from `events`, produced ahead by a background thread (unbounded buffer).

    Exceptions raised by the producer are re-raised in the consumer after the events that came
    before them; if the consumer stops early, the producer finishes on its own (dbt runs to its
    end, as it would without the thread).
    """
    buffer: queue.SimpleQueue = queue.SimpleQueue()
    failure: list[BaseException] = []

    def produce() -> None:
        try:
            for event in events:
                buffer.put(event)
        except BaseException as error:  # noqa: BLE001 - re-raised in the consumer
            failure.append(error)
        finally:
            buffer.put(_DONE)

    threading.Thread(target=produce, name="dbt-event-prefetch", daemon=True).start()
    while (event := buffer.get()) is not _DONE:
        yield event
    if failure:
        raise failure[0]


def build_prefetching_dbt_assets(settings):
    """The product's `dbt_models` (analytics_platform/transform/assets.py), same manifest,
    project, translator, pool and name, with the stream drained by `prefetched`."""
    from analytics_platform.settings import WAREHOUSE_POOL
    from analytics_platform.transform.project import dbt_project_for, load_manifest
    from analytics_platform.transform.translator import AnalyticsDbtTranslator

    @dbt_assets(
        manifest=load_manifest(settings),
        project=dbt_project_for(settings),
        dagster_dbt_translator=AnalyticsDbtTranslator(),
        pool=WAREHOUSE_POOL,
        name="dbt_models",
    )
    def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
        yield from prefetched(dbt.cli(["build"], context=context).stream())

    return dbt_models
