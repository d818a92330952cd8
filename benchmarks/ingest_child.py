"""Loads one landed object with the project's DuckDBLoader, measuring memory: in its own process.

    python -m benchmarks.ingest_child KEY [--single-get] [--memory-limit 256MB] [--streamed-read-memory-limit 128MB]

Settings (bucket, endpoint, warehouse) come from the environment. A sampler thread reads this
process's resident set size (/proc/self/status VmRSS) every 20 ms and attributes it to the
phase running: the S3 download (the loader's one streamed, ETag-pinned GET to a temporary file,
in its download thread) or the DuckDB insert. The peak reported is
the kernel's VmHWM of this process (not ru_maxrss: Linux carries the parent's peak across
fork+exec, and the parent holds the local S3 server's data).

--single-get: download with one GET instead of boto3's parallel ranged GETs, where the loader
  uses s3transfer's download_fileobj. The local S3 server (moto) re-reads the whole object for
  every range, which makes ranged downloads of a large object quadratic there (not on S3). The
  loader now downloads with one streamed `get_object` (IfMatch on the listed ETag) anyway.
--memory-limit: DuckDB's memory_limit for the loader, instead of the product's default
  (DEFAULT_MEMORY_LIMIT in analytics_platform/lib/warehouses/duckdb.py).
--streamed-read-memory-limit: the budget of a file read on its own (this benchmark's one file),
  instead of the product's STREAMED_READ_MEMORY_LIMIT.
"""

from __future__ import annotations

import resource
import threading
import time
from pathlib import Path

from benchmarks.common import emit_result


def rss_mib(field: str = "VmRSS") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


class Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.phase = "startup"
        self.peaks: dict[str, float] = {}
        self.running = True

    def run(self) -> None:
        while self.running:
            value = rss_mib()
            self.peaks[self.phase] = max(self.peaks.get(self.phase, 0.0), value)
            time.sleep(0.02)


class TimedBody:
    """A `get_object` response body whose reading is timed and marked as the download phase."""

    def __init__(self, body, downloads: TimedDownloads) -> None:
        self._body = body
        self._downloads = downloads

    def iter_chunks(self, *args, **kwargs):
        chunks = self._body.iter_chunks(*args, **kwargs)
        while True:
            self._downloads._sampler.phase = "download"
            started = time.perf_counter()
            try:
                chunk = next(chunks)
            except StopIteration:
                return
            finally:
                self._downloads.download_seconds += time.perf_counter() - started
                self._downloads._sampler.phase = "insert"
            yield chunk

    def read(self, *args, **kwargs):
        self._downloads._sampler.phase = "download"
        started = time.perf_counter()
        try:
            return self._body.read(*args, **kwargs)
        finally:
            self._downloads.download_seconds += time.perf_counter() - started
            self._downloads._sampler.phase = "insert"

    def __getattr__(self, name):
        return getattr(self._body, name)


class TimedDownloads:
    """The boto3 client, with its downloads (`get_object` with the reading of its body, or
    `download_fileobj`) timed and marked as a phase for the sampler."""

    def __init__(self, client, sampler: Sampler, single_get: bool) -> None:
        self._client = client
        self._sampler = sampler
        self._single_get = single_get
        self.download_seconds = 0.0

    def download_fileobj(self, *args, **kwargs):
        self._sampler.phase = "download"
        if self._single_get:
            from boto3.s3.transfer import TransferConfig

            kwargs["Config"] = TransferConfig(multipart_threshold=2**62, use_threads=False)
        started = time.perf_counter()
        try:
            return self._client.download_fileobj(*args, **kwargs)
        finally:
            self.download_seconds += time.perf_counter() - started
            self._sampler.phase = "insert"

    def get_object(self, *args, **kwargs):
        self._sampler.phase = "download"
        started = time.perf_counter()
        try:
            response = self._client.get_object(*args, **kwargs)
        finally:
            self.download_seconds += time.perf_counter() - started
        return {**response, "Body": TimedBody(response["Body"], self)}

    def __getattr__(self, name):
        return getattr(self._client, name)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("key")
    parser.add_argument("--single-get", action="store_true")
    parser.add_argument("--memory-limit")
    parser.add_argument("--streamed-read-memory-limit")
    args = parser.parse_args(argv)
    key = args.key
    sampler = Sampler()
    sampler.start()
    from analytics_platform.defs.landing.resources import build_s3_resource
    from analytics_platform.lib.datasets import dataset_for_key, load_datasets
    from analytics_platform.lib.objects import list_landing_objects
    from analytics_platform.lib.warehouses.duckdb import DuckDBLoader
    from analytics_platform.settings import load_settings

    settings = load_settings()
    client = build_s3_resource(settings).get_client()
    [landing_object] = [
        o for o in list_landing_objects(client, settings.landing_bucket, settings.landing_prefix) if o.key == key
    ]
    datasets = load_datasets(settings)
    dataset = dataset_for_key(datasets, key, settings.landing_prefix) or next(
        d for d in datasets if d.qualified_name == "ecommerce.orders"
    )
    baseline = rss_mib()
    sampler.phase = "open"
    timed_client = TimedDownloads(client, sampler, args.single_get)
    started = time.perf_counter()
    options = {"memory_limit": args.memory_limit} if args.memory_limit else {}
    if args.streamed_read_memory_limit:
        options["streamed_read_memory_limit"] = args.streamed_read_memory_limit
    with DuckDBLoader(settings.duckdb_path, **options) as loader:
        outcome = loader.load(dataset, landing_object, timed_client, "bench-ingest-memory")
        sampler.phase = "close"
    seconds = time.perf_counter() - started
    time.sleep(0.05)
    sampler.running = False
    if not outcome.loaded:
        raise SystemExit(f"the file was quarantined: {outcome.quarantine_reason}")
    emit_result(
        {
            "rows": outcome.rows,
            "bytes": landing_object.size,
            "seconds": round(seconds, 3),
            "download_seconds": round(timed_client.download_seconds, 3),
            "baseline_rss_mib": round(baseline, 1),
            "peak_rss_mib": round(rss_mib("VmHWM"), 1),
            "ru_maxrss_mib_inherited": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "single_get": args.single_get,
            "memory_limit": args.memory_limit,
            "streamed_read_memory_limit": args.streamed_read_memory_limit,
            "peak_rss_mib_by_phase": {k: round(v, 1) for k, v in sampler.peaks.items()},
        }
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
