"""What the warehouses that read an external dataset in place (Redshift Spectrum, Databricks,
DuckDB, Spark) share, whatever their SQL: which hive folder a key is in, the whole-file
validation, and the local lake folder DuckDB and Spark mirror accepted files into.

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
both and requires them to be identical. Spark runs Databricks' DDL over its local lake folder.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from analytics_platform.lib.datasets import Dataset
from analytics_platform.lib.warehouses.duckdb_selects import typed_file_select_sql
from analytics_platform.lib.warehouses.files import LocalFile, MalformedFile, scratch_duckdb

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


def partition_folder(
    dataset: Dataset, bucket: str, root_prefix: str, key: str, location_root: str | None = None
) -> PartitionFolder:
    """The hive folder `key` lies in, e.g. `dt=2026-10-01/hh=07/`; ValueError when the key is not
    laid out as the dataset declares (`partitioned_by`), which makes the file unreadable in place.
    `location_root`: where the landing root's files are read (default s3://<bucket>/<root_prefix>;
    Spark: its local lake folder)."""
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
    root = location_root if location_root is not None else f"s3://{bucket}/{root_prefix}"
    location = f"{root}{dataset.landing_prefix('')}" + "".join(f"{folder}/" for folder in folders)
    return PartitionFolder(values=values, location=location)


def new_partition_folders(
    dataset: Dataset, bucket: str, root_prefix: str, local_files: list[LocalFile], added: set,
    location_root: str | None = None,
) -> list[PartitionFolder]:
    """The folders of these files whose partition this loader has not added yet (`added`, a
    loader's memory, is updated): the partition DDL runs once per folder and loader, and being
    `ADD IF NOT EXISTS` it is harmless when a later run meets the folder again. A file outside
    the declared layout cannot be read in place: MalformedFile (quarantined with the reason)."""
    folders = []
    for local_file in local_files:
        try:
            folder = partition_folder(dataset, bucket, root_prefix, local_file.landing_object.key, location_root)
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
    with scratch_duckdb() as reader:
        for local_file in local_files:
            typed = typed_file_select_sql(dataset, local_file, [], "TIMESTAMP '1970-01-01'")
            # count(COLUMNS(*)) evaluates every cast (a bare count(*) would let DuckDB skip them).
            [(count, *_)] = reader.execute(f"SELECT count(*), count(COLUMNS(*)) FROM {typed} AS validated").fetchall()
            rows[local_file.landing_object.key] = count
    return rows


# --- the local lake folder (DuckDB, Spark): accepted files mirrored where engines read them ------


def dataset_folder_pattern(dataset: Dataset) -> str:
    """A regular expression (Python and DuckDB's RE2 alike) whose group 1 is a key's path below
    the dataset's folder (`<prefix><domain>/<dataset>/`)."""
    return f"(?:^|/){re.escape(dataset.domain)}/{re.escape(dataset.name)}/(.*)$"


def landing_root_prefix(dataset: Dataset, key: str) -> str:
    """The landing root a key of the dataset lies under (`landing/` for `landing/game/events/...`)."""
    match = re.search(dataset_folder_pattern(dataset), key)
    if match is None:
        raise MalformedFile(f"{key} is not under the folder of dataset {dataset.qualified_name}")
    return key[: match.start() + (1 if key[match.start()] == "/" else 0)]


def lake_folder(lake_dir: Path, dataset: Dataset) -> Path:
    """The dataset's folder in a lake: `<lake>/<domain>/<dataset>/`, laid out as below the landing root."""
    return lake_dir / dataset.domain / dataset.name


def lake_path(lake_dir: Path, dataset: Dataset, key: str) -> Path:
    """The mirror of a landed key: its path below the dataset folder, kept (`dt=.../hh=...`)."""
    match = re.search(dataset_folder_pattern(dataset), key)
    if match is None or not match.group(1):
        raise ValueError(f"{key} is not under the folder of dataset {dataset.qualified_name}")
    return lake_folder(lake_dir, dataset).joinpath(*match.group(1).split("/"))


def mirror_into_lake(dataset: Dataset, local_files: list[LocalFile], lake_dir: Path) -> dict[str, int]:
    """An external dataset's files registered in a local lake (engines without S3 access here):
    each file's layout checked (MalformedFile outside `dt=.../hh=...`), every file validated whole
    (`validated_rows`), then, all valid, each copied to its key's path below the dataset folder,
    written aside then renamed into place (a reader's glob never sees a partial file). A new
    version of a key replaces its mirror. Rows per key."""
    targets = {}
    for local_file in local_files:
        key = local_file.landing_object.key
        try:
            partition_folder(dataset, local_file.landing_object.bucket, landing_root_prefix(dataset, key), key)
        except ValueError as error:
            raise MalformedFile(str(error)) from error
        targets[local_file] = lake_path(lake_dir, dataset, key)
    rows_by_key = validated_rows(dataset, local_files)  # the same whole-file check on every engine
    for local_file, target in targets.items():
        partial = lake_dir / ".incoming" / f"{uuid.uuid4().hex}-{target.name}"
        partial.parent.mkdir(parents=True, exist_ok=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(local_file.path, partial)
        os.replace(partial, target)
    return rows_by_key


__all__ = ["LAKE_SCHEMA_SUFFIX", "PartitionFolder", "dataset_folder_pattern", "lake_folder", "lake_path",
           "lake_table", "landing_root_prefix", "mirror_into_lake", "new_partition_folders", "partition_folder",
           "validated_rows"]
