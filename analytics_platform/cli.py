"""`analytics-platform ...`: the commands behind `make demo`, `make dev` and friends."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import duckdb

from analytics_platform.settings import REPO_ROOT, Settings, load_settings

DAGSTER_YAML = """\
# Written by `analytics-platform`; edit freely, it is not overwritten.
# One op at a time per pool: every warehouse writer is in the `warehouse` pool, so a sensor run
# and a manual run queue instead of failing on DuckDB's file lock.
concurrency:
  pools:
    default_limit: 1
# Dagster's SQLite event log without an fsync per event (analytics_platform/local/instance.py).
event_log_storage:
  module: analytics_platform.local.instance
  class: LocalSqliteEventLogStorage
  config:
    dagster_home:
      env: DAGSTER_HOME
telemetry:
  enabled: false
"""

GOLD_TABLES = ("gold.gold_daily_sales", "gold.gold_daily_avg_rating", "gold.product_categories")


def say(message: str) -> None:
    print(f"[analytics-platform] {message}", flush=True)


def ensure_dagster_home(settings: Settings) -> Path:
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    elif "analytics_platform.local_instance" in (text := config.read_text()):
        # Written before the module moved to analytics_platform/local/instance.py.
        config.write_text(text.replace("analytics_platform.local_instance", "analytics_platform.local.instance"))
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    return settings.dagster_home


def require_local(settings: Settings, command: str) -> None:
    if not (settings.is_local and settings.uses_loopback_s3 and settings.dbt_target == "local"):
        sys.exit(
            f"`{command}` runs on the embedded defaults only (ANALYTICS_ENV=local, a loopback "
            f"S3 endpoint, dbt target 'local'); got env={settings.environment!r}, "
            f"endpoint={settings.s3_endpoint_url!r}, target={settings.dbt_target!r}."
        )


@contextmanager
def running_local_s3(settings: Settings):
    """Start (or reuse) the local S3 server and point the process environment at it."""
    from analytics_platform.local.s3_server import local_s3_server

    with local_s3_server(settings.s3_endpoint_url) as endpoint:
        os.environ["ANALYTICS_S3_ENDPOINT_URL"] = endpoint
        yield replace(settings, s3_endpoint_url=endpoint)


def seed_landing_bucket(settings: Settings, only_if_empty: bool) -> int:
    """Upload the deterministic sample data set; returns the number of files uploaded."""
    from analytics_platform.defs.landing.resources import build_s3_resource
    from analytics_platform.local.sample_data.generator import (
        SampleSpec,
        generate_landing_files,
        upload_landing_files,
    )

    client = build_s3_resource(settings).get_client()
    if only_if_empty:
        existing = client.list_buckets().get("Buckets", [])
        if any(b["Name"] == settings.landing_bucket for b in existing):
            listed = client.list_objects_v2(
                Bucket=settings.landing_bucket, Prefix=settings.landing_prefix, MaxKeys=1
            )
            if listed.get("KeyCount", 0):
                return 0
    files = generate_landing_files(SampleSpec(include_malformed=True), prefix=settings.landing_prefix)
    uploaded_bytes = upload_landing_files(client, settings.landing_bucket, files)
    say(
        f"uploaded {len(files)} sample files ({uploaded_bytes / 1e6:.1f} MB) to "
        f"s3://{settings.landing_bucket}/{settings.landing_prefix} "
        f"({sum(f.malformed for f in files)} deliberately malformed)"
    )
    return len(files)


def cmd_prepare(settings: Settings, _args) -> int:
    from analytics_platform.lib.dbt_project import prepare_manifest

    say(f"parsing the dbt project (target {settings.dbt_target}) ...")
    say(f"manifest written to {prepare_manifest(settings)}")
    return 0


def cmd_demo(settings: Settings, args) -> int:
    require_local(settings, "demo")
    if args.fresh and settings.duckdb_path.exists():
        settings.duckdb_path.unlink()
        say(f"removed {settings.duckdb_path}")
    ensure_dagster_home(settings)
    cmd_prepare(settings, args)
    with running_local_s3(settings) as local:
        say(f"local S3 server at {local.s3_endpoint_url}")
        seed_landing_bucket(local, only_if_empty=False)

        import dagster as dg

        # Imported only now: the code location reads the environment running_local_s3 just set.
        from analytics_platform.definitions import defs

        job = defs.resolve_job_def("landing_to_gold")
        say("running job landing_to_gold (ingestion -> bronze -> silver -> gold, with checks) ...")
        result = job.execute_in_process(
            instance=dg.DagsterInstance.get(),
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
            raise_on_error=False,
        )
    print_summary(settings, result)
    return 0 if result.success else 1


def print_summary(settings: Settings, result) -> None:
    checks = result.get_asset_check_evaluations()
    failed = [c for c in checks if not c.passed]
    print()
    say(f"run {result.run_id}: {'SUCCESS' if result.success else 'FAILED'}")
    say(f"asset checks: {len(checks) - len(failed)} passed, {len(failed)} failed")
    for check in failed:
        print(f"    failed: {check.asset_key.to_user_string()} {check.check_name} ({check.severity.value})")
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        print("\nIngestion ledger (all runs):")
        for dataset, files, rows in con.execute(
            "SELECT dataset, count(*), sum(rows) FROM raw._ingestion_ledger GROUP BY 1 ORDER BY 1"
        ).fetchall():
            print(f"    {dataset:<10} {files:>5} files {rows:>9,} rows")
        quarantined = con.execute(
            "SELECT s3_key, reason FROM raw._ingestion_quarantine ORDER BY s3_key"
        ).fetchall()
        print(f"\nQuarantined files: {len(quarantined)} (see `analytics-platform quarantine`)")
        for key, reason in quarantined:
            print(f"    {key}\n        {reason}")
        print("\nGold tables:")
        for table in GOLD_TABLES:
            try:
                count = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                print(f"    {table:<32} {count:>6} rows")
            except duckdb.CatalogException:
                print(f"    {table:<32}  (not built)")
        try:
            rows = con.execute(
                "SELECT order_date, orders, units, revenue FROM gold.gold_daily_sales "
                "ORDER BY order_date DESC LIMIT 5"
            ).fetchall()
        except duckdb.CatalogException:
            rows = []
        if rows:
            print("\ngold_daily_sales, last 5 days:")
            print(f"    {'order_date':<12}{'orders':>8}{'units':>8}{'revenue':>14}")
            for order_date, orders, units, revenue in reversed(rows):
                print(f"    {order_date!s:<12}{orders:>8}{units:>8}{revenue:>14,.2f}")
    print(
        f"\nWarehouse: {settings.duckdb_path}\n"
        "Next: `make dev` opens the Dagster UI on the same warehouse; README.md says more.\n"
    )


def cmd_dev(settings: Settings, args) -> int:
    require_local(settings, "dev")
    home = ensure_dagster_home(settings)
    cmd_prepare(settings, args)
    with running_local_s3(settings) as local:
        say(f"local S3 server at {local.s3_endpoint_url} (in memory: gone when this stops)")
        seeded = seed_landing_bucket(local, only_if_empty=True)
        if seeded:
            say("the landing sensor (running by default locally) will pick these files up")
        command = [
            str(Path(sys.executable).with_name("dagster")), "dev",
            "-w", str(REPO_ROOT / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(args.port),
        ]
        say(f"DAGSTER_HOME={home}; starting: {' '.join(command)}")
        try:
            return subprocess.call(command, cwd=REPO_ROOT)
        except KeyboardInterrupt:
            return 0


def cmd_serve_s3(settings: Settings, _args) -> int:
    with running_local_s3(settings) as local:
        say(f"local S3 server at {local.s3_endpoint_url}; Ctrl-C stops it")
        seed_landing_bucket(local, only_if_empty=True)
        try:
            import threading

            threading.Event().wait()
        except KeyboardInterrupt:
            return 0
    return 0


LAYER_ORDER = ("landing", "reference", "bronze", "silver", "snapshots", "gold", "exposures", "docs")


def cmd_graph(settings: Settings, _args) -> int:
    """The asset graph as text, grouped landing -> bronze -> silver -> gold, parents on the right."""
    from analytics_platform.definitions import defs

    graph = defs.resolve_asset_graph()
    groups: dict[str, list] = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        groups.setdefault(node.group_name or "default", []).append(node)
    rank = {name: position for position, name in enumerate(LAYER_ORDER)}
    for group in sorted(groups, key=lambda name: (rank.get(name, len(rank)), name)):
        print(f"[{group}]")
        for node in sorted(groups[group], key=lambda n: n.key.to_user_string()):
            parents = ", ".join(sorted(p.to_user_string() for p in node.parent_keys))
            if not parents and node.key.path[0] == "raw":
                parents = f"s3://{settings.landing_bucket}/{settings.landing_prefix}{node.key.path[-1]}/"
            checks = len(list(node.check_keys))
            print(f"  {node.key.to_user_string():<32} <- {parents or '-'}  [{checks} checks]")
    return 0


def cmd_quarantine(settings: Settings, _args) -> int:
    if not settings.duckdb_path.exists():
        say(f"no warehouse at {settings.duckdb_path} yet")
        return 0
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        rows = con.execute(
            "SELECT quarantined_at, dataset, s3_key, etag, reason FROM raw._ingestion_quarantine "
            "ORDER BY quarantined_at"
        ).fetchall()
    for quarantined_at, dataset, key, etag, reason in rows:
        print(f"{quarantined_at:%Y-%m-%d %H:%M:%S}  {dataset:<9} {key} (etag {etag})\n    {reason}")
    say(
        f"{len(rows)} quarantined file(s). The objects stay in S3 untouched; upload a corrected "
        "file (new content = new ETag) to load it."
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="analytics-platform", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("prepare", help="parse the dbt project into the manifest Dagster loads")
    demo = commands.add_parser("demo", help="local S3 + sample data + the whole job, then a summary")
    demo.add_argument("--fresh", action="store_true", help="start from an empty warehouse file")
    dev = commands.add_parser("dev", help="local S3 (seeded) + `dagster dev` on the same warehouse")
    dev.add_argument("--port", type=int, default=3000)
    commands.add_parser("serve-s3", help="run the local S3 server (seeded) until Ctrl-C")
    commands.add_parser("quarantine", help="list the files ingestion rejected, with the reason")
    commands.add_parser("graph", help="print the asset graph as text, layer by layer")
    args = parser.parse_args(argv)
    handler = {
        "prepare": cmd_prepare,
        "demo": cmd_demo,
        "dev": cmd_dev,
        "serve-s3": cmd_serve_s3,
        "quarantine": cmd_quarantine,
        "graph": cmd_graph,
    }[args.command]
    return handler(load_settings(), args)


if __name__ == "__main__":
    sys.exit(main())
