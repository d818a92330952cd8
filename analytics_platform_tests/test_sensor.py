"""The landing sensor against a real S3 API: every dataset folder, late files, nothing twice."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import dagster as dg

from analytics_platform.defs.landing.assets import build_ingestion_assets
from analytics_platform.defs.landing.sensor import TARGET_JOB, build_landing_sensor
from analytics_platform.lib.cursor import LOOKBACK, LandingCursor
from analytics_platform.lib.objects import LandingObject, ListedSlice, list_landing_objects

from .helpers import dataset_named, declared_datasets, landing_resources

T0 = datetime(2026, 10, 1, 12, 0, 0, tzinfo=timezone.utc)
ORDERS, USERS = "landing/ecommerce/orders/", "landing/ecommerce/users/"


def landing_object(key: str, at: datetime, etag: str = "e1") -> LandingObject:
    return LandingObject(bucket="b", key=key, etag=etag, size=1, last_modified=at)


def listed(*objects: LandingObject, complete: bool = True) -> ListedSlice:
    return ListedSlice(list(objects), objects[-1].key if objects else None, complete)


def keys(objects: list[LandingObject]) -> list[str]:
    return sorted(o.key for o in objects)


def test_folder_listings_announce_new_keys_in_every_folder_and_the_sweep_finds_late_ones():
    first = [
        landing_object(f"{ORDERS}2026-10-01/a", T0),
        landing_object(f"{USERS}2026-10-01/a", T0),
    ]
    new, cursor = LandingCursor().advance(
        {ORDERS: listed(first[0]), USERS: listed(first[1])}, listed(*first)
    )
    assert keys(new) == keys(first)
    assert cursor.folder_start(ORDERS) == f"{ORDERS}2026-10-01/a"
    assert cursor.sweep_after is None  # the sweep page reached the end: the next one starts a cycle

    # A new file in the folder that sorts first is seen at once (one greatest key for the bucket,
    # in users/, hid it), even though the sweep page that tick does not reach it.
    orders_b = landing_object(f"{ORDERS}2026-10-02/b", T0 + timedelta(seconds=30))
    new, cursor = cursor.advance(
        {ORDERS: listed(orders_b), USERS: listed()}, listed(first[0], complete=False)
    )
    assert keys(new) == [orders_b.key]
    assert cursor.sweep_after == first[0].key

    # A late file in an old date folder sorts before the greatest key: only the sweep can see it,
    # even with the same LastModified as the newest file (the same-second case).
    late = landing_object(f"{ORDERS}2026-10-01/late", orders_b.last_modified)
    new, cursor = cursor.advance(
        {ORDERS: listed(), USERS: listed()}, listed(late, orders_b, first[1])
    )
    assert keys(new) == [late.key]
    # A sweep listing a key the folder listing already announced, or a key after the greatest
    # key (the folder listing's to announce next tick), announces nothing.
    orders_c = landing_object(f"{ORDERS}2026-10-03/c", T0 + timedelta(minutes=1))
    new, cursor = cursor.advance(
        {ORDERS: listed(), USERS: listed()}, listed(late, orders_b, orders_c)
    )
    assert new == []
    new, cursor = cursor.advance({ORDERS: listed(orders_c), USERS: listed()}, listed(orders_c))
    assert keys(new) == [orders_c.key]

    # Re-uploading a key with new content is a new file; the cursor survives a round trip.
    again = landing_object(first[0].key, T0 + timedelta(minutes=2), etag="e2")
    new, cursor = LandingCursor.parse(cursor.serialize()).advance(
        {ORDERS: listed(), USERS: listed()}, listed(again, orders_b)
    )
    assert [(o.key, o.etag) for o in new] == [(again.key, "e2")]


def test_sweep_horizon_is_set_by_the_previous_cycle_so_long_cycles_miss_nothing():
    def at(hours: float) -> datetime:
        return T0 + timedelta(hours=hours)

    def orders(*objects: LandingObject) -> dict[str, ListedSlice]:
        return {ORDERS: listed(*objects), USERS: listed()}

    b, z1, z2, z3 = (
        landing_object(f"{ORDERS}{name}", at(h))
        for name, h in (("b", 0), ("z1", 1), ("z2", 2), ("z3", 3))
    )
    _, cursor = LandingCursor().advance(orders(b), listed())  # a first cycle, one page long
    # A cycle far longer than LOOKBACK (three ticks an hour apart) while files keep landing. Just
    # after it has listed past "a...", a late file becomes visible there.
    _, cursor = cursor.advance(orders(z1), listed(b, complete=False))
    late = landing_object(f"{ORDERS}a-late", at(1) + timedelta(minutes=1))
    _, cursor = cursor.advance(orders(z2), listed(z1, complete=False))
    _, cursor = cursor.advance(orders(z3), listed(z2, z3))
    # The next cycle announces it, although it is far older than that cycle's start.
    new, cursor = cursor.advance(orders(), listed(late, b, z1, z2, z3))
    assert keys(new) == [late.key]
    assert cursor.sweep_horizon == at(1) - LOOKBACK
    # Files older than the horizon are forgotten: the cursor holds what landed lately.
    _, cursor = cursor.advance(orders(), listed())
    assert cursor.sweep_horizon == at(3) - LOOKBACK
    assert list(cursor.remembered.values()) == [z3.last_modified.timestamp()]


def test_cursor_of_the_previous_format_is_accepted():
    old = json.dumps(
        {
            "high_water": T0.isoformat(),
            "recent": [[f"{USERS}2026-10-01/a", "e1"]],
            "greatest_key": f"{USERS}2026-10-01/a",
            "last_full_listing": T0.isoformat(),
        }
    )
    cursor = LandingCursor.parse(old)
    assert cursor.folder_start(ORDERS) is None  # listed again from the start...
    everything = [
        landing_object(f"{ORDERS}2026-09-01/old", T0 - timedelta(days=30)),
        landing_object(f"{ORDERS}2026-10-01/new", T0 + timedelta(seconds=5)),
    ]
    seen = landing_object(f"{USERS}2026-10-01/a", T0)
    new, cursor = cursor.advance({ORDERS: listed(*everything), USERS: listed(seen)}, listed())
    # ...announcing only what the previous cursor had not: inside its window and not seen.
    assert keys(new) == [f"{ORDERS}2026-10-01/new"]
    assert cursor.catch_up_floor is None
    assert LandingCursor.parse(cursor.serialize()) == cursor


def test_cursor_is_compact_and_reads_its_plain_json_form():
    """The sensor page shows the cursor on every tick row: packed, not 16 hex digits a file."""
    files = [
        landing_object(f"{ORDERS}2026-10-01/{i:03}", T0 + timedelta(seconds=i % 7)) for i in range(82)
    ]
    _, cursor = LandingCursor().advance({ORDERS: listed(*files), USERS: listed()}, listed())
    compact = cursor.serialize()
    moments = ("high_water", "sweep_cycle_high_water", "sweep_horizon", "catch_up_floor")
    plain = json.dumps(  # the format of the previous release
        {
            **{name: (getattr(cursor, name) or None) and getattr(cursor, name).isoformat()
               for name in moments},
            "folder_after": dict(cursor.folder_after),
            "sweep_after": cursor.sweep_after,
            "remembered": dict(cursor.remembered),
        }
    )
    assert len(compact) < len(plain) / 2
    assert LandingCursor.parse(compact) == cursor
    assert LandingCursor.parse(plain) == cursor


def put_objects(s3_client, bucket: str, keys: list[str]) -> None:
    for key in keys:
        s3_client.put_object(Bucket=bucket, Key=key, Body=b"order_id\n")


def test_sensor_sees_every_object_once_in_every_folder_across_pages_and_late(settings, s3_client):
    bucket = settings.landing_bucket
    put_objects(
        s3_client, bucket, [f"landing/ecommerce/orders/2026-10-01/part{i:05d}.csv" for i in range(1_050)]
    )

    sensor = build_landing_sensor(declared_datasets(), dg.DefaultSensorStatus.STOPPED)
    resources = landing_resources(settings)
    definitions = dg.Definitions(
        assets=[build_ingestion_assets(declared_datasets())], sensors=[sensor], resources=resources
    )
    cursor: str | None = None
    instance = dg.DagsterInstance.ephemeral()

    def tick() -> int:
        """Evaluate one tick from the current cursor; how many new files its run request announced."""
        nonlocal cursor
        # A sensor always runs with an instance (it reads the last ingestion's deferred files).
        context = dg.build_sensor_context(
            cursor=cursor, resources=resources, definitions=definitions, instance=instance
        )
        result = sensor.evaluate_tick(context)
        cursor = result.cursor
        if not result.run_requests:
            return 0
        [request] = result.run_requests
        return int(request.tags["analytics/files_announced"])

    def ticks(count: int) -> list[int]:
        return [tick() for _ in range(count)]

    # The bucket listed as a sweep takes ceil(objects / 1,000) ticks: a bound for a late file.
    def sweep_cycle() -> int:
        return (
            len(list(list_landing_objects(s3_client, bucket, settings.landing_prefix))) // 1_000 + 1
        )

    assert tick() == 1_050  # two listing pages in one folder
    assert ticks(2 * sweep_cycle()) == [0] * (2 * sweep_cycle())

    # New files in every dataset folder, including those sorting before the last one, are
    # announced by the very next tick.
    fresh = [
        f"landing/ecommerce/{d}/2026-10-02/{d}_new.csv" for d in ("orders", "products", "reviews", "users")
    ]
    put_objects(s3_client, bucket, fresh)
    assert tick() == 4
    assert tick() == 0

    # Late files in old date folders sort before their folder's greatest key: the sweep
    # announces them within one cycle, once; also when they land in the very second the newest
    # file did (the case `get_objects(since_last_modified=...)` misses). Retry in the rare case
    # the clock ticks over between the two PUTs.
    for attempt in range(5):
        time.sleep(1 - time.time() % 1 + 0.05)
        anchor = f"landing/ecommerce/users/2026-10-03/{attempt:02d}_anchor.csv"
        late = [f"landing/ecommerce/orders/2026-09-30/{attempt:02d}_late_{i}.csv" for i in range(3)]
        put_objects(s3_client, bucket, [anchor, *late])
        announced = ticks(sweep_cycle() + 1)
        assert announced[0] >= 1  # the anchor, by the folder listing, at once
        assert sum(announced) == 4
        listing = {
            o.key: o for o in list_landing_objects(s3_client, bucket, settings.landing_prefix)
        }
        if all(listing[key].last_modified == listing[anchor].last_modified for key in late):
            break
    else:
        raise AssertionError("could not land files in the same second as the newest one")

    # A re-upload of an old key with new content is a new file; a file outside the dataset
    # folders is noticed (and warned about) but starts nothing.
    s3_client.put_object(
        Bucket=bucket, Key="landing/ecommerce/orders/2026-10-01/part00000.csv", Body=b"order_id\nX\n"
    )
    put_objects(s3_client, bucket, ["landing/ecommerce/unknown/2026-10-01/stray.csv"])
    assert sum(ticks(sweep_cycle() + 1)) == 1
    assert sum(ticks(2 * sweep_cycle() + 1)) == 0  # nothing twice, across cycles
    # Every file here landed within LOOKBACK, so all are remembered: a short digest each.
    assert len(cursor or "") < 1_100 * 40


def test_ingestion_run_started_by_the_sensor_loads_each_file_once(settings, s3_client):
    """Two overlapping triggers for the same files still load each file once (the ledger decides)."""
    bucket = settings.landing_bucket
    header = "order_id,created_at,user_id,product_id,quantity,unit_price,status\n"
    for i in range(3):
        s3_client.put_object(
            Bucket=bucket,
            Key=f"landing/ecommerce/orders/2026-10-01/p{i}.csv",
            Body=(header + f"ORD-{i},2026-10-01 10:00:00,U1,P1,1,1.00,placed\n").encode(),
        )
    resources = landing_resources(settings)
    for _ in range(2):
        assert dg.materialize(
            [build_ingestion_assets(declared_datasets())], resources=resources, selection=[dg.AssetKey(["raw", "ecommerce", "orders"])]
        ).success
    import duckdb

    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        assert con.execute("SELECT order_id FROM raw_ecommerce.orders ORDER BY 1").fetchall() == [
            ("ORD-0",),
            ("ORD-1",),
            ("ORD-2",),
        ]


def test_a_dataset_whose_last_run_deferred_files_is_retried_without_a_new_file(
    settings, s3_client, monkeypatch
):
    from analytics_platform.defs.landing import sensor as sensor_module

    datasets = declared_datasets()
    orders = dataset_named("orders")
    sensor = build_landing_sensor(datasets, dg.DefaultSensorStatus.STOPPED)
    resources = landing_resources(settings)
    definitions = dg.Definitions(
        assets=[build_ingestion_assets(datasets)], sensors=[sensor], resources=resources
    )
    with dg.instance_for_test() as instance:

        def tick(cursor=None):
            context = dg.build_sensor_context(
                cursor=cursor, resources=resources, definitions=definitions, instance=instance
            )
            return sensor.evaluate_tick(context)

        first = tick()  # empty bucket: nothing to announce, nothing to retry
        assert not first.run_requests
        instance.report_runless_asset_event(
            dg.AssetMaterialization(orders.asset_key, metadata={"files_deferred": 1})
        )
        # Not yet due: the retry waits RETRY_DEFERRED_AFTER after the run that deferred.
        assert not tick(first.cursor).run_requests
        monkeypatch.setattr(sensor_module, "RETRY_DEFERRED_AFTER", timedelta(0))
        [retry] = tick(first.cursor).run_requests
        assert retry.tags["analytics/retry_of_deferred_files"] == orders.qualified_name
        assert orders.asset_key in retry.asset_selection
        # A later load that deferred nothing ends the retries.
        instance.report_runless_asset_event(
            dg.AssetMaterialization(orders.asset_key, metadata={"files_deferred": 0})
        )
        assert not tick(first.cursor).run_requests


def test_a_landing_run_leaves_source_freshness_to_its_own_schedule(settings, s3_client, dbt_manifest):
    """The sensor's run request names its checks: Dagster would otherwise add every check of the
    selected assets, and a landing run would start `dbt source freshness` besides `dbt build`."""
    from analytics_platform.defs import build_definitions

    definitions = build_definitions(settings)
    sensor = definitions.resolve_sensor_def("landing_files_sensor")
    put_objects(s3_client, settings.landing_bucket, ["landing/ecommerce/orders/2026-10-01/a.csv"])
    context = dg.build_sensor_context(
        cursor=None, definitions=definitions, instance=dg.DagsterInstance.ephemeral(),
        resources=landing_resources(settings),
    )
    [request] = sensor.evaluate_tick(context).run_requests
    check_names = {key.name for key in request.asset_check_keys}
    assert dg.AssetKey(["raw", "ecommerce", "orders"]) in request.asset_selection
    assert "dbt_source_freshness" not in check_names
    # the dbt tests of what the run builds stay in it
    assert any(name.startswith("unique_silver_orders") for name in check_names), check_names


def test_the_first_files_of_one_dataset_build_on_a_fresh_warehouse(settings, s3_client, dbt_manifest):
    """Only TICKIT's sales have landed, nothing else ever ran: the sensor's run also builds the
    parents that were never materialized (the other TICKIT raw tables, created empty, and their
    bronze models), so it succeeds; the sales that reference events not landed yet are reported by
    the relationships checks (warn: every sale is an orphan), not by a failed run."""
    import duckdb

    from analytics_platform.defs import build_definitions
    from analytics_platform.local.sample_data import generate_landing_files, upload_landing_files

    [sales] = generate_landing_files(
        prefix=settings.landing_prefix, datasets=[dataset_named("sales", "tickit")]
    )
    upload_landing_files(s3_client, settings.landing_bucket, [sales])
    landed_sale_ids = {line.split("\t")[0] for line in sales.body.decode().splitlines()}

    definitions = build_definitions(settings)
    instance = dg.DagsterInstance.ephemeral()
    context = dg.build_sensor_context(
        cursor=None, definitions=definitions, instance=instance, resources=landing_resources(settings),
    )
    [request] = definitions.resolve_sensor_def("landing_files_sensor").evaluate_tick(context).run_requests
    assert dg.AssetKey(["raw", "tickit", "event"]) in request.asset_selection  # never materialized
    job = definitions.resolve_job_def(request.job_name or TARGET_JOB).get_subset(
        asset_selection=set(request.asset_selection), asset_check_selection=set(request.asset_check_keys)
    )
    result = job.execute_in_process(instance=instance, raise_on_error=False, tags=request.tags)

    assert result.success
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw_tickit.event").fetchone() == (0,)
        assert {row[0] for row in con.execute("SELECT CAST(salesid AS VARCHAR) FROM bronze.bronze_tickit_sales").fetchall()} == landed_sale_ids
    orphans = {e.check_name.split("__")[0]: e for e in result.get_asset_check_evaluations()
               if e.check_name.startswith("relationships_bronze_tickit_sales")}
    assert set(orphans) == {"relationships_bronze_tickit_sales_eventid", "relationships_bronze_tickit_sales_dateid"}
    for evaluation in orphans.values():
        assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
        assert evaluation.metadata["dagster_dbt/failed_row_count"].value == len(landed_sale_ids)
