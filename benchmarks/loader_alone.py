"""The DuckDB loader alone on a generated data set: where ingestion's time goes (a diagnostic).

    python -m benchmarks.loader_alone --data /tmp/bw10/data/10m [--batch-mib 32 --batch-files 32] [--runs 2]

`--data` is a scale folder the benchmarks generated (`benchmarks/.work/full/data/10m` after
`make bench BENCH_ARGS='--keep-work'`). Its `landing/` files are uploaded once to a local S3
server (moto, in this process, on 127.0.0.1); then each run loads every declared dataset with
`DuckDBLoader.load_in_batches` into a fresh DuckDB file, as the ingestion step does, and prints
seconds per dataset, the loader's close (DuckDB's last checkpoint runs there) and seconds per
kind of statement. `--batch-mib` / `--batch-files` override the loader's batch limits, to
compare them in one process (e.g. 32 / 32, the limits before 2026-12-03, against the defaults).
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


class TimedConnection:
    """The loader's DuckDB connection, timing each statement by its first words."""

    def __init__(self, connection) -> None:
        self._connection = connection
        self.seconds: dict[str, list[float]] = collections.defaultdict(list)

    def execute(self, sql: str, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self._connection.execute(sql, *args, **kwargs)
        finally:
            kind = " ".join(sql.split()[:4])[:50]
            self.seconds[kind].append(time.perf_counter() - started)

    def __getattr__(self, name: str):
        return getattr(self._connection, name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.loader_alone", description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="a generated scale folder (holds landing/)")
    parser.add_argument("--batch-mib", type=int, help="DuckDBLoader.batch_max_bytes, in MiB")
    parser.add_argument("--batch-files", type=int, help="DuckDBLoader.batch_max_files")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args(argv)

    import boto3
    from moto.server import ThreadedMotoServer

    from analytics_platform.lib.datasets import datasets_from_manifest
    from analytics_platform.lib.objects import LandingObject
    from analytics_platform.lib.warehouses.duckdb import DuckDBLoader
    from analytics_platform.local.sample_data.files import upload_directory

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    if args.batch_mib:
        DuckDBLoader.batch_max_bytes = args.batch_mib << 20
    if args.batch_files:
        DuckDBLoader.batch_max_files = args.batch_files
    print(f"batches of up to {DuckDBLoader.batch_max_bytes >> 20} MiB / {DuckDBLoader.batch_max_files} files")

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    s3 = boto3.client(
        "s3", endpoint_url=f"http://{host}:{port}", region_name="us-east-1",
        aws_access_key_id="local", aws_secret_access_key="local",
    )
    bucket = "loader-alone"
    s3.create_bucket(Bucket=bucket)
    upload_directory(s3, bucket, args.data / "landing", "landing/", 8)
    manifest = json.loads((REPO_ROOT / "dbt_project" / "target" / "manifest.json").read_text())
    datasets = datasets_from_manifest(manifest)
    try:
        for run in range(1, args.runs + 1):
            with tempfile.TemporaryDirectory(prefix="loader-alone-") as folder:
                loader = DuckDBLoader(Path(folder) / "warehouse.duckdb")
                timed = TimedConnection(loader._connection)
                loader._connection = timed
                total = 0.0
                for dataset in datasets:
                    objects = [
                        LandingObject(bucket, o["Key"], o["ETag"].strip('"'), o["Size"], o["LastModified"])
                        for page in s3.get_paginator("list_objects_v2").paginate(
                            Bucket=bucket, Prefix=f"landing/{dataset.domain}/{dataset.name}/"
                        )
                        for o in page.get("Contents", [])
                    ]
                    started = time.perf_counter()
                    for _ in loader.load_in_batches(dataset, objects, s3, f"loader-alone-{run}"):
                        pass
                    seconds = time.perf_counter() - started
                    total += seconds
                    if seconds >= 0.1:
                        print(f"run {run}: {dataset.qualified_name}: {len(objects)} files, {seconds:.2f} s")
                started = time.perf_counter()
                loader._connection = timed._connection
                loader.close()
                closing = time.perf_counter() - started
                print(f"run {run}: close (last checkpoint) {closing:.2f} s; total {total + closing:.2f} s")
                for kind, times in sorted(timed.seconds.items(), key=lambda item: -sum(item[1]))[:8]:
                    print(f"    {sum(times):6.2f} s  {len(times):4d}x  {kind}")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
