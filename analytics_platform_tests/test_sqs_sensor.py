"""The landing sensor in queue mode, against the local S3 server's real bucket notifications to a
real SQS queue: duplicates, out-of-order and lost messages, a file landing mid-tick, and each file
loaded exactly once by the real ingestion; a queue tick lists nothing, whatever the bucket holds."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import dagster as dg
import duckdb

from analytics_platform.defs.landing.assets import build_ingestion_assets
from analytics_platform.defs.landing.sensor import FILES_ANNOUNCED_TAG, cached_s3_client
from analytics_platform.defs.landing.sqs_sensor import (
    LandingQueue,
    QueueCursor,
    build_queue_landing_sensor,
)
from analytics_platform.lib.cursor import LandingCursor, file_digest
from analytics_platform.lib.objects import LandingObject, list_landing_objects
from analytics_platform.lib.warehouses.base import LEDGER_TABLE
from analytics_platform.local.s3_server import configure_local_landing_queue

from .helpers import dataset_named, declared_datasets, landing_resources

T0 = datetime(2026, 10, 1, tzinfo=timezone.utc)
VISIBILITY = 2  # seconds a received message stays hidden in these tests (60 in production)
ORDERS_HEADER = "order_id,created_at,user_id,product_id,quantity,unit_price,status\n"
USERS_HEADER = "user_id,name,email,country,created_at,updated_at\n"


def orders_csv(*order_ids: str) -> bytes:
    rows = "".join(f"{o},2026-10-01 10:00:00,U1,P1,1,1.00,placed\n" for o in order_ids)
    return (ORDERS_HEADER + rows).encode()


def users_csv(*user_ids: str) -> bytes:
    rows = "".join(
        f"{u},Name {u},{u}@example.com,DE,2026-10-01 09:00:00,2026-10-01 09:00:00\n" for u in user_ids
    )
    return (USERS_HEADER + rows).encode()


class QueueSensor:
    """The queue-mode sensor of one test's bucket and queue, ticked as the daemon does: each
    tick starts from the last *committed* cursor."""

    def __init__(self, settings, s3_client, queue_url: str, reconcile_every_ticks: int):
        self.settings = dataclasses.replace(settings, landing_queue_url=queue_url)
        datasets = declared_datasets()
        self.sensor = build_queue_landing_sensor(
            datasets,
            dg.DefaultSensorStatus.STOPPED,
            reconcile_every_ticks=reconcile_every_ticks,
            visibility_timeout=VISIBILITY,
            receive_wait_seconds=0,
        )
        self.resources = {
            **landing_resources(self.settings),
            "landing_queue": LandingQueue.from_settings(self.settings),
        }
        self.definitions = dg.Definitions(
            assets=[build_ingestion_assets(datasets)], sensors=[self.sensor], resources=self.resources
        )
        self.instance = dg.DagsterInstance.ephemeral()
        self.cursor: str | None = None
        # The clients the sensor itself uses (cached per configuration), to count its calls.
        self.sqs = self.resources["landing_queue"].get_client()
        self.sensor_s3 = cached_s3_client(self.resources["landing_queue"].s3)
        self.s3 = s3_client  # the test's own

    def tick(self, commit: bool = True) -> tuple[list[dg.RunRequest], set[str]]:
        """One tick: its run requests and the digests of the files it announced. `commit=False`:
        the tick fails after evaluating (its cursor is never stored)."""
        with dg.build_sensor_context(
            cursor=self.cursor,
            # What the daemon gives a sensor: the resources it requires, and only those.
            resources={key: self.resources[key] for key in self.sensor.required_resource_keys},
            definitions=self.definitions,
            instance=self.instance,
        ) as context:  # a context manager: the queue resource nests the S3 one
            result = self.sensor.evaluate_tick(context)
        before = set(QueueCursor.parse(self.cursor).listing.remembered)
        announced = set(QueueCursor.parse(result.cursor).listing.remembered) - before
        if commit:
            self.cursor = result.cursor
        return list(result.run_requests or []), announced

    def queue_depth(self) -> int:
        """Messages in the queue, visible or in flight (not deleted)."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.settings.landing_queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())

    def listing(self, prefix: str | None = None) -> dict[str, LandingObject]:
        return {
            o.key: o
            for o in list_landing_objects(
                self.s3, self.settings.landing_bucket, prefix or self.settings.landing_prefix
            )
        }

    def digests(self, *keys: str) -> set[str]:
        listing = self.listing(os.path.commonprefix(keys))
        return {file_digest(listing[key]) for key in keys}


def new_queue(settings) -> str:
    return configure_local_landing_queue(
        settings.s3_endpoint_url,
        settings.landing_bucket,
        settings.landing_prefix,
        region=settings.aws_region,
        queue_name=f"events-{settings.landing_bucket}",
    )


class CallCounter:
    """Counts the API calls a boto3 client makes, by operation (botocore's before-call event)."""

    def __init__(self, *clients):
        self.calls: dict[str, int] = {}
        self.clients = clients
        for client in clients:
            client.meta.events.register("before-call", self, unique_id=f"count-{id(self)}")

    def __call__(self, model, **_):
        self.calls[model.name] = self.calls.get(model.name, 0) + 1

    def reset(self) -> dict[str, int]:
        calls, self.calls = self.calls, {}
        return calls

    def close(self) -> None:
        for client in self.clients:
            client.meta.events.unregister("before-call", unique_id=f"count-{id(self)}")


def ingest(sensor: QueueSensor, run_requests: list[dg.RunRequest]) -> None:
    """Run the ingestion part of each run request through the real loader, as the runs would."""
    for request in run_requests:
        raw = [key for key in request.asset_selection if key.path[0] == "raw"]
        assert dg.materialize(
            [build_ingestion_assets(declared_datasets())], resources=landing_resources(sensor.settings),
            selection=raw, instance=sensor.instance,
        ).success


def assert_loaded_exactly_once(sensor: QueueSensor, datasets: tuple[str, ...]) -> None:
    """Every landed file of `datasets` (its current version) is in the ledger once, with as many
    rows as the file has data lines; nothing else is."""
    expected = {}
    for key, landing_object in sensor.listing().items():
        if key.split("/")[2] in datasets:
            body = sensor.s3.get_object(Bucket=sensor.settings.landing_bucket, Key=key)["Body"].read()
            expected[(key, landing_object.etag)] = len(body.decode().strip().splitlines()) - 1
    with duckdb.connect(str(sensor.settings.duckdb_path), read_only=True) as con:
        ledger = con.execute(
            f"SELECT s3_key, etag, rows FROM {LEDGER_TABLE} WHERE superseded_at IS NULL"
        ).fetchall()
        raw_rows = dict(
            con.execute(
                " UNION ALL ".join(
                    f"SELECT _source_key, count(*) FROM {dataset_named(d).raw_table} GROUP BY 1"
                    for d in datasets
                )
            ).fetchall()
        )
    assert sorted(ledger) == sorted((k, e, rows) for (k, e), rows in expected.items())
    assert raw_rows == {key: rows for (key, _), rows in expected.items()}


def put(sensor: QueueSensor, key: str, body: bytes) -> None:
    sensor.s3.put_object(Bucket=sensor.settings.landing_bucket, Key=key, Body=body)


def test_duplicate_and_out_of_order_messages_announce_each_file_once_and_load_it_once(
    settings, s3_client
):
    sensor = QueueSensor(settings, s3_client, new_queue(settings), reconcile_every_ticks=1_000)
    counter = CallCounter(sensor.sensor_s3)
    try:
        # The first tick reconciles (empty bucket) and deletes the s3:TestEvent the
        # configuration sent: it reports no file.
        assert sensor.tick() == ([], set())
        assert sensor.queue_depth() == 0

        orders_a = "landing/ecommerce/orders/2026-10-01/a.csv"
        users_b = "landing/ecommerce/users/2026-10-01/b c+d=é.csv"  # URL-encoded in the message
        unknown = "landing/ecommerce/unknown/2026-10-01/stray.csv"
        put(sensor, orders_a, orders_csv("ORD-1"))
        old_version = sensor.digests(orders_a)
        put(sensor, orders_a, orders_csv("ORD-1", "ORD-2"))  # overwritten: a new version
        put(sensor, users_b, users_csv("U1", "U2", "U3"))
        put(sensor, unknown, b"x\n1\n")
        # S3 delivers at least once and in no particular order: every message again, reversed,
        # and one for a key outside landing/ (a notification without the prefix filter).
        queue_url = sensor.settings.landing_queue_url
        delivered = sensor.sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
        )["Messages"]
        assert len(delivered) == 4
        outside = json.loads(delivered[0]["Body"])
        outside["Records"][0]["s3"]["object"]["key"] = "exports%2Freport.csv"
        for body in [m["Body"] for m in reversed(delivered)] + [json.dumps(outside)]:
            sensor.sqs.send_message(QueueUrl=queue_url, MessageBody=body)
        counter.reset()

        # A tick that fails before Dagster stores its cursor deletes no message...
        failed_requests, _ = sensor.tick(commit=False)
        assert sensor.queue_depth() == 9
        time.sleep(VISIBILITY + 0.2)
        # ...so the next tick announces the same files, under the same run key (Dagster launches
        # one run per key): both versions of a.csv, b c+d=é.csv, and the two keys no dataset owns.
        [request], announced = sensor.tick()
        assert request.run_key == failed_requests[0].run_key
        outside_file = LandingObject("", "exports/report.csv", _etag(delivered[0]), 0, T0)
        assert announced == old_version | sensor.digests(orders_a, users_b, unknown) | {
            file_digest(outside_file)
        }
        assert request.tags[FILES_ANNOUNCED_TAG] == "3"  # the files of declared datasets
        assert request.tags["analytics/datasets"] == "ecommerce.orders,ecommerce.users"
        assert counter.reset() == {}  # learned from the queue: no listing, no S3 call at all
        assert sensor.queue_depth() == 9  # still not deleted: that tick's cursor was not stored

        # Once a committed cursor covers them, the next tick to receive them deletes them.
        time.sleep(VISIBILITY + 0.2)
        assert sensor.tick() == ([], set())
        assert sensor.queue_depth() == 0

        ingest(sensor, [request])
        assert_loaded_exactly_once(sensor, ("orders", "users"))
        # A late duplicate after the load: no new run; the ledger would load nothing anyway.
        sensor.sqs.send_message(QueueUrl=queue_url, MessageBody=delivered[1]["Body"])
        assert sensor.tick() == ([], set())
        assert sensor.queue_depth() == 0
    finally:
        counter.close()


def _etag(message: dict) -> str:
    return json.loads(message["Body"])["Records"][0]["s3"]["object"]["eTag"]


def test_a_file_landed_mid_tick_and_a_lost_message_are_each_loaded_once(settings, s3_client):
    # Ticks 0, 3, 6, ... reconcile (a listing step); the others only read the queue.
    sensor = QueueSensor(settings, s3_client, new_queue(settings), reconcile_every_ticks=3)
    assert sensor.tick() == ([], set())  # tick 0 reconciles the empty bucket
    first = "landing/ecommerce/orders/2026-10-02/first.csv"
    during = "landing/ecommerce/orders/2026-10-02/during.csv"
    put(sensor, first, orders_csv("ORD-10"))

    # A file lands while tick 1 drains the queue (right after its first ReceiveMessage).
    def land_during_tick(**_):
        sensor.sqs.meta.events.unregister("after-call.sqs.ReceiveMessage", unique_id="mid")
        put(sensor, during, orders_csv("ORD-11", "ORD-12"))

    sensor.sqs.meta.events.register("after-call.sqs.ReceiveMessage", land_during_tick, unique_id="mid")
    run_requests, announced = [], []
    for _ in range(3):  # ticks 1, 2 (queue) and 3 (reconciling: lists both files again)
        requests, files = sensor.tick()
        run_requests += requests
        announced.append(files)
    # Whichever tick received its message, each file is announced once.
    assert sorted(len(files) for files in announced) == [0, 0, 2] or sorted(
        len(files) for files in announced
    ) == [0, 1, 1]
    assert set().union(*announced) == sensor.digests(first, during)
    time.sleep(VISIBILITY + 0.1)
    assert sensor.tick() == ([], set())  # tick 4 receives their messages again: deletes them
    assert sensor.queue_depth() == 0

    # A message lost (retention, a dead-letter queue): a late file in an old date folder, which
    # sorts before the folder's greatest key, so only the reconciling listing's sweep sees it.
    lost = "landing/ecommerce/orders/2026-09-30/lost.csv"
    put(sensor, lost, orders_csv("ORD-20", "ORD-21", "ORD-22"))
    [message] = sensor.sqs.receive_message(QueueUrl=sensor.settings.landing_queue_url)["Messages"]
    sensor.sqs.delete_message(
        QueueUrl=sensor.settings.landing_queue_url, ReceiptHandle=message["ReceiptHandle"]
    )
    announced = []
    for _ in range(3):  # ticks 5 (queue), 6 (reconciling), 7 (queue)
        requests, files = sensor.tick()
        run_requests += requests
        announced.append(files)
    assert announced == [set(), sensor.digests(lost), set()]
    assert sensor.queue_depth() == 0

    ingest(sensor, run_requests)
    assert_loaded_exactly_once(sensor, ("orders",))


def test_a_queue_tick_costs_requests_per_new_file_not_per_object_in_the_bucket(settings, s3_client):
    bucket = settings.landing_bucket
    already = [f"landing/ecommerce/orders/2026-09-01/part{i:05d}.csv" for i in range(2_000)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda key: s3_client.put_object(Bucket=bucket, Key=key, Body=b"x"), already))
    sensor = QueueSensor(settings, s3_client, new_queue(settings), reconcile_every_ticks=1_000)
    counter = CallCounter(sensor.sensor_s3, sensor.sqs)
    try:
        # The first tick reconciles: one listing step finds the 2,000 files landed before the
        # notifications were configured (two pages of their folder, one per other folder, one
        # sweep page).
        requests, announced = sensor.tick()
        assert len(announced) == 2_000 and requests[0].tags[FILES_ANNOUNCED_TAG] == "2000"
        calls = counter.reset()
        assert calls["ListObjectsV2"] == len(declared_datasets()) + 2, calls

        for round_, new_files in enumerate((5, 50)):
            keys = [f"landing/ecommerce/users/2026-10-01/u{round_}-{i}.csv" for i in range(new_files)]
            for key in keys:
                put(sensor, key, users_csv("U1"))
            counter.reset()
            [request], announced = sensor.tick()
            assert announced == sensor.digests(*keys)
            assert request.tags[FILES_ANNOUNCED_TAG] == str(new_files)
            # No S3 call at all; ReceiveMessage calls grow with the new files only (up to 10
            # messages each, plus the call that finds the queue empty); the first round also
            # deletes the s3:TestEvent.
            calls = counter.reset()
            assert set(calls) <= {"ReceiveMessage", "DeleteMessageBatch"}, calls
            assert calls["ReceiveMessage"] <= new_files + 1, calls
            assert calls.get("DeleteMessageBatch", 0) <= 1, calls
            time.sleep(VISIBILITY + 0.1)
            assert sensor.tick() == ([], set())
            # The tick that receives them again deletes them, 10 per DeleteMessageBatch.
            calls = counter.reset()
            assert set(calls) == {"ReceiveMessage", "DeleteMessageBatch"}, calls
            assert calls["ReceiveMessage"] <= new_files + 1, calls
            assert calls["DeleteMessageBatch"] == -(-new_files // 10), calls
            assert sensor.queue_depth() == 0
    finally:
        counter.close()
    assert len(sensor.listing()) == 2_055


def test_the_queue_url_setting_switches_the_landing_sensor_to_queue_mode(settings):
    from analytics_platform.defs.landing import landing_definitions

    listing = landing_definitions(settings, declared_datasets())
    queued = landing_definitions(
        dataclasses.replace(settings, landing_queue_url="http://127.0.0.1:1/123456789012/q"),
        declared_datasets(),
    )
    [listing_sensor], [queue_sensor] = listing.sensors, queued.sensors
    # One sensor either way, same name and target job: the UI, run keys and cursor carry over.
    assert listing_sensor.name == queue_sensor.name == "landing_files_sensor"
    assert listing_sensor.job_name == queue_sensor.job_name == "ingest_and_build"
    assert listing_sensor.required_resource_keys == {"s3", "landing_zone"}
    assert queue_sensor.required_resource_keys == {"landing_zone", "landing_queue"}
    assert "landing_queue" in queued.resources and "landing_queue" not in listing.resources
    # Switching mode keeps the listing sensor's cursor; the first queue tick reconciles.
    listing_cursor = LandingCursor(folder_after={"landing/ecommerce/orders/": "landing/x"})
    switched = QueueCursor.parse(listing_cursor.serialize())
    assert switched == QueueCursor(listing_cursor, ticks_since_reconcile=None)
    assert QueueCursor.parse(switched.serialize()) == QueueCursor(listing_cursor, 0)
