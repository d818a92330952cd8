"""Sample rows for a dataset without a specific generator, made from its declared column types
only: a dataset added by YAML gets sample data with no Python written for it.

One file per day under landing/<domain>/<dataset>/<date>/, in the dataset's declared file format
(csv unless `format` says json or parquet), honouring its delimiter, header, quote, null string,
timestamp format and compression. Values are deterministic (spec.seed), typed as declared, and a
required column is never empty.
"""

from __future__ import annotations

import csv
import datetime
import gzip
import io
import json
import random
from collections.abc import Sequence
from decimal import Decimal

import pyarrow as pa

from analytics_platform.lib.datasets import Column, Dataset
from analytics_platform.local.sample_data.files import arrow_type, parquet_bytes
from analytics_platform.local.sample_data.spec import (
    DAY,
    LandingFile,
    SampleSpec,
    day_dates,
    first_day_epoch,
    rng_for,
    times_of_day,
)


def _base_type(column: Column) -> str:
    return column.data_type.upper().partition("(")[0].strip()


def generic_value(column: Column, rng: random.Random, row: int, at: int) -> object:
    """A value of the column's type: row is the dataset-wide row number, at an epoch second of
    the row's day. Optional columns are empty one time in ten."""
    if not column.required and rng.random() < 0.1:
        return None
    base = _base_type(column)
    if base in ("INTEGER", "INT", "SMALLINT", "BIGINT"):
        return rng.randint(1, 1_000)
    if base in ("DECIMAL", "NUMERIC"):
        scale = int(column.data_type.rstrip(")").partition(",")[2] or 0)
        return Decimal(rng.randint(100, 100_000)).scaleb(-scale)
    if base in ("DOUBLE", "FLOAT", "REAL"):
        return round(rng.uniform(0, 1_000), 3)
    if base == "BOOLEAN":
        return rng.random() < 0.5
    if base == "DATE":
        return datetime.date(1970, 1, 1) + datetime.timedelta(days=at // DAY)
    if base == "TIMESTAMP":
        return datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=at)
    return f"{column.name}-{row + 1:06d}"


def generic_rows(dataset: Dataset, spec: SampleSpec) -> list[list[dict[str, object]]]:
    """Rows per day (a list per day of {column: value}), deterministic for (spec, dataset)."""
    rng = rng_for(spec, f"generic:{dataset.qualified_name}")
    day0, days, row = first_day_epoch(spec), [], 0
    for day in range(spec.days):
        rows = []
        for at in times_of_day(rng, day0 + day * DAY, spec.generic_rows_per_day):
            rows.append({c.name: generic_value(c, rng, row, at) for c in dataset.columns})
            row += 1
        days.append(rows)
    return days


def _text(value: object, column: Column, dataset: Dataset) -> str:
    options = dataset.file_format
    if value is None:
        return options.null_string
    if isinstance(value, datetime.datetime):
        return value.strftime(options.timestamp_format or "%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def file_body(dataset: Dataset, rows: Sequence[dict[str, object]]) -> tuple[str, bytes]:
    """(extension, bytes) of one file of `rows` in the dataset's declared file format."""
    options, names = dataset.file_format, [c.name for c in dataset.columns]
    file_format = options.format or "csv"
    if file_format == "parquet":
        arrays = {
            c.name: pa.array([r[c.name] for r in rows], arrow_type(c.data_type)) for c in dataset.columns
        }
        return "parquet", parquet_bytes(pa.table(arrays))
    if file_format == "json":
        lines = [
            json.dumps(
                {c.name: None if r[c.name] is None else _json_value(r[c.name], c, dataset) for c in dataset.columns},
                ensure_ascii=False,
            )
            for r in rows
        ]
        body = ("\n".join(lines) + "\n").encode("utf-8") if lines else b""
        extension = "json"
    else:
        buffer = io.StringIO()
        writer = csv.writer(
            buffer, delimiter=options.delimiter, quotechar=options.quote or '"', lineterminator="\n"
        )
        if options.header:
            writer.writerow(names)
        for r in rows:
            writer.writerow([_text(r[c.name], c, dataset) for c in dataset.columns])
        body, extension = buffer.getvalue().encode("utf-8"), "csv"
    if options.compression == "gzip":
        return f"{extension}.gz", gzip.compress(body, mtime=0)
    return extension, body


def _json_value(value: object, column: Column, dataset: Dataset) -> object:
    if isinstance(value, (bool, int, float)):
        return value
    return _text(value, column, dataset)


def generic_files(
    spec: SampleSpec, prefix: str, dataset: Dataset
) -> list[tuple[int, int, LandingFile]]:
    """(day, part, file) for one dataset: one file per day with rows."""
    dates, out = day_dates(spec), []
    for day, rows in enumerate(generic_rows(dataset, spec)):
        if not rows:
            continue
        extension, body = file_body(dataset, rows)
        date = dates[day]
        key = f"{dataset.landing_prefix(prefix)}{date}/{dataset.name}_{date}_part1.{extension}"
        out.append((day, 1, LandingFile(key, body, dataset.name, False, dataset.domain)))
    return out
