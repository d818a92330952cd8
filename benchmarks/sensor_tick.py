"""#5 Sensor tick cost with many old objects in the landing bucket and 1,000 new ones.

The old objects are written straight into the in-process moto backend behind the local S3
server (100,000 PUTs over HTTP would take minutes at ~230 PUT/s), dated two days back so they
are outside the sensor's 15-minute look-back window, as old files would be. The 1,000 new ones
are PUT through the real S3 API. Every tick is timed in a separate process, against the real
server API, with the project's sensor; the same measurement at 10× fewer old objects shows
whether the cost depends on the old ones.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from benchmarks.common import Context, Figure, run_child, summarize, timed
from benchmarks.datasets import ensure_bucket, platform_env, s3_client

DATASETS = ("orders", "products", "users", "reviews")
GOAL_SECONDS = 1.0
INDEPENDENCE_LIMIT = 1.5  # tick(10x old objects) / tick(1x): O(old) would be ~10


def sizes(ctx: Context) -> tuple[list[int], int, int]:
    """(old-object counts, new objects, repetitions per measurement)."""
    if ctx.smoke:
        return [50, 500], 8, 1
    return [10_000, 100_000], 1_000, 5


def old_key(i: int) -> str:
    dataset = DATASETS[i % len(DATASETS)]
    day = datetime(2026, 1, 1) + timedelta(days=(i // 4) % 300)
    date = day.strftime("%Y-%m-%d")
    return f"landing/{dataset}/{date}/{dataset}_{date}_part{i:06d}.csv"


def populate_old_objects(bucket: str, count: int) -> None:
    """Put `count` small objects into the moto backend directly, LastModified spread over the
    300 days before two days ago (in key order, as they would have landed)."""
    from moto.backends import get_backend
    from moto.core import DEFAULT_ACCOUNT_ID

    backend = get_backend("s3")[DEFAULT_ACCOUNT_ID]["global"]
    two_days_ago = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=2)
    step = timedelta(days=300) / count
    body = b"id\n"
    for i in range(count):
        key = backend.put_object(bucket, old_key(i), body)
        key.last_modified = two_days_ago - (count - i) * step


def measure(ctx: Context, old_counts: list[int], new: int, repeat: int) -> dict[int, dict]:
    """Populate one bucket per old-object count; one child process measures them all."""
    client = s3_client(ctx.s3_endpoint)
    populate = {}
    for old in old_counts:
        ensure_bucket(client, f"bench-sensor-{old}")
        populate[old], _ = timed(lambda old=old: populate_old_objects(f"bench-sensor-{old}", old))
    folder = ctx.folder("sensor", fresh=True)
    env = platform_env(ctx, f"bench-sensor-{old_counts[0]}", folder / "warehouse.duckdb", folder / "dagster_home")
    buckets = ",".join(f"bench-sensor-{old}" for old in old_counts)
    _, payload = run_child(
        ["benchmarks.sensor_child", "--buckets", buckets, "--new", str(new), "--repeat", str(repeat)],
        env=env,
        log_path=ctx.work_dir / "logs" / "sensor-tick.log",
    )
    measured = {}
    for old in old_counts:
        result = payload[f"bench-sensor-{old}"]
        ctx.log(
            f"  {old:,} old: first tick {result['first_tick_seconds']:.2f} s; with {new:,} new: "
            f"tick {result['tick_seconds']['median']:.2f} s seeing {result['new_files']}, full-listing tick "
            f"{result['full_listing_tick_seconds']['median']:.2f} s seeing {result['full_listing_tick_new_files']}; "
            f"idle {result['idle_tick_seconds']['median']:.2f} s; one list request "
            f"{ {k: v['median'] for k, v in result['one_list_request_seconds'].items()} }"
        )
        measured[old] = {"old_objects": old, "new_objects": new, "populate_seconds": round(populate[old], 2), **result}
    return measured


def run(ctx: Context) -> list[Figure]:
    old_counts, new, repeat = sizes(ctx)
    measured = measure(ctx, old_counts, new, repeat)
    small, large = measured[old_counts[0]], measured[old_counts[-1]]
    headline = large["tick_seconds"]
    per_pair = [a / b for a, b in zip(large["tick_seconds"]["runs"], small["tick_seconds"]["runs"]) if b]
    scaling = summarize(per_pair, 3)
    common = {
        "by_old_objects": {
            str(old): {
                "tick_with_new_seconds": m["tick_seconds"],
                "new_files_seen_by_tick": m["new_files"],
                "full_listing_tick_seconds": m["full_listing_tick_seconds"],
                "new_files_seen_by_full_listing_tick": m["full_listing_tick_new_files"],
                "idle_tick_seconds": m["idle_tick_seconds"],
                "first_tick_seconds": m["first_tick_seconds"],
                "one_list_request_seconds": m["one_list_request_seconds"],
                "cursor_bytes": m["cursor_bytes"],
                "populate_seconds": m["populate_seconds"],
            }
            for old, m in measured.items()
        },
        "put_new_objects_per_second": large["put_new_per_second"],
    }
    return [
        Figure(
            id="sensor_tick",
            benchmark="sensor-tick",
            title=f"Sensor tick, {old_counts[-1]:,} old objects in the bucket + {new:,} new",
            unit="s",
            value=headline,
            goal=f"≤ {GOAL_SECONDS:g} s, reporting the {new:,} new files",
            goal_met=headline["median"] <= GOAL_SECONDS and large["new_files"] == new,
            notes=[] if large["new_files"] == new else [
                (
                    f"The tick reported {large['new_files']} of the {new:,} new files; the rest were "
                    "reported only by the periodic full-listing tick (see full_listing_tick_seconds)."
                )
            ],
            absolute={
                "new_files_seen": f"{large['new_files']} of {new}",
                "full_listing_tick_seconds": large["full_listing_tick_seconds"]["median"],
                "full_listing_tick_new_files": large["full_listing_tick_new_files"],
                "idle_tick_seconds": large["idle_tick_seconds"]["median"],
                "first_tick_seconds": large["first_tick_seconds"],
            },
            details=common,
            command="make bench BENCH_ARGS='--only sensor-tick'",
        ),
        Figure(
            id="sensor_tick_scaling",
            benchmark="sensor-tick",
            title=f"Sensor tick at {old_counts[-1]:,} vs {old_counts[0]:,} old objects (same {new:,} new)",
            unit="× (10× more old objects)",
            value=scaling,
            goal=f"independent of old objects (read as ≤ {INDEPENDENCE_LIMIT}×; O(old) gives ~10×)",
            goal_met=scaling["median"] <= INDEPENDENCE_LIMIT,
            absolute={
                f"tick_seconds_{old}_old": measured[old]["tick_seconds"]["median"]
                for old in old_counts
            },
            details=common,
            command="make bench BENCH_ARGS='--only sensor-tick'",
        ),
    ]
