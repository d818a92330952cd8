"""Landing: the ingestion assets (one raw table per declared dataset), the sensor that starts
them when files land in S3, and the resources they share."""

from collections.abc import Sequence

import dagster as dg

from analytics_platform.defs.landing.assets import build_ingestion_assets
from analytics_platform.defs.landing.resources import (
    LandingZone,
    WarehouseResource,
    build_s3_resource,
)
from analytics_platform.defs.landing.sensor import build_landing_sensor
from analytics_platform.defs.landing.sqs_sensor import LandingQueue, build_queue_landing_sensor
from analytics_platform.lib.datasets import Dataset
from analytics_platform.settings import Settings


def landing_definitions(settings: Settings, datasets: Sequence[Dataset]) -> dg.Definitions:
    sensor_status = (
        dg.DefaultSensorStatus.RUNNING if settings.is_local else dg.DefaultSensorStatus.STOPPED
    )
    resources = {
        "s3": build_s3_resource(settings),
        "landing_zone": LandingZone.from_settings(settings),
        "warehouse": WarehouseResource.from_settings(settings),
    }
    if settings.landing_queue_url:  # queue mode: S3 event notifications, listing as reconciler
        sensor = build_queue_landing_sensor(datasets, sensor_status)
        resources["landing_queue"] = LandingQueue.from_settings(settings)
    else:
        sensor = build_landing_sensor(datasets, sensor_status)
    return dg.Definitions(
        assets=[build_ingestion_assets(datasets)],
        sensors=[sensor],
        resources=resources,
    )
