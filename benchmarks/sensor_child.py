"""Times the project's landing sensor against the local S3 server, in its own process.

    python -m benchmarks.sensor_child --buckets B1,B2 --new N --repeat R

For each bucket (the landing zone resource pointed at it, everything else as configured):
1. one tick with no cursor (the bucket's old objects are all new to it): the cursor to start from;
2. N new objects PUT through the S3 API, spread over the four dataset folders of a new day;
3. R ticks, each from that same cursor, so each faces the same N new objects (the headline),
   and how many of them the tick reported;
4. R ticks from the cursor after the new objects: nothing new (an idle tick);
5. one tick from the same cursor made to look as if its last full listing were long ago (the
   sensor lists the whole bucket every few minutes, if the cursor has such a field);
6. the S3 side alone: single list requests, timed.

The sensor is `landing_files_sensor` of the code location (`analytics_platform.definitions`);
settings come from the environment.
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor

from benchmarks.common import emit_result, forced_full_listing, summarize


def measure(dg, sensor, instance, resources, defs, client, bucket, prefix, args) -> dict:
    def tick(cursor: str | None):
        context = dg.build_sensor_context(
            instance=instance, cursor=cursor, resources=resources, definitions=defs
        )
        started = time.perf_counter()
        result = sensor.evaluate_tick(context)
        seconds = time.perf_counter() - started
        new_files = sum(int(r.tags.get("analytics/new_files", 0)) for r in result.run_requests or [])
        return seconds, new_files, result.cursor

    first_seconds, first_new, start_cursor = tick(None)

    datasets = ("orders", "products", "users", "reviews")

    def put(i: int) -> None:
        dataset = datasets[i % len(datasets)]
        key = f"{prefix}{dataset}/2026-11-30/{dataset}_2026-11-30_new{i:05d}.csv"
        client.put_object(Bucket=bucket, Key=key, Body=b"id\n")

    put_started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(put, range(args.new)))
    put_seconds = time.perf_counter() - put_started

    def ticks(cursor: str | None) -> tuple[list[float], int | None, str | None]:
        seconds, seen, after = [], None, None
        for _ in range(args.repeat):
            elapsed, seen, after = tick(cursor)
            seconds.append(elapsed)
        return seconds, seen, after

    with_new, seen, after_cursor = ticks(start_cursor)
    idle, _, _ = ticks(after_cursor)
    # The periodic full listing costs a listing of the whole bucket: timed once.
    full_seconds, full_seen, _ = tick(forced_full_listing(start_cursor))

    # The S3 side alone: one list request (1,000 keys) as the tick makes it, after the greatest
    # key seen, and one from the start of the bucket. On S3 both cost about the same whatever
    # the bucket holds; the local S3 server sorts every key of the bucket for each request.
    greatest = json.loads(start_cursor).get("greatest_key") if start_cursor else None
    request_seconds = {}
    for name, options in (("after_greatest_key", {"StartAfter": greatest} if greatest else None), ("from_start", {})):
        if options is None:
            continue
        samples = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            client.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1000, **options)
            samples.append(time.perf_counter() - started)
        request_seconds[name] = summarize(samples)
    return {
        "first_tick_seconds": round(first_seconds, 4),
        "first_tick_new_files": first_new,
        "put_new_per_second": round(args.new / put_seconds, 1),
        "tick_seconds": summarize(with_new),
        "new_files": seen,
        "full_listing_tick_seconds": summarize([full_seconds]),
        "full_listing_tick_new_files": full_seen,
        "idle_tick_seconds": summarize(idle),
        "one_list_request_seconds": request_seconds,
        "cursor_bytes": len(after_cursor or ""),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--buckets", required=True)
    parser.add_argument("--new", type=int, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    import dagster as dg

    from analytics_platform.definitions import defs
    from analytics_platform.landing.resources import LandingZone

    sensor = defs.get_sensor_def("landing_files_sensor")
    instance = dg.DagsterInstance.ephemeral()
    prefix = defs.resources["landing_zone"].prefix
    client = defs.resources["s3"].get_client()
    results = {}
    for bucket in args.buckets.split(","):
        resources = {**defs.resources, "landing_zone": LandingZone(bucket=bucket, prefix=prefix)}
        results[bucket] = measure(dg, sensor, instance, resources, defs, client, bucket, prefix, args)
    emit_result(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
