"""Loads landed files into a local DuckDB warehouse.

DuckDB here has no `httpfs` extension (it would download at run time), so each object is streamed
from S3 to a temporary file and read from there: memory stays bounded by DuckDB's streaming
readers and its `memory_limit`, not by the file size. Files are loaded in batches (see
`DuckDBLoader.load_in_batches`).
"""

from __future__ import annotations

import csv
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from analytics_platform.lib.datasets import DATASETS, LOAD_COLUMNS, Column, Dataset
from analytics_platform.lib.objects import LandingObject
from analytics_platform.lib.warehouses.base import LoadOutcome, MalformedFile, WarehouseLoader

LEDGER_TABLE = "raw._ingestion_ledger"
QUARANTINE_TABLE = "raw._ingestion_quarantine"

# Errors DuckDB raises for what is in a file (bad syntax, bad values, wrong shape), as opposed to
# the warehouse failing (I/O, out of memory): only these quarantine a file; the others fail the
# run and leave the file to be retried.
_DATA_ERRORS = (
    duckdb.ConversionException,
    duckdb.InvalidInputException,
    duckdb.BinderException,
)


# Each batch is committed whole; its files are downloaded to local disk (not memory) while the
# previous batch loads, so at most two batches' bytes are on disk at once.
BATCH_MAX_BYTES = 32 * 1024 * 1024
BATCH_MAX_FILES = 32
DOWNLOAD_THREADS = 4
# DuckDB otherwise lets its buffer pool grow to 80% of RAM before spilling to `<warehouse>.tmp`:
# a 0.92 GB CSV peaked at 531 MiB RSS without a limit, ~445 MiB with 256 MB, ~320 MiB with
# 128 MB (slower: benchmarks/ingest_memory.py).
DEFAULT_MEMORY_LIMIT = "256MB"


@dataclass(frozen=True)
class _LocalFile:
    """A landed object downloaded to `path`, with its columns once read, or why it cannot load."""

    landing_object: LandingObject
    path: Path
    columns: list[str] = field(default_factory=list, hash=False)
    by_normalised_name: dict[str, str] = field(default_factory=dict, hash=False)
    problem: MalformedFile | None = field(default=None, hash=False)

    @property
    def file_format(self) -> str:
        return self.landing_object.file_format


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckDBLoader(WarehouseLoader):
    batch_max_bytes = BATCH_MAX_BYTES
    batch_max_files = BATCH_MAX_FILES

    def __init__(self, database_path: Path, memory_limit: str = DEFAULT_MEMORY_LIMIT):
        database_path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = duckdb.connect(str(database_path))
        # Naive timestamps in files are UTC by contract; parse them as such whatever the host's zone.
        self._connection.execute("SET TimeZone = 'UTC'")
        self._connection.execute(f"SET memory_limit = {_literal(memory_limit)}")
        # preserve_insertion_order stays on (the default): _source_row is a row_number() over the
        # scan, which is the row's position in its file only if the scan keeps file order.
        self._create_tables()

    def close(self) -> None:
        self._connection.close()

    def _create_tables(self) -> None:
        con = self._connection
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        con.execute(
            f"""CREATE TABLE IF NOT EXISTS {LEDGER_TABLE} (
                dataset VARCHAR NOT NULL, s3_key VARCHAR NOT NULL, etag VARCHAR NOT NULL,
                size_bytes BIGINT, last_modified TIMESTAMP, rows BIGINT NOT NULL,
                loaded_at TIMESTAMP NOT NULL, run_id VARCHAR,
                PRIMARY KEY (s3_key, etag))"""
        )
        con.execute(
            f"""CREATE TABLE IF NOT EXISTS {QUARANTINE_TABLE} (
                dataset VARCHAR NOT NULL, s3_key VARCHAR NOT NULL, etag VARCHAR NOT NULL,
                size_bytes BIGINT, last_modified TIMESTAMP, reason VARCHAR NOT NULL,
                quarantined_at TIMESTAMP NOT NULL, run_id VARCHAR,
                PRIMARY KEY (s3_key, etag))"""
        )
        for dataset in DATASETS:
            columns = [(c.name, c.sql_type) for c in dataset.columns]
            columns += [(name, sql_type) for name, sql_type, _ in LOAD_COLUMNS]
            ddl = ", ".join(f"{_quote(name)} {sql_type}" for name, sql_type in columns)
            con.execute(f"CREATE TABLE IF NOT EXISTS {dataset.raw_table} ({ddl})")

    def settled_files(self, dataset: Dataset) -> set[tuple[str, str]]:
        rows = self._connection.execute(
            f"""SELECT s3_key, etag FROM {LEDGER_TABLE} WHERE dataset = $1
                UNION ALL SELECT s3_key, etag FROM {QUARANTINE_TABLE} WHERE dataset = $1""",
            [dataset.name],
        ).fetchall()
        return set(rows)

    def row_count(self, dataset: Dataset) -> int:
        return self._connection.execute(f"SELECT count(*) FROM {dataset.raw_table}").fetchone()[0]

    def load(
        self, dataset: Dataset, landing_object: LandingObject, s3_client, run_id: str
    ) -> LoadOutcome:
        [[outcome]] = self.load_in_batches(dataset, [landing_object], s3_client, run_id)
        return outcome

    def load_in_batches(
        self, dataset: Dataset, landing_objects: Iterable[LandingObject], s3_client, run_id: str
    ) -> Iterator[list[LoadOutcome]]:
        """Settle the files a batch at a time: one INSERT and one commit for all the files of a
        batch, their ledger rows included, while the next batch downloads.

        The fixed cost per file (a download round trip, a transaction and its commit) is what made
        file-by-file loading slow, not reading the files. A batch that raises a data error is
        rolled back and retried file by file, so only the bad file is quarantined.
        """
        batches = _plan_batches(list(landing_objects), self.batch_max_bytes, self.batch_max_files)
        with tempfile.TemporaryDirectory(prefix="analytics-landing-") as tmp:
            pool = ThreadPoolExecutor(DOWNLOAD_THREADS, thread_name_prefix="landing-download")
            try:
                fetches = [
                    self._start_fetches(pool, dataset, s3_client, batch, Path(tmp))
                    for batch in batches[:1]
                ]
                for number, batch in enumerate(batches):
                    if number + 1 < len(batches):
                        # The next batch downloads (and its files are inspected) while DuckDB
                        # loads this one.
                        fetches.append(
                            self._start_fetches(
                                pool, dataset, s3_client, batches[number + 1], Path(tmp)
                            )
                        )
                    local_files = {obj: future.result() for obj, future in fetches[number].items()}
                    try:
                        yield self._load_batch(dataset, batch, local_files, run_id)
                    finally:
                        for local_file in local_files.values():
                            local_file.path.unlink(missing_ok=True)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)

    def _start_fetches(
        self,
        pool: ThreadPoolExecutor,
        dataset: Dataset,
        s3_client,
        batch: list[LandingObject],
        folder: Path,
    ) -> dict[LandingObject, Future]:
        return {
            obj: pool.submit(
                self._fetch,
                dataset,
                s3_client,
                obj,
                folder / f"{uuid.uuid4().hex}.{obj.file_format}",
            )
            for obj in batch
            if obj.file_format is not None
        }

    def _fetch(
        self, dataset: Dataset, s3_client, landing_object: LandingObject, path: Path
    ) -> _LocalFile:
        """Download the object to `path` and read its columns (runs in a download thread)."""
        with path.open("wb") as handle:
            s3_client.download_fileobj(landing_object.bucket, landing_object.key, handle)
        local_file = _LocalFile(landing_object, path)
        # A cursor is a connection of its own: safe beside the main thread's open transaction.
        with self._connection.cursor() as cursor:
            try:
                return self._inspect(cursor, dataset, local_file)
            except MalformedFile as error:
                return replace(local_file, problem=error)

    def quarantine(
        self, dataset: Dataset, landing_object: LandingObject, reason: str, run_id: str
    ) -> LoadOutcome:
        self._connection.execute(
            f"INSERT OR REPLACE INTO {QUARANTINE_TABLE} VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            [
                dataset.name,
                landing_object.key,
                landing_object.etag,
                landing_object.size,
                _as_utc_naive(landing_object.last_modified),
                reason,
                _utc_now(),
                run_id,
            ],
        )
        return LoadOutcome(landing_object, quarantine_reason=reason)

    def _load_batch(
        self,
        dataset: Dataset,
        batch: list[LandingObject],
        local_files: dict[LandingObject, _LocalFile],
        run_id: str,
    ) -> list[LoadOutcome]:
        outcomes: dict[LandingObject, LoadOutcome] = {}
        readable: list[_LocalFile] = []
        for landing_object in batch:
            local_file = local_files.get(landing_object)
            if local_file is None:
                outcomes[landing_object] = self.quarantine(
                    dataset,
                    landing_object,
                    "unsupported file type (expected .csv, .json or .parquet)",
                    run_id,
                )
            elif local_file.problem is not None:
                outcomes[landing_object] = self._quarantine_file(
                    dataset, local_file, local_file.problem, run_id
                )
            else:
                readable.append(local_file)
        if len(readable) > 1:
            try:
                outcomes.update(self._insert_files(dataset, readable, run_id))
                readable = []
            except MalformedFile:
                pass  # some file of the batch is bad: find which, file by file, below
        for local_file in readable:
            try:
                outcomes.update(self._insert_files(dataset, [local_file], run_id))
            except MalformedFile as error:
                outcomes[local_file.landing_object] = self._quarantine_file(
                    dataset, local_file, error, run_id
                )
        return [outcomes[landing_object] for landing_object in batch]

    def _quarantine_file(
        self, dataset: Dataset, local_file: _LocalFile, error: MalformedFile, run_id: str
    ) -> LoadOutcome:
        # DuckDB names the temporary copy; the person reading the reason knows the key.
        path = str(local_file.path)
        reason = str(error).replace(f' in file "{path}"', "").replace(path, "<file>")
        return self.quarantine(dataset, local_file.landing_object, " ".join(reason.split()), run_id)

    @staticmethod
    def _inspect(connection, dataset: Dataset, local_file: _LocalFile) -> _LocalFile:
        """The file with its columns, or MalformedFile if it lacks a column the dataset requires."""
        file_columns = _file_columns(connection, local_file.path, local_file.file_format)
        by_normalised_name = {name.strip().lower(): name for name in file_columns}
        missing = [c.name for c in dataset.columns if c.name not in by_normalised_name]
        if missing:
            raise MalformedFile(
                f"missing column(s) {', '.join(missing)}; found {', '.join(file_columns) or 'none'}"
            )
        return replace(local_file, columns=file_columns, by_normalised_name=by_normalised_name)

    def _insert_files(
        self, dataset: Dataset, local_files: list[_LocalFile], run_id: str
    ) -> dict[LandingObject, LoadOutcome]:
        """Every row of the files and their ledger rows, in one transaction: all of it or none."""
        con = self._connection
        known = {c.name for c in dataset.columns}
        extra = sorted(
            {
                name
                for f in local_files
                for name in f.by_normalised_name
                if name not in known and not name.startswith("_")
            }
        )
        loaded_at = _utc_now()
        loaded_at_sql = f"TIMESTAMP {_literal(loaded_at.isoformat(sep=' '))}"
        con.execute("BEGIN TRANSACTION")
        try:
            # A column that appears in newer files flows through as text rather than failing the
            # load; dbt decides what to do with it.
            table_columns = {
                row[0] for row in con.execute(f"DESCRIBE {dataset.raw_table}").fetchall()
            }
            for name in extra:
                if name not in table_columns:
                    con.execute(
                        f"ALTER TABLE {dataset.raw_table} ADD COLUMN {_quote(name)} VARCHAR"
                    )
            targets = [c.name for c in dataset.columns] + extra + [n for n, _, _ in LOAD_COLUMNS]
            # One SELECT per file, glued with UNION ALL: each numbers its rows with a streaming
            # row_number() in file order. A single multi-file read_csv(..., filename = true) would
            # need a blocking window (the batch held in memory: twice the peak RSS, measured) to restart
            # the numbering per file, and the CSV and JSON readers have no file_row_number.
            selects = " UNION ALL ".join(
                _select_file(dataset, f, extra, loaded_at_sql) for f in local_files
            )
            total_rows = con.execute(
                f"INSERT INTO {dataset.raw_table} ({', '.join(map(_quote, targets))}) {selects}"
            ).fetchone()[0]
            if len(local_files) == 1:
                rows_by_key = {local_files[0].landing_object.key: total_rows}
            else:
                rows_by_key = dict(
                    con.execute(
                        f"""SELECT _source_key, count(*) FROM {dataset.raw_table}
                            WHERE _loaded_at = $1 AND _source_key IN (SELECT unnest($2::VARCHAR[]))
                            GROUP BY _source_key""",
                        [loaded_at, [f.landing_object.key for f in local_files]],
                    ).fetchall()
                )
            loaded = [
                (f.landing_object, rows_by_key.get(f.landing_object.key, 0)) for f in local_files
            ]
            self._record_in_ledger(dataset, loaded, loaded_at, run_id)
            con.execute("COMMIT")
        except _DATA_ERRORS as error:
            con.execute("ROLLBACK")
            raise MalformedFile(_reason(error)) from error
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return {
            landing_object: LoadOutcome(landing_object, rows=rows)
            for landing_object, rows in loaded
        }

    def _record_in_ledger(
        self,
        dataset: Dataset,
        loaded: list[tuple[LandingObject, int]],
        loaded_at: datetime,
        run_id: str,
    ) -> None:
        """One ledger row per file, (file, rows); called inside the transaction that inserted them."""
        self._connection.executemany(
            f"INSERT INTO {LEDGER_TABLE} VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            [
                [
                    dataset.name,
                    landing_object.key,
                    landing_object.etag,
                    landing_object.size,
                    _as_utc_naive(landing_object.last_modified),
                    rows,
                    loaded_at,
                    run_id,
                ]
                for landing_object, rows in loaded
            ],
        )


def _file_columns(connection, path: Path, file_format: str) -> list[str]:
    if file_format == "csv":
        # The header is read here rather than sniffed: DuckDB's sniffer can mistake a
        # ragged file for a header-only one and return no rows instead of an error.
        with path.open(newline="", encoding="utf-8", errors="replace") as handle:
            header = next(csv.reader(handle), None)
        if not header:
            raise MalformedFile("empty CSV file: no header row")
        return header
    probe = _reader_sql(path, file_format, None)
    try:
        return [row[0] for row in connection.execute(f"DESCRIBE SELECT * FROM {probe}").fetchall()]
    except _DATA_ERRORS as error:
        raise MalformedFile(f"unreadable {file_format} file: {_reason(error)}") from error


def _reader_sql(path: Path, file_format: str, columns: list[str] | None) -> str:
    """A DuckDB table function reading the file strictly; every column as text except Parquet's."""
    location = _literal(str(path))
    if file_format == "parquet":
        return f"read_parquet({location})"
    as_text = None
    if columns is not None:
        as_text = "{" + ", ".join(f"{_literal(c)}: 'VARCHAR'" for c in columns) + "}"
    if file_format == "csv":
        return (
            f"read_csv({location}, header = true, auto_detect = false, delim = ',', quote = '\"',"
            f" escape = '\"', strict_mode = true, columns = {as_text})"
        )
    options = f", columns = {as_text}" if as_text else ""
    return f"read_json({location}, format = 'newline_delimited'{options})"


def _select_file(
    dataset: Dataset, local_file: _LocalFile, extra: list[str], loaded_at_sql: str
) -> str:
    """One file's rows as the raw table's columns (`extra` columns it lacks are NULL)."""
    names = local_file.by_normalised_name
    selects = [_typed(c, names[c.name]) for c in dataset.columns]
    selects += [
        f"CAST({_quote(names[name])} AS VARCHAR)" if name in names else "NULL" for name in extra
    ]
    selects += [_literal(local_file.landing_object.key), "__row_number", loaded_at_sql]
    reader = _reader_sql(local_file.path, local_file.file_format, local_file.columns)
    return f"(SELECT {', '.join(selects)} FROM (SELECT *, row_number() OVER () AS __row_number FROM {reader}))"


def _plan_batches(
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


def _typed(column: Column, source_name: str) -> str:
    source = _quote(source_name)
    if column.sql_type == "VARCHAR":
        value = f"CAST({source} AS VARCHAR)"
    elif column.sql_type == "TIMESTAMP":
        # Offsets in the text ("+02:00") are honoured; naive values are UTC (session zone).
        value = f"CAST(CAST({source} AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP)"
    else:
        value = f"CAST({source} AS {column.sql_type})"
    if column.required:
        message = _literal(f"column {column.name} is empty in row ")
        value = f"CASE WHEN {source} IS NULL THEN error({message} || __row_number) ELSE {value} END"
    return value


def _reason(error: Exception) -> str:
    """DuckDB's message without its hints and SQL excerpt, which speak of our query, not the file."""
    kept = []
    for line in str(error).strip().splitlines():
        if line.startswith(("Possible fixes", "LINE ", "*")) or len(kept) == 3:
            break
        if line.strip():
            kept.append(line.strip())
    return "; ".join(kept)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _as_utc_naive(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment
