"""File bodies (CSV, newline-delimited JSON, Parquet with fixed writer options) and where they go:
a local folder or an S3 bucket."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

import pyarrow as pa
import pyarrow.parquet as pq

from analytics_platform.lib.datasets import Dataset
from analytics_platform.local.sample_data.spec import LandingFile, money_text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def ndjson_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    dumps = json.dumps
    lines = [dumps(dict(zip(header, row)), ensure_ascii=False) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(
        table,
        sink,
        version="2.6",
        compression="snappy",
        use_dictionary=True,
        write_statistics=True,
        data_page_version="1.0",
        row_group_size=1_000_000,
    )
    return sink.getvalue().to_pybytes()


def ts_array(seconds: Sequence[int]) -> pa.Array:
    return pa.array([s * 1_000_000 for s in seconds], type=pa.int64()).cast(pa.timestamp("us"))


def decimal_array(cents: Sequence[int]) -> pa.Array:
    return pa.array([money_text(c) for c in cents], type=pa.string()).cast(pa.decimal128(12, 2))


def arrow_type(data_type: str) -> pa.DataType:
    """The Parquet (Arrow) type of a declared SQL type; text for anything unrecognised."""
    base, _, args = data_type.upper().partition("(")
    base = base.strip()
    if base == "DECIMAL" or base == "NUMERIC":
        precision, _, scale = args.rstrip(")").partition(",")
        return pa.decimal128(int(precision or 18), int(scale or 0))
    return {
        "INTEGER": pa.int32(),
        "INT": pa.int32(),
        "SMALLINT": pa.int16(),
        "BIGINT": pa.int64(),
        "DOUBLE": pa.float64(),
        "FLOAT": pa.float32(),
        "REAL": pa.float32(),
        "BOOLEAN": pa.bool_(),
        "DATE": pa.date32(),
        "TIMESTAMP": pa.timestamp("us"),
    }.get(base, pa.string())


def declared_table(dataset: Dataset, arrays: dict[str, pa.Array]) -> pa.Table:
    """A table with the declared columns, in declared order, typed as declared; a declared column
    missing from `arrays` is all nulls."""
    rows = len(next(iter(arrays.values()))) if arrays else 0
    columns = {}
    for column in dataset.columns:
        target = arrow_type(column.data_type)
        array = arrays.get(column.name)
        columns[column.name] = (
            pa.nulls(rows, target) if array is None else array if array.type == target else array.cast(target)
        )
    return pa.table(columns)


CONTENT_TYPES = {
    "csv": "text/csv",
    "gz": "application/gzip",
    "json": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
}


def ensure_bucket(s3_client, bucket: str) -> None:
    """Create `bucket` unless it exists (in the client's region)."""
    from botocore.exceptions import ClientError

    try:
        s3_client.head_bucket(Bucket=bucket)
        return
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise
    kwargs: dict = {"Bucket": bucket}
    region = getattr(getattr(s3_client, "meta", None), "region_name", None)
    if region and region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3_client.create_bucket(**kwargs)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
            raise


def upload_landing_files(s3_client, bucket: str, files: Iterable[LandingFile]) -> int:
    """Put every file into ``bucket`` (created if missing) with a boto3 S3 client.

    Returns the number of bytes uploaded.
    """
    ensure_bucket(s3_client, bucket)
    total = 0
    for f in files:
        ext = f.key.rsplit(".", 1)[-1]
        s3_client.put_object(
            Bucket=bucket,
            Key=f.key,
            Body=f.body,
            ContentType=CONTENT_TYPES.get(ext, "application/octet-stream"),
        )
        total += len(f.body)
    return total


def write_landing_files(directory: Path, files: Iterable[LandingFile]) -> None:
    """Write every file under ``directory`` at its key path (``directory/<key>``)."""
    root = Path(directory)
    for f in files:
        rel = PurePosixPath(f.key)
        if rel.is_absolute() or ".." in rel.parts:
            raise ValueError(f"refusing to write outside {root}: {f.key!r}")
        path = root.joinpath(*rel.parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f.body)


def upload_directory(
    s3_client, bucket: str, root: Path, key_prefix: str = "", threads: int = 8
) -> int:
    """PUT every file under `root` at `key_prefix` + its path relative to `root`, `threads` at a time, streamed
    from disk (for data sets too large to hold in memory); returns the bytes uploaded.

    Files are sent in key order: the generator's key order is the delivery order within a
    dataset, so LastModified grows with the delivery date as in a real landing zone.
    """
    from concurrent.futures import ThreadPoolExecutor

    ensure_bucket(s3_client, bucket)
    paths = sorted(path for path in Path(root).rglob("*") if path.is_file())

    def put(path: Path) -> int:
        key = key_prefix + path.relative_to(root).as_posix()
        with path.open("rb") as body:
            s3_client.put_object(
                Bucket=bucket,
                Key=key,
                Body=body,
                ContentType=CONTENT_TYPES.get(key.rsplit(".", 1)[-1], "application/octet-stream"),
            )
        return path.stat().st_size

    with ThreadPoolExecutor(max_workers=threads) as pool:
        return sum(pool.map(put, paths))
