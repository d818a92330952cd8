"""`analytics-platform ...`: the commands behind `make demo`, `make dev` and friends."""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import duckdb

from analytics_platform.local.console import run_process_group, say
from analytics_platform.local.dagster_yaml import DAGSTER_YAML
from analytics_platform.settings import REPO_ROOT, Settings, load_settings

GOLD_MODELS = ("gold_daily_sales", "gold_daily_avg_rating", "product_categories")


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


DOTENV_HEADER = """\
# Written by `analytics-platform` (make demo / make dev / make manifest); not committed (the
# path is this clone's). `dg launch ...` and `dagster ...` run from this folder read it, so they
# record their runs in the instance `make dev` serves, with its dagster.yaml (telemetry off).
# A variable exported in the shell wins over the value here.
"""


def write_dotenv(directory: Path, variables: dict[str, str]) -> Path:
    """A `.env` that Dagster's CLI loads from its working directory (dagster/_cli/utils.py
    `_inject_local_env_file`, before it opens the instance). `${NAME:-value}`: python-dotenv
    expands it to the exported value when there is one, so `.env` never overrides the shell."""
    path = directory / ".env"
    lines = [f"{name}=${{{name}:-{value}}}" for name, value in variables.items()]
    path.write_text(DOTENV_HEADER + "\n".join(lines) + "\n")
    return path


def write_repo_dotenv(settings: Settings) -> None:
    """Only for the clone's own instance: a test's or benchmark's settings leave `.env` alone."""
    if settings.dagster_home == load_settings({}).dagster_home:
        ensure_dagster_home(settings)  # `dg` refuses a DAGSTER_HOME that does not exist
        write_dotenv(REPO_ROOT, {"DAGSTER_HOME": str(settings.dagster_home)})


def quiet_logs(verbose: bool) -> None:
    """The local S3 server logs every request (werkzeug's access log): off unless --verbose."""
    import logging

    logging.getLogger("werkzeug").setLevel(logging.INFO if verbose else logging.WARNING)


def require_local(settings: Settings, command: str) -> None:
    if not (settings.is_local and settings.uses_loopback_s3 and settings.warehouse_type == "duckdb"):
        sys.exit(
            f"`{command}` runs on the embedded defaults only (ANALYTICS_ENV=local, a loopback "
            f"S3 endpoint, ANALYTICS_WAREHOUSE=duckdb); got env={settings.environment!r}, "
            f"endpoint={settings.s3_endpoint_url!r}, warehouse={settings.warehouse_type!r}."
        )


@contextmanager
def running_local_s3(settings: Settings):
    """Start (or reuse) the local S3 server; yields the settings pointing at it."""
    from analytics_platform.local.s3_server import local_s3_server

    with local_s3_server(settings.s3_endpoint_url) as endpoint:
        yield replace(settings, s3_endpoint_url=endpoint)


def seed_landing_bucket(settings: Settings, only_if_empty: bool) -> int:
    """Upload the deterministic sample data set; returns the number of files uploaded."""
    from analytics_platform.defs.landing.resources import build_s3_resource
    from analytics_platform.local.sample_data import (
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

    say(f"parsing the dbt project (target {settings.dbt_target}, env {settings.environment}) ...")
    say(f"manifest written to {prepare_manifest(settings)}")
    write_repo_dotenv(settings)
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

        from analytics_platform.defs import build_definitions

        job = build_definitions(local).resolve_job_def("landing_to_gold")
        say("running job landing_to_gold (ingestion -> bronze -> silver -> gold, with checks) ...")
        result = job.execute_in_process(
            instance=dg.DagsterInstance.get(),
            run_config={
                "loggers": {"console": {"config": {"log_level": "DEBUG" if args.verbose else "INFO"}}}
            },
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
    from analytics_platform.lib.warehouses import open_loader

    with open_loader(settings) as loader:
        print("\nIngestion ledger (all runs):")
        for dataset, files, rows in loader.ledger_summary():
            print(f"    {dataset:<20} {files:>5} files {rows:>9,} rows")
        quarantined = sorted(loader.quarantined_files(), key=lambda q: q.key)
    print(f"\nQuarantined files: {len(quarantined)} (see `analytics-platform quarantine`)")
    for record in quarantined:
        print(f"    {record.key}\n        {record.reason}")
    # The gold summary reads the demo's local DuckDB warehouse directly, at dbt's relation names.
    gold = _relations(settings, GOLD_MODELS)
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        print("\nGold tables:")
        for table in gold.values():
            try:
                count = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                print(f"    {table:<32} {count:>6} rows")
            except duckdb.CatalogException:
                print(f"    {table:<32}  (not built)")
        try:
            rows = con.execute(
                f"SELECT order_date, orders, units, revenue FROM {gold['gold_daily_sales']} "
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


def _relations(settings: Settings, models: tuple[str, ...]) -> dict[str, str]:
    """model name -> schema.table as the parsed dbt project names it (the schema may depend on
    ANALYTICS_ENV), falling back to the bare name."""
    from analytics_platform.lib.dbt_project import load_manifest

    found = {}
    for node in load_manifest(settings).get("nodes", {}).values():
        if node.get("name") in models and node.get("resource_type") in {"model", "seed", "snapshot"}:
            found[node["name"]] = f"{node['schema']}.{node.get('alias') or node['name']}"
    return {model: found.get(model, model) for model in models}




def cmd_dev(settings: Settings, args) -> int:
    require_local(settings, "dev")
    if args.s3_port is not None:
        settings = replace(settings, s3_endpoint_url=f"http://127.0.0.1:{args.s3_port}")
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
            "--log-level", "debug" if args.verbose else "info",
        ]
        say(f"DAGSTER_HOME={home}; starting: {' '.join(command)}")
        say(f"UI: http://127.0.0.1:{args.port}  (Ctrl-C stops the UI, daemon, code server and S3)")
        # The code location reads its settings from the environment: these, S3 included.
        return run_process_group(command, env={**os.environ, **local.to_environment()})


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
    if settings.warehouse_type == "duckdb" and not settings.duckdb_path.exists():
        say(f"no warehouse at {settings.duckdb_path} yet")
        return 0
    from analytics_platform.lib.warehouses import open_loader

    with open_loader(settings) as loader:
        rows = loader.quarantined_files()
    for record in rows:
        print(
            f"{record.quarantined_at:%Y-%m-%d %H:%M:%S}  {record.dataset:<20} {record.key} "
            f"(etag {record.etag})\n    {record.reason}"
        )
    say(
        f"{len(rows)} quarantined file(s). The objects stay in S3 untouched; upload a corrected "
        "file (new content = new ETag) to load it."
    )
    return 0


def cmd_backfill(settings: Settings, args) -> int:  # one run, one dbt invocation, window as run config
    import dagster as dg

    from analytics_platform.defs import build_definitions
    from analytics_platform.lib import backfill_window as bw
    window = bw.backfill_window_or_exit(args.start, args.end)
    ensure_dagster_home(settings)  # DAGSTER_HOME: the instance `make dev` serves
    result = build_definitions(settings).resolve_job_def("dbt_incremental_daily").execute_in_process(
        instance=dg.DagsterInstance.get(), run_config=bw.window_run_config(*window), raise_on_error=False)
    say(f"{result.job_def.name} [{args.start}, {args.end}) UTC: run {result.run_id} {'SUCCESS' if result.success else 'FAILED'}")
    return 0 if result.success else 1


def cmd_codegen(settings: Settings, args: argparse.Namespace) -> int:
    from analytics_platform.lib.codegen import run_codegen

    return run_codegen(settings, args.domain, args.dataset, args.sample, delimiter=args.delimiter,
                       header=args.header, overwrite=args.overwrite)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="analytics-platform", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("prepare", help="parse the dbt project into the manifest Dagster loads")
    demo = commands.add_parser("demo", help="local S3 + sample data + the whole job, then a summary")
    demo.add_argument("--fresh", action="store_true", help="start from an empty warehouse file")
    dev = commands.add_parser("dev", help="local S3 (seeded) + `dagster dev` on the same warehouse")
    dev.add_argument("--port", type=int, default=3000, help="UI port (make dev PORT=...)")
    dev.add_argument(
        "--s3-port", type=int, default=None,
        help="local S3 port (make dev S3_PORT=...); default: the port of ANALYTICS_S3_ENDPOINT_URL",
    )
    serve_s3 = commands.add_parser("serve-s3", help="run the local S3 server (seeded) until Ctrl-C")
    for command in (demo, dev, serve_s3):
        command.add_argument(
            "--verbose", action="store_true", default=os.environ.get("VERBOSE", "") not in {"", "0"},
            help="S3 access logs and DEBUG logs on (also VERBOSE=1)",
        )
    backfill = commands.add_parser("backfill", help="rebuild the facts and downstream for [start, end) UTC, one run")
    for bound, inclusive in (("--start", "inclusive"), ("--end", "exclusive")):
        backfill.add_argument(bound, required=True, help=f"'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM', {inclusive}")
    commands.add_parser("quarantine", help="list the files ingestion rejected, with the reason")
    commands.add_parser("graph", help="print the asset graph as text, layer by layer")
    codegen = commands.add_parser(
        "codegen", help="infer a dataset from a landed file: its declaration, bronze model and YAML stub"
    )
    codegen.add_argument("domain")
    codegen.add_argument("dataset")
    codegen.add_argument("--sample", required=True, help="a local file, s3://bucket/key, or a key in the landing bucket")
    codegen.add_argument("--delimiter", default=None, help="default: detected (| tab , ;)")
    codegen.add_argument("--header", default=None, action=argparse.BooleanOptionalAction, help="default: detected")
    codegen.add_argument("--overwrite", action="store_true", help="replace the model files if they exist")
    from analytics_platform.defs.landing.resources import build_s3_resource
    from analytics_platform.lib.environment_commands import add_environment_commands
    environment_commands = add_environment_commands(commands, s3_client=lambda s: build_s3_resource(s).get_client())  # drop-branch-schemas, publish-manifest, ci
    args = parser.parse_args(argv)
    quiet_logs(getattr(args, "verbose", False))
    handler = environment_commands.get(args.command) or {
        "prepare": cmd_prepare,
        "demo": cmd_demo,
        "dev": cmd_dev,
        "serve-s3": cmd_serve_s3,
        "quarantine": cmd_quarantine,
        "graph": cmd_graph,
        "codegen": cmd_codegen,
        "backfill": cmd_backfill,
    }[args.command]
    return handler(load_settings(), args)


if __name__ == "__main__":
    sys.exit(main())
