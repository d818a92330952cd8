"""What the warehouses that read an external dataset in place (Redshift Spectrum, Databricks)
share, whatever their SQL: which hive folder a key is in, and the whole-file validation.

An external dataset (`Dataset.external`, docs/GAME.md) is never copied into a table. Its files
are read where they land through two relations, named the same on every engine:

- `<raw schema>_lake.<dataset>`: the external table over the dataset's landing folder,
  partitioned by its hive folders (`dt=YYYY-MM-DD/hh=HH/`); a partition is added as its folder
  receives its first accepted file;
- `<raw schema>.<dataset>`: the view dbt's source reads: the external table joined with the
  ledger on the file's path, so a file is read once its ledger row is committed, a quarantined
  or superseded file never, and `_source_key` / `_loaded_at` come from the ledger
  (`_source_row` is NULL: readers in place do not number lines).

The DDL text of each engine is in its loader module (redshift.py, databricks.py) and, for dbt
(`dbt run-operation stage_external_sources`), in dbt_project/macros/external/: a test renders
both and requires them to be identical.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from analytics_platform.lib.datasets import Dataset
from analytics_platform.lib.warehouses.duckdb import typed_file_select_sql
from analytics_platform.lib.warehouses.files import LocalFile, MalformedFile

LAKE_SCHEMA_SUFFIX = "_lake"


def lake_table(dataset: Dataset) -> str:
    """The external table over the dataset's files (the view `dataset.raw_table` reads it)."""
    return f"{dataset.raw_schema}{LAKE_SCHEMA_SUFFIX}.{dataset.name}"


@dataclass(frozen=True)
class PartitionFolder:
    """One hive folder of an external dataset: `values` in `dataset.partition_columns` order."""

    values: tuple[str, ...]
    location: str
    """s3://bucket/<dataset prefix>dt=.../hh=.../ (with the trailing slash)."""


def partition_folder(dataset: Dataset, bucket: str, root_prefix: str, key: str) -> PartitionFolder:
    """The hive folder `key` lies in, e.g. `dt=2026-10-01/hh=07/`; ValueError when the key is not
    laid out as the dataset declares (`partitioned_by`), which makes the file unreadable in place."""
    prefix = dataset.landing_prefix(root_prefix)
    if not key.startswith(prefix):
        raise ValueError(f"{key} is not under the folder {prefix} of dataset {dataset.qualified_name}")
    folders = key[len(prefix):].split("/")[:-1]
    names = [folder.partition("=")[0] for folder in folders]
    values = tuple(folder.partition("=")[2] for folder in folders)
    if names != list(dataset.partition_columns) or not all(values):
        expected = "/".join(f"{name}=<value>" for name in dataset.partition_columns) or "no sub-folder"
        raise ValueError(
            f"{key}: an external dataset's file lies in {prefix}{expected}/ (partitioned_by of "
            f"{dataset.qualified_name}); re-deliver it under that folder"
        )
    location = f"s3://{bucket}/{prefix}" + "".join(f"{folder}/" for folder in folders)
    return PartitionFolder(values=values, location=location)


def new_partition_folders(
    dataset: Dataset, bucket: str, root_prefix: str, local_files: list[LocalFile], added: set
) -> list[PartitionFolder]:
    """The folders of these files whose partition this loader has not added yet (`added`, a
    loader's memory, is updated): the partition DDL runs once per folder and loader, and being
    `ADD IF NOT EXISTS` it is harmless when a later run meets the folder again. A file outside
    the declared layout cannot be read in place: MalformedFile (quarantined with the reason)."""
    folders = []
    for local_file in local_files:
        try:
            folder = partition_folder(dataset, bucket, root_prefix, local_file.landing_object.key)
        except ValueError as error:
            raise MalformedFile(str(error)) from error
        if (dataset.qualified_name, folder.values) not in added:
            added.add((dataset.qualified_name, folder.values))
            folders.append(folder)
    return folders


def validated_rows(dataset: Dataset, local_files: list[LocalFile]) -> dict[str, int]:
    """Rows per key of files whose every row and every declared value casts losslessly, checked
    with the very typed SELECT the DuckDB loader inserts (an in-memory DuckDB reading the local
    copies), so every engine accepts and rejects the same files with the same reasons. Raises
    the DuckDB data error of the first bad file (the loader's `data_errors` quarantine it)."""
    rows: dict[str, int] = {}
    with duckdb.connect() as reader:
        reader.execute("SET TimeZone = 'UTC'")
        for local_file in local_files:
            typed = typed_file_select_sql(dataset, local_file, [], "TIMESTAMP '1970-01-01'")
            # count(COLUMNS(*)) evaluates every cast (a bare count(*) would let DuckDB skip them).
            [(count, *_)] = reader.execute(f"SELECT count(*), count(COLUMNS(*)) FROM {typed} AS validated").fetchall()
            rows[local_file.landing_object.key] = count
    return rows


__all__ = ["LAKE_SCHEMA_SUFFIX", "PartitionFolder", "lake_table", "new_partition_folders", "partition_folder",
           "validated_rows"]
