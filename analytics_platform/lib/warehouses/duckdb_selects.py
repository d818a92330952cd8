"""The SELECTs that turn landed files into raw rows, in DuckDB SQL: typed, cast losslessly
(duckdb_casts.py) and numbered by their position in their file (`_source_row`).

The DuckDB loader inserts them; the PostgreSQL and Spark loaders and the external-dataset check
run the same SELECT on an in-memory DuckDB, so every warehouse types a file the same way.
"""

from __future__ import annotations

from analytics_platform.lib.datasets import Dataset
from analytics_platform.lib.warehouses.duckdb_casts import typed_value_sql
from analytics_platform.lib.warehouses.files import (
    LocalFile,
    duckdb_reader_sql,
    sql_identifier,
    sql_literal,
)


def typed_file_select_sql(dataset: Dataset, local_file: LocalFile, extra: list[str], loaded_at_sql: str) -> str:
    """One file's rows as the raw table's columns (`extra` columns it lacks are NULL), numbered
    in file order: by the Parquet reader, else by a streaming row_number() over the file's read."""
    if numbered_by_reader(local_file):
        return parquet_files_select_sql(dataset, [local_file], extra, loaded_at_sql)
    reader = duckdb_reader_sql(local_file, local_file.columns)
    numbered = (
        f"SELECT *, row_number() OVER () AS __row_number, "
        f"{sql_literal(local_file.landing_object.key)} AS __source_key FROM {reader}"
    )
    return typed_select_sql(dataset, local_file, extra, loaded_at_sql, numbered)


def staged_files_select_sql(
    dataset: Dataset, local_files: list[LocalFile], extra: list[str], loaded_at_sql: str, staged: str
) -> str:
    """The rows of files read alike (`files_read_alike`), copied in order into the table
    `staged` with their file's position in `local_files` (`__file_index`): a row's position in
    its file is its rowid less the rowid of its file's first row."""
    keys = "[" + ", ".join(sql_literal(f.landing_object.key) for f in local_files) + "]"
    numbered = (
        f"SELECT staged.* EXCLUDE (__file_index), staged.rowid - firsts.first_rowid + 1 AS __row_number, "
        f"{keys}[CAST(staged.__file_index AS BIGINT) + 1] AS __source_key "
        f"FROM {staged} AS staged JOIN (SELECT __file_index, min(rowid) AS first_rowid FROM {staged} "
        f"GROUP BY __file_index) AS firsts ON firsts.__file_index = staged.__file_index"
    )
    return typed_select_sql(dataset, local_files[0], extra, loaded_at_sql, numbered)


# The columns the Parquet reader adds to number rows by file (parquet_files_select_sql).
_PARQUET_NUMBERING_COLUMNS = {"filename", "file_row_number"}


def numbered_by_reader(local_file: LocalFile) -> bool:
    """Whether the reader itself numbers the file's rows: Parquet, unless the file has a column
    of the name the reader would add."""
    return local_file.file_format == "parquet" and not (
        _PARQUET_NUMBERING_COLUMNS & {c.lower() for c in local_file.columns}
    )


def parquet_files_select_sql(
    dataset: Dataset, local_files: list[LocalFile], extra: list[str], loaded_at_sql: str
) -> str:
    """The rows of Parquet files read alike, numbered by the reader's file_row_number (from 0)
    and keyed by the reader's filename: no staging copy, and the read runs in parallel."""
    reader = duckdb_reader_sql(local_files[0], None, local_files, numbered=True)
    paths = "[" + ", ".join(sql_literal(str(f.path)) for f in local_files) + "]"
    keys = "[" + ", ".join(sql_literal(f.landing_object.key) for f in local_files) + "]"
    numbered = (
        f"SELECT * EXCLUDE (filename, file_row_number), file_row_number + 1 AS __row_number, "
        f"{keys}[list_position({paths}, filename)] AS __source_key FROM {reader}"
    )
    return typed_select_sql(dataset, local_files[0], extra, loaded_at_sql, numbered)


# Columns the staged read adds or numbers rows by (DuckDB's virtual columns, the staging table's
# own; a column named rowid hides a table's row ids): a file with a column of one of these
# names is read on its own.
_STAGING_COLUMNS = {"file_index", "filename", "__file_index", "rowid"}


def files_read_alike(local_files: list[LocalFile]) -> list[list[LocalFile]]:
    """The files grouped so that one multi-file read reads each group: same format, compression
    and columns (names and, for Parquet, types), in their order."""
    groups: dict[tuple, list[LocalFile]] = {}
    for position, local_file in enumerate(local_files):
        if _STAGING_COLUMNS & {c.lower() for c in local_file.columns}:
            shape: tuple = ("alone", position)
        else:
            shape = (
                local_file.file_format,
                local_file.compressed,
                tuple(local_file.columns),
                tuple(local_file.column_types.items()) if local_file.file_format == "parquet" else (),
            )
        groups.setdefault(shape, []).append(local_file)
    return list(groups.values())


def typed_select_sql(
    dataset: Dataset, local_file: LocalFile, extra: list[str], loaded_at_sql: str, numbered: str
) -> str:
    """The raw table's columns from `numbered`: the rows of `local_file` (or of files read like
    it) with __row_number, their position in their file, and __source_key, their file's key.

    Three levels over those rows: the landed values, their casts, then the checked values (see
    `TypedValueSql`)."""
    names = local_file.by_normalised_name
    typed = [
        typed_value_sql(
            c, names[c.name], local_file.is_text(names[c.name]), local_file.options.timestamp_format, f"__c{i}"
        )
        for i, c in enumerate(dataset.columns)
    ]
    landed = [f"{t.landed} AS {sql_identifier(f'__c{i}_landed')}" for i, t in enumerate(typed)]
    landed += [
        f"CAST({sql_identifier(names[name])} AS VARCHAR) AS {sql_identifier(f'__x{i}')}"
        for i, name in enumerate(extra) if name in names
    ]
    parsed = [f"{t.parsed} AS {sql_identifier(f'__c{i}_parsed')}" for i, t in enumerate(typed) if t.parsed]
    values = [t.value for t in typed]
    values += [sql_identifier(f"__x{i}") if name in names else "NULL" for i, name in enumerate(extra)]
    values += ["__source_key", "__row_number", loaded_at_sql]
    return (
        f"(SELECT {', '.join(values)} FROM "
        f"(SELECT *{''.join(', ' + p for p in parsed)} FROM "
        f"(SELECT {', '.join(landed)}, __row_number, __source_key FROM ({numbered}))))"
    )
