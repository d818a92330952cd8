"""#5 Sensor tick cost with many old objects in the landing bucket and 1,000 new ones.

The old objects are written straight into the in-process moto backend behind the local S3
server (100,000 PUTs over HTTP would take minutes at ~230 PUT/s), dated two days back or more,
as old files would be. The 1,000 new ones are PUT through the real S3 API, spread evenly over
the declared dataset folders (landing/<domain>/<dataset>/), so a tick that lists only after one
greatest key for the whole bucket misses all but the last folder's. Every tick is timed in a separate process, against the real server API, with the
project's sensor: the regular tick (which must announce all 1,000), an idle tick, and the sweep
ticks (the sensor's bounded replacement for a full listing) at their most expensive pages, one of
which holds late files written into an old date folder. The same measurement at 10× fewer old
objects shows whether the cost depends on the old ones."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from analytics_platform.local.sample_data.files import ensure_bucket
from benchmarks.common import Context, Figure, ratios, run_child, summarize, timed
from benchmarks.datasets import dataset_folders, platform_env, s3_client

GOAL_SECONDS = 1.0
INDEPENDENCE_LIMIT = 1.5  # tick(10x old objects) / tick(1x): O(old) would be ~10
LATE = 4  # late files written into an old date folder, for the sweep to find


def sizes(ctx: Context) -> tuple[list[int], int, int]:
    """(old-object counts, new objects, repetitions per measurement)."""
    if ctx.smoke:
        return [50, 500], 8, 1
    return [10_000, 100_000], 1_000, 5


def old_key(i: int) -> str:
    folders = dataset_folders()
    folder = folders[i % len(folders)]
    day = datetime(2026, 1, 1) + timedelta(days=(i // 4) % 300)
    date = day.strftime("%Y-%m-%d")
    return f"landing/{folder}{date}/part{i:06d}.csv"


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
    """Populate one bucket per old-object count; one child process measures them all (a whole
    sweep cycle only at the smallest count: at the largest it is 100 ticks)."""
    client = s3_client(ctx.s3_endpoint)
    populate = {}
    for old in old_counts:
        ensure_bucket(client, f"bench-sensor-{old}")
        populate[old], _ = timed(lambda old=old: populate_old_objects(f"bench-sensor-{old}", old))
    folder = ctx.folder("sensor", fresh=True)
    env = platform_env(ctx, f"bench-sensor-{old_counts[0]}", folder / "warehouse.duckdb", folder / "dagster_home")
    buckets = ",".join(f"bench-sensor-{old}" for old in old_counts)
    _, payload = run_child(
        [
            "benchmarks.sensor_child",
            "--buckets", buckets,
            "--new", str(new),
            "--late", str(LATE),
            "--repeat", str(repeat),
            "--full-cycle-buckets", f"bench-sensor-{old_counts[0]}",
        ],
        env=env,
        log_path=ctx.work_dir / "logs" / "sensor-tick.log",
    )
    measured = {}
    for old in old_counts:
        result = payload[f"bench-sensor-{old}"]
        worst = result["sweep"][result["worst_sweep_page"]]
        late_page = result["sweep"]["late_files_page"]
        cycle = result["full_sweep_cycle"]
        ctx.log(
            f"  {old:,} old: caught up in {result['catch_up_ticks']} ticks "
            f"(max {result['catch_up_tick_seconds']['max']:.2f} s); with {new:,} new: "
            f"tick {result['tick']['tick_seconds']['median']:.2f} s seeing {result['tick']['new_files']} "
            f"({result['tick']['list_requests']} list requests, "
            f"{result['tick']['s3_wait_seconds']['median']:.2f} s waiting for them); "
            f"idle {result['idle']['tick_seconds']['median']:.2f} s; worst sweep tick "
            f"({result['worst_sweep_page']}) {worst['tick_seconds']['median']:.2f} s; late-file page "
            f"saw {late_page['new_files']} of {result['late_files']}"
            + (
                f"; whole cycle {cycle['ticks']} ticks, {cycle['late_files_announced']} late files"
                if cycle
                else ""
            )
        )
        measured[old] = {"old_objects": old, "new_objects": new, "populate_seconds": round(populate[old], 2), **result}
    return measured


def run(ctx: Context) -> list[Figure]:
    old_counts, new, repeat = sizes(ctx)
    measured = measure(ctx, old_counts, new, repeat)
    small, large = measured[old_counts[0]], measured[old_counts[-1]]
    headline = large["tick"]["tick_seconds"]
    worst_sweep = large["sweep"][large["worst_sweep_page"]]
    late_seen = large["sweep"]["late_files_page"]["new_files"]
    scaling = summarize(ratios(headline["runs"], small["tick"]["tick_seconds"]["runs"]), 3)
    own_scaling = summarize(
        ratios(large["tick"]["own_seconds"]["runs"], small["tick"]["own_seconds"]["runs"]), 3
    )
    sweep_ok = worst_sweep["tick_seconds"]["median"] <= GOAL_SECONDS and late_seen == LATE
    common = {
        "by_old_objects": {
            str(old): {
                "tick_with_new": m["tick"],
                "idle_tick": m["idle"],
                "sweep_ticks": m["sweep"],
                "worst_sweep_page": m["worst_sweep_page"],
                "full_sweep_cycle": m["full_sweep_cycle"],
                "late_files": m["late_files"],
                "catch_up_ticks": m["catch_up_ticks"],
                "catch_up_new_files": m["catch_up_new_files"],
                "catch_up_tick_seconds": m["catch_up_tick_seconds"],
                "catch_up_list_requests_per_tick": m["catch_up_list_requests_per_tick"],
                "one_list_request_seconds": m["one_list_request_seconds"],
                "cursor_bytes": m["cursor_bytes"],
                "populate_seconds": m["populate_seconds"],
            }
            for old, m in measured.items()
        },
        "put_new_objects_per_second": large["put_new_per_second"],
    }
    notes = []
    if large["tick"]["new_files"] != new:
        notes.append(f"The regular tick announced {large['tick']['new_files']} of the {new:,} new files.")
    if late_seen != LATE:
        notes.append(f"The sweep page holding the {LATE} late files announced {late_seen} of them.")
    notes.append(
        f"Every tick makes {large['tick']['list_requests']} list requests (one per dataset folder "
        "and one sweep page), whatever the bucket holds; on the local S3 server one request costs "
        f"time proportional to the bucket ({small['one_list_request_seconds']['folder_after_greatest_key']['median']:.2f} s "
        f"at {old_counts[0]:,} objects, {large['one_list_request_seconds']['folder_after_greatest_key']['median']:.2f} s "
        f"at {old_counts[-1]:,}, for an empty answer), on S3 it does not. Without the time spent "
        f"waiting for them the tick takes {large['tick']['own_seconds']['median']:.2f} s."
    )
    return [
        Figure(
            id="sensor_tick",
            row="sensor-tick",
            benchmark="sensor-tick",
            title=f"Sensor tick, {old_counts[-1]:,} old objects in the bucket + {new:,} new",
            unit="s",
            value=headline,
            goal=f"≤ {GOAL_SECONDS:g} s, reporting the {new:,} new files; every sweep tick too",
            goal_met=headline["median"] <= GOAL_SECONDS and large["tick"]["new_files"] == new and sweep_ok,
            notes=notes,
            absolute={
                "new_files_seen": f"{large['tick']['new_files']} of {new}",
                "list_requests_per_tick": large["tick"]["list_requests"],
                "s3_wait_seconds": large["tick"]["s3_wait_seconds"]["median"],
                "tick_without_s3_wait_seconds": large["tick"]["own_seconds"]["median"],
                "idle_tick_seconds": large["idle"]["tick_seconds"]["median"],
                "worst_sweep_tick_seconds": worst_sweep["tick_seconds"]["median"],
                "worst_sweep_page": large["worst_sweep_page"],
                "late_files_seen_by_sweep": f"{late_seen} of {LATE}",
                "catch_up_ticks": large["catch_up_ticks"],
                "catch_up_tick_max_seconds": large["catch_up_tick_seconds"]["max"],
                "cursor_bytes": large["cursor_bytes"],
            },
            details=common,
            command="make bench BENCH_ARGS='--only sensor-tick'",
        ),
        Figure(
            id="sensor_tick_scaling",
            row="sensor-tick-scaling",
            benchmark="sensor-tick",
            title=f"Sensor tick at {old_counts[-1]:,} vs {old_counts[0]:,} old objects (same {new:,} new)",
            unit="× (10× more old objects)",
            value=scaling,
            goal=f"independent of old objects (read as ≤ {INDEPENDENCE_LIMIT}×; O(old) gives ~10×)",
            goal_met=scaling["median"] <= INDEPENDENCE_LIMIT,
            notes=[
                (
                    "Includes the local S3 server's per-request cost, which grows with the bucket; "
                    f"without the time waiting for list requests the ratio is {own_scaling['median']}×, "
                    f"with {small['tick']['list_requests']} and {large['tick']['list_requests']} "
                    "requests per tick."
                )
            ],
            absolute={
                **{
                    f"tick_seconds_{old}_old": measured[old]["tick"]["tick_seconds"]["median"]
                    for old in old_counts
                },
                "ratio_without_s3_wait": own_scaling["median"],
                **{
                    f"list_requests_per_tick_{old}_old": measured[old]["tick"]["list_requests"]
                    for old in old_counts
                },
            },
            details=common,
            command="make bench BENCH_ARGS='--only sensor-tick'",
        ),
    ]
