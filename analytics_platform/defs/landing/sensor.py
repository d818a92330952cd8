"""The sensor that starts ingestion, and everything downstream of it, when files land in S3.

How it decides what is new, listing a bounded amount per tick: see
`analytics_platform.lib.cursor`. The listings of one tick are independent requests, sent
side by side so that a tick costs about one round trip to S3 per page rather than one per folder.
"""

import hashlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import dagster as dg
from dagster_aws.s3 import S3Resource

from analytics_platform.defs.landing.resources import LandingZone
from analytics_platform.lib.cursor import (
    FOLDER_PAGES_PER_TICK,
    SWEEP_PAGES_PER_TICK,
    LandingCursor,
)
from analytics_platform.lib.datasets import Dataset, dataset_for_key
from analytics_platform.lib.objects import list_landing_slice

_S3_CLIENTS: dict[str, object] = {}


def _s3_client(s3: S3Resource):
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
    raw_keys = [dataset.asset_key for dataset in datasets]

    @dg.sensor(
        name="landing_files_sensor",
        description="Starts ingestion, and the dbt models downstream of it, when files land in S3.",
        target=dg.AssetSelection.assets(*raw_keys).downstream().materializable(),
        minimum_interval_seconds=30,
        default_status=default_status,
    )
    def landing_files_sensor(
        context: dg.SensorEvaluationContext, s3: S3Resource, landing_zone: LandingZone
    ):
        cursor = LandingCursor.parse(context.cursor)
        s3_client = _s3_client(s3)
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
        new, next_cursor = cursor.advance(folders, sweep)

        new_by_dataset = {}
        for landing_object in new:
            dataset = dataset_for_key(datasets, landing_object.key, landing_zone.prefix)
            if dataset is None:
                context.log.warning(
                    f"s3://{landing_zone.bucket}/{landing_object.key} is not under a known dataset "
                    f"folder ({', '.join(d.name for d in datasets)}): it will not be loaded"
                )
                continue
            new_by_dataset.setdefault(dataset.name, (dataset, []))[1].append(landing_object)

        if new_by_dataset:
            selection = (
                dg.AssetSelection.assets(*(d.asset_key for d, _ in new_by_dataset.values()))
                .downstream()
                .materializable()
            )
            digest = hashlib.sha256(
                "\n".join(
                    sorted(f"{o.key}@{o.etag}" for _, objs in new_by_dataset.values() for o in objs)
                ).encode()
            ).hexdigest()[:16]
            yield dg.RunRequest(
                run_key=f"landing-{digest}",
                asset_selection=list(selection.resolve(context.repository_def.asset_graph)),
                tags={
                    "analytics/trigger": "landing_files_sensor",
                    "analytics/new_files": str(sum(len(objs) for _, objs in new_by_dataset.values())),
                    "analytics/datasets": ",".join(sorted(new_by_dataset)),
                },
            )
        context.update_cursor(next_cursor.serialize())

    return landing_files_sensor
