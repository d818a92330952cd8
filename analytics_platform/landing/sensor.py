"""The sensor that starts ingestion, and everything downstream of it, when files land in S3.

How it decides what is new: see `analytics_platform.landing.cursor`.
"""

import hashlib
from datetime import datetime, timezone

import dagster as dg
from dagster_aws.s3 import S3Resource

from analytics_platform.landing.cursor import LandingCursor
from analytics_platform.landing.datasets import DATASETS, dataset_for_key
from analytics_platform.landing.objects import list_landing_objects
from analytics_platform.landing.resources import LandingZone


def build_landing_sensor(default_status: dg.DefaultSensorStatus) -> dg.SensorDefinition:
    raw_keys = [dataset.asset_key for dataset in DATASETS]

    @dg.sensor(
        name="landing_files_sensor",
        description="Starts ingestion, and the dbt models downstream of it, when files land in S3.",
        target=dg.AssetSelection.assets(*raw_keys).downstream().materializable(),
        minimum_interval_seconds=30,
        default_status=default_status,
    )
    def landing_files_sensor(context: dg.SensorEvaluationContext, s3: S3Resource, landing_zone: LandingZone):
        cursor = LandingCursor.parse(context.cursor)
        now = datetime.now(timezone.utc)
        start_after = cursor.list_after(now)
        listed = list_landing_objects(
            s3.get_client(), landing_zone.bucket, landing_zone.prefix, start_after=start_after
        )
        new, next_cursor = cursor.advance(listed, listed_after=start_after, now=now)

        datasets = {}
        for landing_object in new:
            dataset = dataset_for_key(landing_object.key, landing_zone.prefix)
            if dataset is None:
                context.log.warning(
                    f"s3://{landing_zone.bucket}/{landing_object.key} is not under a known dataset "
                    f"folder ({', '.join(d.name for d in DATASETS)}): it will not be loaded"
                )
                continue
            datasets.setdefault(dataset.name, (dataset, []))[1].append(landing_object)

        if datasets:
            selection = dg.AssetSelection.assets(*(d.asset_key for d, _ in datasets.values())).downstream().materializable()
            digest = hashlib.sha256(
                "\n".join(sorted(f"{o.key}@{o.etag}" for _, objs in datasets.values() for o in objs)).encode()
            ).hexdigest()[:16]
            yield dg.RunRequest(
                run_key=f"landing-{digest}",
                asset_selection=list(selection.resolve(context.repository_def.asset_graph)),
                tags={
                    "analytics/trigger": "landing_files_sensor",
                    "analytics/new_files": str(sum(len(objs) for _, objs in datasets.values())),
                    "analytics/datasets": ",".join(sorted(datasets)),
                },
            )
        context.update_cursor(next_cursor.serialize())

    return landing_files_sensor
