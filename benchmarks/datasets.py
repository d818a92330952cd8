"""The sample data sets the end-to-end benchmarks run on, and getting them into the local S3.

Files come from the project's own deterministic generator
(`python -m analytics_platform.local.sample_data`: files for every declared dataset, or for those
of `Scale.domains`), run as a subprocess so the gigabytes it holds in memory are returned to the
system as soon as the files are on disk. The files on disk are what
the hand-written DuckDB script (the engine's limit) reads; the same bytes are uploaded to the
local S3 bucket that the platform ingests from.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from analytics_platform.settings import load_settings
from benchmarks.common import PROJECT_DIR, Context, child_env, directory_size, run_child


def dataset_folders() -> tuple[str, ...]:
    """The landing sub-folder of each declared dataset (e.g. `ecommerce/orders/`), read from the
    dbt manifest like the platform does, sorted: benchmarks land keys where the platform looks."""
    from analytics_platform.lib.datasets import load_datasets

    return tuple(sorted(d.landing_prefix("") for d in load_datasets(load_settings())))


@dataclass(frozen=True)
class Scale:
    """Scale knobs of `SampleSpec`; products, users and reviews grow with orders."""

    name: str
    days: int
    orders_per_day: int
    products: int
    users: int
    reviews_per_day: int
    seed: int = 42
    domains: tuple[str, ...] = ()
    """Land only these domains' datasets (generator `--domain`); empty: every declared one."""

    @property
    def orders(self) -> int:
        return self.days * self.orders_per_day

    def generator_args(self) -> list[str]:
        return [
            "--days", str(self.days),
            "--orders-per-day", str(self.orders_per_day),
            "--products", str(self.products),
            "--users", str(self.users),
            "--reviews-per-day", str(self.reviews_per_day),
            "--seed", str(self.seed),
            *(a for domain in self.domains for a in ("--domain", domain)),
        ]


# About 1M and 10M orders over 50 days; the demo's proportions, roughly: one product per
# 500 orders, one initial user per 10 orders (plus 2% new users a day), 0.3 reviews per order.
# Smoke lands the ecommerce domain only: the gold tables compared with limit.sql are its own, and
# TICKIT's files (fixed size, ~45% of the smoke bytes) would only add load time to every check.
SMOKE = Scale(
    "smoke", days=4, orders_per_day=400, products=40, users=200, reviews_per_day=120, domains=("ecommerce",)
)
SCALE_100K = Scale("100k", days=50, orders_per_day=2_000, products=200, users=10_000, reviews_per_day=600)
SCALE_1M = Scale("1m", days=50, orders_per_day=20_000, products=2_000, users=100_000, reviews_per_day=6_000)
SCALE_10M = Scale("10m", days=50, orders_per_day=200_000, products=20_000, users=1_000_000, reviews_per_day=60_000)
SCALE_30M = Scale("30m", days=50, orders_per_day=600_000, products=60_000, users=3_000_000, reviews_per_day=180_000)
SCALES = {s.name: s for s in (SMOKE, SCALE_100K, SCALE_1M, SCALE_10M, SCALE_30M)}


def landing_dir(ctx: Context, scale: Scale) -> Path:
    """benchmarks/.work/data/<scale>/: holds landing/<domain>/<dataset>/<date>/<file>, as in the bucket."""
    return ctx.work_dir / "data" / scale.name


def generate(ctx: Context, scale: Scale) -> dict:
    """Generate the files on disk, reusing them when the same spec was generated before."""
    root = landing_dir(ctx, scale)
    stamp = root / "spec.json"
    wanted = json.loads(json.dumps(asdict(scale)))  # as read back from spec.json (lists, not tuples)
    if stamp.exists() and json.loads(stamp.read_text()).get("spec") == wanted:
        return json.loads(stamp.read_text())
    if root.exists():
        import shutil

        shutil.rmtree(root)
    root.mkdir(parents=True)
    ctx.log(f"generating the {scale.name} data set ({scale.orders:,} orders) into {root} ...")
    arguments = ["--out", str(root), *scale.generator_args()]
    if ctx.smoke:  # a few hundred kB: in this process, without a fresh interpreter's imports
        import contextlib
        import time

        from analytics_platform.local.sample_data.__main__ import main as generate_files

        started = time.perf_counter()
        with (ctx.work_dir / "logs" / f"generate-{scale.name}.log").open("a") as log, contextlib.redirect_stdout(log):
            generate_files(arguments)
        seconds = time.perf_counter() - started
    else:  # gigabytes held in memory while generating: returned to the system when the child exits
        seconds, _ = run_child(
            ["analytics_platform.local.sample_data", *arguments],
            env=child_env(),
            log_path=ctx.work_dir / "logs" / f"generate-{scale.name}.log",
        )
    files = sorted(p for p in (root / "landing").rglob("*") if p.is_file())
    info = {
        "spec": wanted,
        "files": len(files),
        "bytes": directory_size(root / "landing"),
        "generate_seconds": round(seconds, 2),
    }
    stamp.write_text(json.dumps(info, indent=1))
    ctx.log(f"  {info['files']} files, {info['bytes'] / 1e6:,.0f} MB in {seconds:.0f} s")
    return info


def s3_client(endpoint: str, max_pool: int = 16):
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(max_pool_connections=max_pool, retries={"max_attempts": 5}),
    )


def upload_dir(ctx: Context, root: Path, bucket: str, threads: int = 8) -> int:
    """The package's own upload (every file under `root/landing` at its key), in parallel."""
    from analytics_platform.local.sample_data.files import upload_directory

    client = s3_client(ctx.s3_endpoint, max_pool=threads * 2)
    return upload_directory(client, bucket, root / "landing", "landing/", threads)


def platform_env(ctx: Context, bucket: str, duckdb_path: Path, dagster_home: Path, **extra: str) -> dict[str, str]:
    """The environment a platform child process runs with: the settings it reads, nothing else."""
    settings = replace(
        load_settings({"ANALYTICS_ENV": "local"}),
        s3_endpoint_url=ctx.s3_endpoint or None,
        landing_bucket=bucket,
        landing_prefix="landing/",
        duckdb_path=duckdb_path,
        dagster_home=dagster_home,
        dbt_project_dir=PROJECT_DIR,
    )
    env = {**settings.to_environment(), **extra}
    full = child_env(env)
    # The caller's shell must not point the child at another S3 or dbt target folder.
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "DBT_TARGET_PATH"):
        if name not in env:
            full.pop(name, None)
    return full
