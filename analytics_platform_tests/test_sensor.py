"""The landing sensor against a real S3 API: listing pages, same-second arrivals, nothing twice."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import dagster as dg

from analytics_platform.landing.assets import ingest_landing_files
from analytics_platform.landing.cursor import FULL_LISTING_EVERY, LOOKBACK, LandingCursor
from analytics_platform.landing.objects import LandingObject, list_landing_objects
from analytics_platform.landing.resources import LandingZone, WarehouseResource, build_s3_resource
from analytics_platform.landing.sensor import build_landing_sensor

T0 = datetime(2026, 10, 1, 12, 0, 0, tzinfo=timezone.utc)
NOW = T0 + timedelta(seconds=10)


def landing_object(key: str, at: datetime, etag: str = "e1") -> LandingObject:
    return LandingObject(bucket="b", key=key, etag=etag, size=1, last_modified=at)


def full(cursor: LandingCursor, listed: list[LandingObject]):
    return cursor.advance(listed, listed_after=None, now=NOW)


def test_cursor_catches_same_second_and_late_visible_objects():
    cursor = LandingCursor()
    first = [landing_object("a", T0), landing_object("b", T0)]
    new, cursor = full(cursor, first)
    assert {o.key for o in new} == {"a", "b"}

    # "c" lands in the same second as the cursor; "d" became visible late with an older timestamp.
    second = first + [landing_object("c", T0), landing_object("d", T0 - timedelta(minutes=3))]
    new, cursor = full(cursor, second)
    assert {o.key for o in new} == {"c", "d"}

    # Nothing new: nothing reported, even though everything is still inside the look-back window.
    new, cursor = full(cursor, second)
    assert new == []

    # Re-uploading a key with new content is a new file.
    third = second + [landing_object("a", T0 + timedelta(seconds=5), etag="e2")]
    new, cursor = full(LandingCursor.parse(cursor.serialize()), third)
    assert [(o.key, o.etag) for o in new] == [("a", "e2")]

    # Objects older than the window leave the cursor, which stays small.
    later = third + [landing_object("z", T0 + LOOKBACK + timedelta(minutes=1))]
    _, cursor = full(cursor, later)
    assert {key for key, _ in cursor.recent} == {"z"}


def test_cursor_lists_only_after_the_greatest_key_between_full_listings():
    _, cursor = full(LandingCursor(), [landing_object("2026-10-01/a", T0)])
    soon = NOW + timedelta(seconds=30)
    assert cursor.list_after(soon) == "2026-10-01/a"

    # A key after the greatest one is new at once; one sorting before it waits for a full listing.
    after = [landing_object("2026-10-02/b", T0 + timedelta(seconds=30))]
    new, cursor = cursor.advance(after, listed_after="2026-10-01/a", now=soon)
    assert [o.key for o in new] == ["2026-10-02/b"]
    assert cursor.list_after(soon) == "2026-10-02/b"

    everything = [
        landing_object("2026-10-01/a", T0),
        landing_object("2026-10-01/late", T0 + timedelta(seconds=40)),
        *after,
    ]
    sweep_time = NOW + FULL_LISTING_EVERY
    assert cursor.list_after(sweep_time) is None
    new, cursor = cursor.advance(everything, listed_after=None, now=sweep_time)
    assert [o.key for o in new] == ["2026-10-01/late"]
    new, _ = cursor.advance(everything, listed_after=None, now=sweep_time)
    assert new == []


def put_objects(s3_client, bucket: str, keys: list[str]) -> None:
    for key in keys:
        s3_client.put_object(Bucket=bucket, Key=key, Body=b"order_id\n")


def test_sensor_sees_every_object_once_across_listing_pages_and_same_second_arrivals(settings, s3_client):
    bucket = settings.landing_bucket
    put_objects(s3_client, bucket, [f"landing/orders/2026-10-01/part{i:05d}.csv" for i in range(1_050)])

    sensor = build_landing_sensor(dg.DefaultSensorStatus.STOPPED)
    resources = {
        "s3": build_s3_resource(settings),
        "landing_zone": LandingZone(bucket=bucket, prefix=settings.landing_prefix),
        "warehouse": WarehouseResource(target="local", duckdb_path=str(settings.duckdb_path)),
    }
    definitions = dg.Definitions(assets=[ingest_landing_files], sensors=[sensor], resources=resources)

    def tick(cursor: str | None, full_listing: bool = False) -> tuple[int, str]:
        """Evaluate one tick; returns how many new files its run request announced."""
        if full_listing and cursor:  # as if FULL_LISTING_EVERY had passed
            cursor = replace(LandingCursor.parse(cursor), last_full_listing=None).serialize()
        context = dg.build_sensor_context(cursor=cursor, resources=resources, definitions=definitions)
        result = sensor.evaluate_tick(context)
        if not result.run_requests:
            return 0, result.cursor
        [request] = result.run_requests
        assert dg.AssetKey(["raw", "orders"]) in request.asset_selection
        return int(request.tags["analytics/new_files"]), result.cursor

    announced, cursor = tick(None)
    assert announced == 1_050  # two listing pages
    assert tick(cursor)[0] == 0
    assert tick(cursor, full_listing=True)[0] == 0

    # Land files in the very second the cursor stopped at, seen by a full listing (the case
    # `get_objects(since_last_modified=...)` misses): an anchor file moves the cursor to a fresh
    # second, three more follow at once. Retry in the rare case the clock ticks over.
    for attempt in range(5):
        time.sleep(1 - time.time() % 1 + 0.05)
        put_objects(s3_client, bucket, [f"landing/orders/2026-10-02/{attempt:02d}_anchor.csv"])
        announced, cursor = tick(cursor, full_listing=True)
        assert announced == 1
        high_water = LandingCursor.parse(cursor).high_water
        same_second = [f"landing/orders/2026-10-02/{attempt:02d}_same_second_{i}.csv" for i in range(3)]
        put_objects(s3_client, bucket, same_second)
        listed = {o.key: o for o in list_landing_objects(s3_client, bucket, settings.landing_prefix)}
        if all(listed[key].last_modified == high_water for key in same_second):
            break
        assert tick(cursor, full_listing=True)[0] == 3
    else:
        raise AssertionError("could not land files in the same second as the cursor")
    announced, cursor = tick(cursor, full_listing=True)
    assert announced == 3
    assert tick(cursor, full_listing=True)[0] == 0

    # Between full listings only keys after the greatest one are listed; an out-of-order key
    # (a late file in an old date folder) waits for the next full listing, then counts once.
    put_objects(s3_client, bucket, ["landing/orders/2026-09-30/late_in_old_folder.csv"])
    announced, cursor = tick(cursor)
    assert announced == 0
    announced, cursor = tick(cursor, full_listing=True)
    assert announced == 1
    put_objects(s3_client, bucket, ["landing/orders/2026-10-03/next_day.csv"])
    assert tick(cursor)[0] == 1


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
