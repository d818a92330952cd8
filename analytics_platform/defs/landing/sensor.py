"""The sensor that starts ingestion, and everything downstream of it, when files land in S3.

How it decides what is new, listing a bounded amount per tick: see
`analytics_platform.lib.cursor`. The listings of one tick are independent requests, sent
side by side so that a tick costs about one round trip to S3 per page rather than one per folder.
"""

import hashlib
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import dagster as dg
from dagster_aws.s3 import S3Resource

from analytics_platform.defs.landing.assets import DEFERRED_FILES_METADATA
from analytics_platform.defs.landing.resources import LandingZone
from analytics_platform.defs.quality.source_freshness import SOURCE_FRESHNESS_CHECKS
from analytics_platform.lib.cursor import (
    FOLDER_PAGES_PER_TICK,
    SWEEP_PAGES_PER_TICK,
    LandingCursor,
)
from analytics_platform.lib.datasets import Dataset, dataset_for_key
from analytics_platform.lib.objects import LandingObject, list_landing_slice

_S3_CLIENTS: dict[str, object] = {}
RETRY_DEFERRED_AFTER = timedelta(minutes=10)
"""A file S3 would not give (deleted, forbidden, changed between listing and download) is
deferred, not settled; the sensor asks for another run of its dataset this long after."""
TARGET_JOB = "ingest_and_build"
FILES_ANNOUNCED_TAG = "analytics/files_announced"
"""How many files this tick saw for the first time. The run loads those of them (and any other
landed file) that the warehouse ledger has not loaded yet: a file loaded already, e.g. by
`make demo`, is announced but not loaded again, and the run's ingestion says so."""


def cached_s3_client(s3: S3Resource):
    """Building a boto3 client costs ~0.14 s (it loads the service model), a good part of a tick;
    the process evaluating ticks lives on, so build one per configuration and reuse it (boto3
    clients are thread-safe)."""
    configuration = s3.model_dump_json()
    if configuration not in _S3_CLIENTS:
        _S3_CLIENTS[configuration] = s3.get_client()
    return _S3_CLIENTS[configuration]


def build_landing_sensor(
    datasets: Sequence[Dataset], default_status: dg.DefaultSensorStatus
) -> dg.SensorDefinition:
    @dg.sensor(
        name="landing_files_sensor",
        description="Starts ingestion, and the dbt models downstream of it, when files land in S3.",
        target=landing_target_job(datasets),
        minimum_interval_seconds=30,
        default_status=default_status,
    )
    def landing_files_sensor(
        context: dg.SensorEvaluationContext, s3: S3Resource, landing_zone: LandingZone
    ):
        cursor = LandingCursor.parse(context.cursor)
        new, next_cursor = list_new_files(cursor, cached_s3_client(s3), landing_zone, datasets)
        yield from landing_run_requests(context, datasets, landing_zone, new)
        context.update_cursor(next_cursor.serialize())

    return landing_files_sensor


def landing_target_job(datasets: Sequence[Dataset]):
    # A named job, not an AssetSelection (the sensor page shows its target): each run
    # request narrows it to the landed datasets and everything downstream of them.
    return dg.define_asset_job(
        name=TARGET_JOB,
        # dbt source freshness runs on its own schedule (defs/quality): a landing run is the
        # ingestion step and one dbt step.
        selection=_built_after(datasets) - SOURCE_FRESHNESS_CHECKS,
        description=(
            "What the landing sensor starts: the ingestion of the datasets with new files "
            "and every asset downstream of them (each run narrows it to what landed)."
        ),
    )


def list_new_files(
    cursor: LandingCursor, s3_client, landing_zone: LandingZone, datasets: Sequence[Dataset]
) -> tuple[list[LandingObject], LandingCursor]:
    """One bounded listing step (every dataset folder after its greatest key, one sweep page):
    the files not announced before, and the cursor that remembers them."""
    bucket = landing_zone.bucket
    folder_prefixes = [dataset.landing_prefix(landing_zone.prefix) for dataset in datasets]
    with ThreadPoolExecutor(max_workers=len(folder_prefixes) + 1) as pool:
        folder_listings = {
            prefix: pool.submit(
                list_landing_slice,
                s3_client,
                bucket,
                prefix,
                cursor.folder_start(prefix),
                FOLDER_PAGES_PER_TICK,
            )
            for prefix in folder_prefixes
        }
        sweep_listing = pool.submit(
            list_landing_slice,
            s3_client,
            bucket,
            landing_zone.prefix,
            cursor.sweep_after,
            SWEEP_PAGES_PER_TICK,
        )
        folders = {prefix: listing.result() for prefix, listing in folder_listings.items()}
        sweep = sweep_listing.result()
    return cursor.advance(folders, sweep)


def _landing_run_selection(selection: dg.AssetSelection, asset_graph) -> dict:
    """A run request's assets and checks: without an explicit check selection Dagster adds
    every check of the selected assets, the source freshness checks (its own schedule) too."""
    selection = selection - SOURCE_FRESHNESS_CHECKS
    return {
        "asset_selection": list(selection.resolve(asset_graph)),
        "asset_check_keys": list(selection.resolve_checks(asset_graph)),
    }


def landing_run_requests(
    context: dg.SensorEvaluationContext,
    datasets: Sequence[Dataset],
    landing_zone: LandingZone,
    new: Sequence[LandingObject],
) -> Iterator[dg.RunRequest]:
    """The run request for the `new` files (their datasets and everything downstream), and the
    retry of datasets whose last ingestion deferred files. Shared by the listing and the queue
    sensors (sqs_sensor.py), which differ only in how they learn of new files."""
    new_by_dataset = {}
    for landing_object in new:
        dataset = dataset_for_key(datasets, landing_object.key, landing_zone.prefix)
        if dataset is None:
            context.log.warning(
                f"s3://{landing_zone.bucket}/{landing_object.key} is not under a known dataset "
                f"folder ({', '.join(d.qualified_name for d in datasets)}): it will not be loaded"
            )
            continue
        new_by_dataset.setdefault(dataset.qualified_name, (dataset, []))[1].append(landing_object)

    asset_graph = context.repository_def.asset_graph
    if new_by_dataset:
        selection = _built_after([d for d, _ in new_by_dataset.values()])
        selection = selection | _never_materialized_parents(context.instance, selection, asset_graph)
        digest = hashlib.sha256(
            "\n".join(
                sorted(f"{o.key}@{o.etag}" for _, objs in new_by_dataset.values() for o in objs)
            ).encode()
        ).hexdigest()[:16]
        yield dg.RunRequest(
            run_key=f"landing-{digest}",
            **_landing_run_selection(selection, asset_graph),
            tags={
                "analytics/trigger": "landing_files_sensor",
                FILES_ANNOUNCED_TAG: str(
                    sum(len(objs) for _, objs in new_by_dataset.values())
                ),
                "analytics/datasets": ",".join(sorted(new_by_dataset)),
            },
        )
    retry = _deferred_files_due(context.instance, datasets)
    if retry:
        yield dg.RunRequest(
            # One retry per run that deferred files: a retry that defers again is retried
            # RETRY_DEFERRED_AFTER later.
            run_key="deferred-retry-" + ",".join(sorted(retry.values())),
            **_landing_run_selection(_built_after(list(retry)), asset_graph),
            tags={
                "analytics/trigger": "landing_files_sensor",
                "analytics/retry_of_deferred_files": ",".join(
                    sorted(d.qualified_name for d in retry)
                ),
            },
        )


def _built_after(datasets: Sequence[Dataset]) -> dg.AssetSelection:
    """The ingestion of `datasets`, everything downstream of it, and the dbt seeds those models
    read (cheap, and on a fresh warehouse nothing else builds them before the first run)."""
    downstream = dg.AssetSelection.assets(*(d.asset_key for d in datasets)).downstream()
    seeds = downstream.upstream() & dg.AssetSelection.tag("materialized", "seed")
    return (downstream | seeds).materializable()


def _never_materialized_parents(
    instance: dg.DagsterInstance, selection: dg.AssetSelection, asset_graph
) -> dg.AssetSelection:
    """The parents of `selection` that were never materialized: on a fresh warehouse, the raw
    tables and models of the datasets that have not landed yet (e.g. TICKIT's sales before its
    events). Built in the same run (a raw table with no files is created empty), so the first
    files of one dataset never fail their run for want of another dataset's tables. One event-log
    query, only on ticks that request a run."""
    parents = (selection.upstream() - selection).materializable().resolve(asset_graph)
    if not parents:
        return dg.AssetSelection.assets()
    latest = instance.get_latest_materialization_events(list(parents))
    return dg.AssetSelection.assets(*(key for key in parents if latest.get(key) is None))


def _deferred_files_due(
    instance: dg.DagsterInstance, datasets: Sequence[Dataset]
) -> dict[Dataset, str]:
    """Datasets whose latest ingestion deferred files (S3 refused or changed them mid-run) at
    least RETRY_DEFERRED_AFTER ago, with the id of that run. Read from the event log (one query
    for all datasets), never from the warehouse, so a tick stays cheap and lock-free."""
    events = instance.get_latest_materialization_events([d.asset_key for d in datasets])
    due = {}
    for dataset in datasets:
        event = events.get(dataset.asset_key)
        materialization = event.asset_materialization if event else None
        if materialization is None:
            continue
        deferred = materialization.metadata.get(DEFERRED_FILES_METADATA)
        waited = time.time() - event.timestamp
        if deferred is not None and deferred.value and waited >= RETRY_DEFERRED_AFTER.total_seconds():
            due[dataset] = event.run_id
    return due
