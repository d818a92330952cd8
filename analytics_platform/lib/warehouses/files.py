"""A landed object on local disk, ready for any warehouse to bulk-load: engine-independent.

Which format a file is (the dataset's `file_format`, else the key's suffix), whether it is gzip
compressed, and which columns it has (read here, before any warehouse sees it) are the same
questions for every engine, so they are answered once.
"""

from __future__ import annotations

import csv
import gzip
import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

import duckdb

from analytics_platform.lib.datasets import LOAD_COLUMNS, SUPPORTED_FORMATS, Dataset, FileFormat
from analytics_platform.lib.objects import LandingObject

RESERVED_COLUMNS = frozenset(name for name, _, _ in LOAD_COLUMNS)
NDJSON = "expected one JSON object per line (NDJSON)"


class MalformedFile(Exception):
    """The file cannot be loaded as its dataset; the message says why, for a person to act on."""


# Errors DuckDB raises for what is in a file (bad syntax, bad values, wrong shape), as opposed to
# the engine failing (I/O, out of memory): only these quarantine a file.
DUCKDB_DATA_ERRORS = (
    duckdb.ConversionException,
    duckdb.InvalidInputException,
    duckdb.BinderException,
    duckdb.ParserException,
)


_scratch_database: duckdb.DuckDBPyConnection | None = None
_scratch_lock = threading.Lock()


@contextmanager
def scratch_duckdb() -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection (in UTC) to an in-memory DuckDB shared by the process, for reading local
    copies: probing a file's columns, validating rows for other engines. Opening a database
    costs ~15 ms, which per landed file was most of the probe of a small one; a cursor is free,
    and each thread (downloads probe in a pool) gets its own."""
    global _scratch_database
    with _scratch_lock:
        if _scratch_database is None:
            _scratch_database = duckdb.connect(":memory:")
        connection = _scratch_database.cursor()
    try:
        connection.execute("SET TimeZone = 'UTC'")
        yield connection
    finally:
        connection.close()


@dataclass(frozen=True)
class LocalFile:
    """A landed object downloaded to `path`, with its columns once read, or why it cannot load."""

    landing_object: LandingObject
    path: Path
    file_format: str
    """csv, json or parquet."""
    options: FileFormat
    compressed: bool = False
    columns: list[str] = field(default_factory=list, hash=False)
    """The file's own column names, in file order."""
    by_normalised_name: dict[str, str] = field(default_factory=dict, hash=False)
    """Stripped, lower-cased name -> the file's own spelling of it."""
    column_types: dict[str, str] = field(default_factory=dict, hash=False)
    """The file's own column name -> DuckDB type as read (VARCHAR for every CSV and JSON column)."""
    problem: MalformedFile | None = field(default=None, hash=False)
    unavailable: str | None = field(default=None, hash=False)
    """Why S3 would not give the listed version (deleted, forbidden, changed since listing):
    not the content's fault, so the file is deferred to a later run, not quarantined."""

    def is_text(self, name: str) -> bool:
        return self.column_types.get(name, "VARCHAR") in ("VARCHAR", "JSON")


def file_format_of(dataset: Dataset, landing_object: LandingObject) -> tuple[str | None, bool]:
    """(csv | json | parquet | None when unsupported, gzip-compressed?) of a landed object."""
    options = dataset.file_format
    path = PurePosixPath(landing_object.key.lower())
    gzipped = path.suffix == ".gz"
    if gzipped:
        path = path.with_suffix("")
    compressed = options.compression == "gzip" or (options.compression == "auto" and gzipped)
    return options.format or SUPPORTED_FORMATS.get(path.suffix), compressed


def inspect(dataset: Dataset, local_file: LocalFile) -> LocalFile:
    """The file with its columns, or with its problem: a header it cannot be loaded under
    (an empty or duplicated name, a reserved load column, a declared column missing)."""
    try:
        column_types = _file_columns(dataset, local_file)
        file_columns = list(column_types)
        by_normalised_name = _check_header(dataset, file_columns)
    except MalformedFile as error:
        return replace(local_file, problem=error)
    return replace(
        local_file, columns=file_columns, by_normalised_name=by_normalised_name, column_types=column_types
    )


def _check_header(dataset: Dataset, file_columns: list[str]) -> dict[str, str]:
    by_normalised_name: dict[str, str] = {}
    for position, name in enumerate(file_columns, start=1):
        normalised = name.strip().lower()
        if not normalised:
            raise MalformedFile(
                f"column {position} of the header has no name (pandas writes its index this way): "
                "name every column, or drop it (to_csv(index=False)), and re-deliver the file"
            )
        if normalised in RESERVED_COLUMNS:
            raise MalformedFile(
                f"column {name!r} is reserved for the loader (_source_key, _source_row and "
                "_loaded_at are added to every row): rename it and re-deliver the file"
            )
        if normalised in by_normalised_name:
            raise MalformedFile(
                f"columns {by_normalised_name[normalised]!r} and {name!r} have the same name "
                "(names are compared trimmed and case-insensitively): rename one and re-deliver the file"
            )
        by_normalised_name[normalised] = name
    missing = [c.name for c in dataset.columns if c.name not in by_normalised_name]
    if missing:
        raise MalformedFile(
            f"missing column(s) {', '.join(missing)}; found {', '.join(file_columns) or 'none'}: "
            "deliver every declared column (docs/CONTRACTS.md) and re-deliver the file"
        )
    return by_normalised_name


def _file_columns(dataset: Dataset, local_file: LocalFile) -> dict[str, str]:
    options = local_file.options
    if local_file.file_format == "csv":
        if not options.header:
            return {c.name: "VARCHAR" for c in dataset.columns}
        # The header is read here rather than sniffed: DuckDB's sniffer can mistake a ragged
        # file for a header-only one and return no rows instead of an error.
        with _open_text(local_file) as handle:
            try:
                header = next(csv.reader(handle, delimiter=options.delimiter, quotechar=options.quote), None)
            except (OSError, EOFError, csv.Error, UnicodeDecodeError) as error:
                raise MalformedFile(
                    f"unreadable CSV file ({error}): deliver UTF-8 text"
                    + (", gzip-compressed as its .gz suffix says" if local_file.compressed else "")
                    + ", and re-deliver the file"
                ) from error
        if not header:
            raise MalformedFile("empty CSV file: no header row; deliver a header line then the rows")
        # A UTF-8 byte order mark (Excel writes one) is not part of the first name.
        return {(name[1:] if i == 0 and name.startswith("\ufeff") else name): "VARCHAR" for i, name in enumerate(header)}
    try:
        with scratch_duckdb() as connection:
            if local_file.file_format == "json":
                return _json_columns(connection, local_file)
            # Parquet carries its column names and types: DuckDB, in memory, reads them for any engine.
            probe = duckdb_reader_sql(local_file, None)
            described = connection.execute(f"DESCRIBE SELECT * FROM {probe}").fetchall()
            return {row[0]: row[1] for row in described}
    except duckdb.Error as error:  # reading a local copy: any failure is the file's
        raise MalformedFile(
            f"unreadable {local_file.file_format} file: {duckdb_reason(error)}"
            + ("; " + NDJSON if local_file.file_format == "json" else "")
            + "; re-deliver a valid file"
        ) from error


def _json_columns(connection: duckdb.DuckDBPyConnection, local_file: LocalFile) -> dict[str, str]:
    """The keys of every object of an NDJSON file, after checking that each line is an object:
    DuckDB's reader would otherwise load a line that is an array or a scalar as the value of a
    column. Keys in the order of the file's most common key list, then the others'."""
    objects = f"read_ndjson_objects({sql_literal(str(local_file.path))}, compression = {_compression(local_file)})"
    # One parallel pass, grouped by key list (usually one group). A line that is not an object
    # has no keys: only then does a second, ordered pass find which line and what it is.
    groups = connection.execute(
        f"SELECT json_keys(json) AS keys, count(*) AS lines FROM {objects} GROUP BY ALL ORDER BY lines DESC, keys"
    ).fetchall()
    rows = sum(count for _, count in groups)
    if rows == 0:
        raise MalformedFile(f"empty JSON file: no rows; {NDJSON}: write one object per line")
    if any(not keys for keys, _ in groups):
        first_bad, bad_type = connection.execute(
            f"""SELECT n, json_type(json) FROM (SELECT json, row_number() OVER () AS n FROM {objects})
                WHERE json_type(json) <> 'OBJECT' ORDER BY n LIMIT 1"""
        ).fetchone() or (None, None)
        if first_bad is not None:  # else the key-less lines were empty objects ({}), which load
            found = {"ARRAY": "a JSON array", "VARCHAR": "a string"}.get(bad_type, f"a JSON {bad_type.lower()}")
            where = "as the whole file" if rows == 1 and bad_type == "ARRAY" else f"at record {first_bad}"
            raise MalformedFile(
                f"{NDJSON}; found {found} {where}: write one object per line and re-deliver the file"
            )
    columns: dict[str, str] = {}
    for keys, _ in groups:
        columns.update({key: "VARCHAR" for key in keys if key not in columns})
    return columns


def _compression(local_file: LocalFile) -> str:
    return sql_literal("gzip" if local_file.compressed else "none")


def integrity_problem(local_file: LocalFile) -> str | None:
    """Why a plain read of the whole file fails (a corrupt gzip stream, text that is not UTF-8),
    or None. Used only after an engine error it could not classify, to tell the file's fault
    from the warehouse's."""
    if local_file.file_format == "parquet" and not local_file.compressed:
        return None
    try:
        if local_file.file_format == "parquet":
            with gzip.open(local_file.path, "rb") as handle:
                while handle.read(1 << 20):
                    pass
            return None
        with _open_text(local_file) as handle:
            while handle.read(1 << 20):
                pass
    except (OSError, EOFError, UnicodeDecodeError) as error:
        kind = "gzip stream" if local_file.compressed else "file"
        return f"unreadable {kind} ({error}): deliver UTF-8 text, gzip-compressed only if the key ends in .gz, and re-deliver the file"
    return None


def _open_text(local_file: LocalFile) -> io.TextIOBase:
    if local_file.compressed:
        return gzip.open(local_file.path, "rt", newline="", encoding="utf-8", errors="strict")
    return local_file.path.open(newline="", encoding="utf-8", errors="strict")


def duckdb_reader_sql(
    local_file: LocalFile,
    columns: list[str] | None,
    read_alike: list[LocalFile] | None = None,
    numbered: bool = False,
) -> str:
    """A DuckDB table function reading the file strictly; every column as text except Parquet's.
    With `read_alike`, it reads those files instead, in their order: files of the same format,
    compression and columns as `local_file` (`duckdb_selects.files_read_alike`). `numbered` (Parquet
    only) adds each row's file name and position in it (`filename`, `file_row_number`).

    Used by the DuckDB loader to load and by every loader to probe JSON and Parquet columns.
    """
    if read_alike:
        location = "[" + ", ".join(sql_literal(str(f.path)) for f in read_alike) + "]"
    else:
        location = sql_literal(str(local_file.path))
    if local_file.file_format == "parquet":
        return f"read_parquet({location}" + (", filename = true, file_row_number = true)" if numbered else ")")
    options = local_file.options
    compression = _compression(local_file)
    as_text = None
    if columns is not None:
        as_text = "{" + ", ".join(f"{sql_literal(c)}: 'VARCHAR'" for c in columns) + "}"
    if local_file.file_format == "csv":
        quote = sql_literal(options.quote)
        return (
            f"read_csv({location}, header = {str(options.header).lower()}, auto_detect = false,"
            f" delim = {sql_literal(options.delimiter)}, quote = {quote}, escape = {quote},"
            f" nullstr = {sql_literal(options.null_string)}, compression = {compression},"
            f" strict_mode = true, columns = {as_text})"
        )
    columns_option = f", columns = {as_text}" if as_text else ""
    return (
        f"read_json({location}, format = 'newline_delimited', compression = {compression}"
        f"{columns_option})"
    )


def duckdb_reason(error: Exception) -> str:
    """DuckDB's message without its hints and SQL excerpt, which speak of our query, not the file."""
    kept = []
    text = str(error).strip()
    for prefix in ("Invalid Input Error: ", "Conversion Error: ", "Binder Error: "):
        text = text.removeprefix(prefix)
    for line in text.splitlines():
        if line.startswith(("Possible fixes", "LINE ", "*")) or len(kept) == 3:
            break
        if line.strip():
            kept.append(line.strip())
    return "; ".join(kept)


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def sql_identifier(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def plan_batches(
    landing_objects: list[LandingObject], max_bytes: int, max_files: int
) -> list[list[LandingObject]]:
    """Consecutive runs of files, in the order given, capped by total size and count."""
    batches: list[list[LandingObject]] = []
    batch_bytes = 0
    for landing_object in landing_objects:
        if (
            not batches
            or len(batches[-1]) >= max_files
            or batch_bytes + landing_object.size > max_bytes
        ):
            batches.append([])
            batch_bytes = 0
        batches[-1].append(landing_object)
        batch_bytes += landing_object.size
    return [batch for batch in batches if batch]
