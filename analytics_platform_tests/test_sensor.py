"""The landing sensor against a real S3 API: listing pages, same-second arrivals, nothing twice."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import dagster as dg

from analytics_platform.landing.assets import ingest_landing_files
from analytics_platform.landing.cursor import LOOKBACK, LandingCursor
from analytics_platform.landing.objects import LandingObject, list_landing_objects
from analytics_platform.landing.resources import LandingZone, WarehouseResource, build_s3_resource
from analytics_platform.landing.sensor import build_landing_sensor

T0 = datetime(2026, 10, 1, 12, 0, 0, tzinfo=timezone.utc)


def landing_object(key: str, at: datetime, etag: str = "e1") -> LandingObject:
    return LandingObject(bucket="b", key=key, etag=etag, size=1, last_modified=at)


def test_cursor_catches_same_second_and_late_visible_objects():
    cursor = LandingCursor()
    first = [landing_object("a", T0), landing_object("b", T0)]
    new, cursor = cursor.advance(first)
    assert {o.key for o in new} == {"a", "b"}

    # "c" lands in the same second as the cursor; "d" became visible late with an older timestamp.
    second = first + [landing_object("c", T0), landing_object("d", T0 - timedelta(minutes=3))]
    new, cursor = cursor.advance(second)
    assert {o.key for o in new} == {"c", "d"}

    # Nothing new: nothing reported, even though everything is still inside the look-back window.
    new, cursor = cursor.advance(second)
    assert new == []

    # Re-uploading a key with new content is a new file.
    third = second + [landing_object("a", T0 + timedelta(seconds=5), etag="e2")]
    new, cursor = LandingCursor.parse(cursor.serialize()).advance(third)
    assert [(o.key, o.etag) for o in new] == [("a", "e2")]

    # Objects older than the window leave the cursor, which stays small.
    later = third + [landing_object("z", T0 + LOOKBACK + timedelta(minutes=1))]
    _, cursor = cursor.advance(later)
    assert {key for key, _ in cursor.recent} == {"z"}


def put_objects(s3_client, bucket: str, keys: list[str]) -> None:
    for key in keys:
        s3_client.put_object(Bucket=bucket, Key=key, Body=b"order_id\n")


def test_sensor_sees_every_object_once_across_listing_pages_and_same_second_arrivals(settings, s3_client):
    bucket = settings.landing_bucket
    first_batch = [f"landing/orders/2026-10-01/part{i:05d}.csv" for i in range(1_050)]
    put_objects(s3_client, bucket, first_batch)

    sensor = build_landing_sensor(dg.DefaultSensorStatus.STOPPED)
    resources = {
        "s3": build_s3_resource(settings),
        "landing_zone": LandingZone(bucket=bucket, prefix=settings.landing_prefix),
        "warehouse": WarehouseResource(target="local", duckdb_path=str(settings.duckdb_path)),
    }
    definitions = dg.Definitions(assets=[ingest_landing_files], sensors=[sensor], resources=resources)

    def tick(cursor: str | None):
        context = dg.build_sensor_context(cursor=cursor, resources=resources, definitions=definitions)
        result = sensor.evaluate_tick(context)
        return result.run_requests, result.cursor

    requests, cursor = tick(None)
    [request] = requests
    assert request.tags["analytics/new_files"] == "1050"
    assert dg.AssetKey(["raw", "orders"]) in request.asset_selection

    requests, cursor = tick(cursor)
    assert requests == []

    # Land files in the very second the cursor stopped at: an anchor file moves the cursor to
    # a fresh second, three more follow at once. Retry in the rare case the clock ticks over.
    client = build_s3_resource(settings).get_client()
    for attempt in range(5):
        time.sleep(1 - time.time() % 1 + 0.05)
        put_objects(client, bucket, [f"landing/orders/2026-10-02/anchor{attempt}.csv"])
        requests, cursor = tick(cursor)
        assert requests[0].tags["analytics/new_files"] == "1"
        high_water = LandingCursor.parse(cursor).high_water
        same_second = [f"landing/orders/2026-10-02/late{attempt}_{i}.csv" for i in range(3)]
        put_objects(client, bucket, same_second)
        listed = {o.key: o for o in list_landing_objects(client, bucket, settings.landing_prefix)}
        if all(listed[key].last_modified == high_water for key in same_second):
            break
        requests, cursor = tick(cursor)
        assert requests[0].tags["analytics/new_files"] == "3"
    else:
        raise AssertionError("could not land files in the same second as the cursor")

    requests, cursor = tick(cursor)
    [request] = requests
    assert request.tags["analytics/new_files"] == "3"
    requests, cursor = tick(cursor)
    assert requests == []


def test_ingestion_run_started_by_the_sensor_loads_each_file_once(settings, s3_client):
    """Two overlapping triggers for the same files still load each file once (the ledger decides)."""
    bucket = settings.landing_bucket
    header = "order_id,created_at,user_id,product_id,quantity,unit_price,status\n"
    for i in range(3):
        s3_client.put_object(
            Bucket=bucket,
            Key=f"landing/orders/2026-10-01/p{i}.csv",
            Body=(header + f"ORD-{i},2026-10-01 10:00:00,U1,P1,1,1.00,placed\n").encode(),
        )
    resources = {
        "s3": build_s3_resource(settings),
        "landing_zone": LandingZone(bucket=bucket, prefix=settings.landing_prefix),
        "warehouse": WarehouseResource(target="local", duckdb_path=str(settings.duckdb_path)),
    }
    for _ in range(2):
        assert dg.materialize([ingest_landing_files], resources=resources, selection=[dg.AssetKey(["raw", "orders"])]).success
    import duckdb

    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        assert con.execute("SELECT order_id FROM raw.orders ORDER BY 1").fetchall() == [
            ("ORD-0",), ("ORD-1",), ("ORD-2",)
        ]
