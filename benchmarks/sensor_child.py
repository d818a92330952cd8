"""Times the project's landing sensor against the local S3 server, in its own process.

    python -m benchmarks.sensor_child --buckets B1,B2 --new N --late L --repeat R [--full-cycle-buckets B1]

For each bucket (the landing zone resource pointed at it, everything else as configured):
1. ticks with no cursor until one announces nothing: the sensor catching up with the bucket's
   old objects, a bounded slice per tick; its last cursor is the one to start from;
2. N new objects PUT through the S3 API, spread over the declared dataset folders of a new day;
3. R regular ticks, each from that same cursor, so each faces the same N new objects (the
   headline), and how many of them the tick announced;
4. R ticks from the cursor after the new objects: nothing new (an idle tick);
5. L late objects PUT into an old date folder (keys before their folder's greatest key), then R
   ticks from the idle cursor with its sweep moved to each kind of sweep page: the start of a
   cycle, the page holding the late files, the last page (the cycle wraps). The slowest is the
   worst sweep tick; the late-page tick must announce the L late files;
6. for the buckets in --full-cycle-buckets, the idle cursor ticked through one whole sweep cycle:
   every late file announced once, and how many ticks that took;
7. the S3 side alone: single list requests, timed.

Every tick also records its list requests (count, and the wall time during which at least one
was in flight): on the local S3 server one request costs time proportional to the whole bucket
(it sorts every key per request), where S3 does not; the rest of the tick is the sensor's own.

The sensor is `landing_files_sensor` of the code location (`analytics_platform.definitions`);
settings come from the environment.
"""

from __future__ import annotations

import argparse
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from benchmarks.common import emit_result, summarize
from benchmarks.datasets import dataset_folders

DATASETS = dataset_folders()  # e.g. ecommerce/orders/, from the declarations
LATE_FOLDER = f"{DATASETS[0]}2026-03-15"  # an old date folder: its keys sort before the greatest one
ORDERS_FOLDER = "ecommerce/orders/"  # the folder whose listing step 7 times


class RequestClock:
    """List requests made by any boto3 client in this process: count and time in flight."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.intervals: list[tuple[float, float]] = []

    def install(self) -> None:
        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        clock = self

        def timed_call(client, operation_name, api_params):
            if operation_name != "ListObjectsV2":
                return original(client, operation_name, api_params)
            started = time.perf_counter()
            try:
                return original(client, operation_name, api_params)
            finally:
                with clock.lock:
                    clock.intervals.append((started, time.perf_counter()))

        BaseClient._make_api_call = timed_call

    def take(self) -> tuple[int, float]:
        """(requests, seconds with at least one in flight) since the last call."""
        with self.lock:
            intervals, self.intervals = sorted(self.intervals), []
        busy, end = 0.0, float("-inf")
        for start, stop in intervals:
            if stop > end:
                busy += stop - max(start, end)
                end = stop
        return len(intervals), busy


def parse_cursor(cursor: str | None):
    """The sensor's cursor (compact: zlib + base64, see analytics_platform/lib/cursor.py)."""
    from analytics_platform.lib.cursor import LandingCursor

    return LandingCursor.parse(cursor)


def with_sweep_at(cursor: str, sweep_after: str | None) -> str:
    return replace(parse_cursor(cursor), sweep_after=sweep_after).serialize()


def measure(dg, sensor, instance, resources, defs, client, bucket, prefix, args, clock, full_cycle) -> dict:
    from analytics_platform.defs.landing.sensor import FILES_ANNOUNCED_TAG

    def tick(cursor: str | None) -> dict:
        context = dg.build_sensor_context(
            instance=instance, cursor=cursor, resources=resources, definitions=defs
        )
        clock.take()
        started = time.perf_counter()
        result = sensor.evaluate_tick(context)
        seconds = time.perf_counter() - started
        requests, waiting = clock.take()
        return {
            "seconds": seconds,
            "new_files": sum(int(r.tags.get(FILES_ANNOUNCED_TAG, 0)) for r in result.run_requests or []),
            "cursor": result.cursor,
            "list_requests": requests,
            "s3_wait_seconds": waiting,
        }

    def ticks(cursor: str | None) -> dict:
        runs = [tick(cursor) for _ in range(args.repeat)]
        return {
            "tick_seconds": summarize([r["seconds"] for r in runs]),
            "s3_wait_seconds": summarize([r["s3_wait_seconds"] for r in runs]),
            "own_seconds": summarize([r["seconds"] - r["s3_wait_seconds"] for r in runs]),
            "list_requests": runs[-1]["list_requests"],
            "new_files": runs[-1]["new_files"],
            "cursor": runs[-1]["cursor"],
        }

    # 1. Catching up with the old objects, a bounded slice per tick.
    catch_up, cursor = [], None
    while True:
        step = tick(cursor)
        catch_up.append(step)
        cursor = step["cursor"]
        if step["new_files"] == 0 or len(catch_up) >= 200:
            break
    start_cursor = cursor

    # 2. New objects in every dataset folder.
    def put(i: int) -> None:
        folder = DATASETS[i % len(DATASETS)]
        key = f"{prefix}{folder}2026-11-30/new{i:05d}.csv"
        client.put_object(Bucket=bucket, Key=key, Body=b"id\n")

    put_started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(put, range(args.new)))
    put_seconds = time.perf_counter() - put_started

    # 3-4. Regular and idle ticks.
    regular = ticks(start_cursor)
    idle = ticks(regular["cursor"])
    idle_cursor = idle["cursor"]

    # 5. Late files, and each kind of sweep page.
    late_keys = [f"{prefix}{LATE_FOLDER}/late_{i:03d}.csv" for i in range(args.late)]
    for key in late_keys:
        client.put_object(Bucket=bucket, Key=key, Body=b"id\n")
    positions = {
        "cycle_start": None,
        "late_files_page": late_keys[0][:-1] if late_keys else None,
        "last_page": f"{prefix}{DATASETS[-1]}2026-11-30/",
    }
    sweep = {}
    for name, sweep_after in positions.items():
        measured = ticks(with_sweep_at(idle_cursor, sweep_after))
        sweep[name] = {k: v for k, v in measured.items() if k != "cursor"}
    worst_name = max(sweep, key=lambda n: sweep[n]["tick_seconds"]["median"])

    # 6. One whole sweep cycle from the idle cursor: every late file once.
    cycle = None
    if full_cycle:
        cursor, announced, seconds = with_sweep_at(idle_cursor, None), [], []
        while True:
            step = tick(cursor)
            cursor = step["cursor"]
            announced.append(step["new_files"])
            seconds.append(step["seconds"])
            if parse_cursor(cursor).sweep_after is None or len(announced) >= 1_000:
                break
        cycle = {
            "ticks": len(announced),
            "late_files_announced": sum(announced),
            "tick_seconds": summarize(seconds),
        }

    # 7. The S3 side alone: one list request as a folder listing makes it (after the folder's
    # greatest key: no keys) and one sweep page (1,000 keys of the whole prefix).
    folder_after = parse_cursor(idle_cursor).folder_after
    orders_prefix = f"{prefix}{ORDERS_FOLDER}"
    request_seconds = {}
    for name, options in (
        ("folder_after_greatest_key", {"Prefix": orders_prefix, "StartAfter": folder_after.get(orders_prefix, "")}),
        ("sweep_page_from_start", {"Prefix": prefix}),
    ):
        samples = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            client.list_objects_v2(Bucket=bucket, MaxKeys=1000, **options)
            samples.append(time.perf_counter() - started)
        request_seconds[name] = summarize(samples)
    clock.take()

    return {
        "catch_up_ticks": len(catch_up),
        "catch_up_new_files": sum(t["new_files"] for t in catch_up),
        "catch_up_tick_seconds": summarize([t["seconds"] for t in catch_up]),
        "catch_up_list_requests_per_tick": max(t["list_requests"] for t in catch_up),
        "put_new_per_second": round(args.new / put_seconds, 1),
        "tick": {k: v for k, v in regular.items() if k != "cursor"},
        "idle": {k: v for k, v in idle.items() if k != "cursor"},
        "sweep": sweep,
        "worst_sweep_page": worst_name,
        "full_sweep_cycle": cycle,
        "late_files": len(late_keys),
        "one_list_request_seconds": request_seconds,
        "cursor_bytes": len(regular["cursor"] or ""),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--buckets", required=True)
    parser.add_argument("--new", type=int, required=True)
    parser.add_argument("--late", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--full-cycle-buckets", default="")
    args = parser.parse_args(argv)

    import dagster as dg

    from analytics_platform.definitions import defs
    from analytics_platform.defs.landing.resources import LandingZone

    clock = RequestClock()
    clock.install()
    sensor = defs.get_sensor_def("landing_files_sensor")
    instance = dg.DagsterInstance.ephemeral()
    prefix = defs.resources["landing_zone"].prefix
    client = defs.resources["s3"].get_client()
    full_cycle = set(filter(None, args.full_cycle_buckets.split(",")))
    results = {}
    for bucket in args.buckets.split(","):
        resources = {**defs.resources, "landing_zone": LandingZone(bucket=bucket, prefix=prefix)}
        results[bucket] = measure(
            dg, sensor, instance, resources, defs, client, bucket, prefix, args, clock, bucket in full_cycle
        )
    emit_result(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
