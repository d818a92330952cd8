"""Loads landed files into a local DuckDB warehouse.

DuckDB here has no `httpfs` extension (it would download at run time), so each object is streamed
from S3 to a temporary file and read from there: memory stays bounded by DuckDB's streaming
readers, not by the file size.
"""

from __future__ import annotations

import csv
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from analytics_platform.landing.datasets import DATASETS, LOAD_COLUMNS, Column, Dataset
from analytics_platform.landing.loaders.base import LoadOutcome, MalformedFile, WarehouseLoader
from analytics_platform.landing.objects import LandingObject

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


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckDBLoader(WarehouseLoader):
    def __init__(self, database_path: Path):
        database_path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = duckdb.connect(str(database_path))
        # Naive timestamps in files are UTC by contract; parse them as such whatever the host's zone.
        self._connection.execute("SET TimeZone = 'UTC'")
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

    def load(self, dataset: Dataset, landing_object: LandingObject, s3_client, run_id: str) -> LoadOutcome:
        file_format = landing_object.file_format
        if file_format is None:
            return self.quarantine(
                dataset, landing_object, "unsupported file type (expected .csv, .json or .parquet)", run_id
            )
        with tempfile.TemporaryDirectory(prefix="analytics-landing-") as tmp:
            local_path = Path(tmp) / f"object.{file_format}"
            with local_path.open("wb") as handle:
                s3_client.download_fileobj(landing_object.bucket, landing_object.key, handle)
            try:
                return self._insert_file(dataset, landing_object, local_path, file_format, run_id)
            except MalformedFile as error:
                # DuckDB names the temporary copy; the person reading the reason knows the key.
                reason = str(error).replace(f' in file "{local_path}"', "").replace(str(local_path), "<file>")
                return self.quarantine(dataset, landing_object, " ".join(reason.split()), run_id)

    def quarantine(self, dataset: Dataset, landing_object: LandingObject, reason: str, run_id: str) -> LoadOutcome:
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

    def _insert_file(
        self, dataset: Dataset, landing_object: LandingObject, path: Path, file_format: str, run_id: str
    ) -> LoadOutcome:
        con = self._connection
        file_columns = self._file_columns(path, file_format)
        reader = _reader_sql(path, file_format, file_columns)
        by_normalised_name = {name.strip().lower(): name for name in file_columns}
        missing = [c.name for c in dataset.columns if c.name not in by_normalised_name]
        if missing:
            raise MalformedFile(
                f"missing column(s) {', '.join(missing)}; found {', '.join(file_columns) or 'none'}"
            )
        extra = sorted(
            name for name in by_normalised_name if name not in {c.name for c in dataset.columns}
            and not name.startswith("_")
        )
        loaded_at = _utc_now()
        con.execute("BEGIN TRANSACTION")
        try:
            # A column that appears in newer files flows through as text rather than failing the
            # load; dbt decides what to do with it.
            table_columns = {row[0] for row in con.execute(f"DESCRIBE {dataset.raw_table}").fetchall()}
            for name in extra:
                if name not in table_columns:
                    con.execute(f"ALTER TABLE {dataset.raw_table} ADD COLUMN {_quote(name)} VARCHAR")
            targets = [c.name for c in dataset.columns] + extra + [n for n, _, _ in LOAD_COLUMNS]
            selects = [_typed(c, by_normalised_name[c.name]) for c in dataset.columns]
            selects += [f"CAST({_quote(by_normalised_name[name])} AS VARCHAR)" for name in extra]
            selects += [_literal(landing_object.key), "__row_number", f"TIMESTAMP {_literal(loaded_at.isoformat(sep=' '))}"]
            rows = con.execute(
                f"""INSERT INTO {dataset.raw_table} ({", ".join(map(_quote, targets))})
                    SELECT {", ".join(selects)}
                    FROM (SELECT *, row_number() OVER () AS __row_number FROM {reader})"""
            ).fetchone()[0]
            self._record_in_ledger(dataset, landing_object, rows, loaded_at, run_id)
            con.execute("COMMIT")
        except _DATA_ERRORS as error:
            con.execute("ROLLBACK")
            raise MalformedFile(_reason(error)) from error
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return LoadOutcome(landing_object, rows=rows)

    def _record_in_ledger(
        self, dataset: Dataset, landing_object: LandingObject, rows: int, loaded_at: datetime, run_id: str
    ) -> None:
        self._connection.execute(
            f"INSERT INTO {LEDGER_TABLE} VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            [
                dataset.name,
                landing_object.key,
                landing_object.etag,
                landing_object.size,
                _as_utc_naive(landing_object.last_modified),
                rows,
                loaded_at,
                run_id,
            ],
        )

    def _file_columns(self, path: Path, file_format: str) -> list[str]:
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
            return [row[0] for row in self._connection.execute(f"DESCRIBE SELECT * FROM {probe}").fetchall()]
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
