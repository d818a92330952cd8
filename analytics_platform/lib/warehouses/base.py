"""The one interface between ingestion and a warehouse, and everything about loading that does
not depend on the engine.

A loader owns the raw tables and two bookkeeping tables in the warehouse: the ledger of loaded
files and the quarantine of rejected ones. A file is *settled* once it is in either. Its rows and
its ledger row are written in one transaction, so a crash or a retry can neither duplicate nor
lose a file. Files are settled in batches (one transaction per batch) while the next batch
downloads; a batch that fails on a data error is rolled back and retried file by file, so only the
bad file is quarantined.

What happens to each file, the same for every engine and format (docs/CONTRACTS.md):
- loaded: every row, each value cast losslessly to its declared type, with one ledger row;
- quarantined: the content cannot be loaded as declared; the reason names the file, the row or
  column when known, and what to do. Settled: a corrected file is a re-delivery;
- deferred: S3 would not give the listed version (deleted, forbidden, changed since listing).
  Recorded in the deferral table, not settled: every later run tries it again;
- re-delivered (same key, new ETag): the new version replaces the key's rows in the raw table,
  in the transaction that inserts them; the ledger keeps the old version, marked superseded.

This class does the planning, downloading, header probing, retrying and quarantine reasons. A
warehouse (DuckDB, PostgreSQL, Redshift `COPY`, Databricks `COPY INTO`) is a subclass that
implements only its engine's part, the abstract methods below, and is registered in
`analytics_platform.lib.warehouses.WAREHOUSES`.
"""

from __future__ import annotations

import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from typing_extensions import Self

from analytics_platform.lib.datasets import Dataset
from analytics_platform.lib.objects import LandingObject
from analytics_platform.lib.warehouses.downloads import start_fetches
from analytics_platform.lib.warehouses.files import (
    LocalFile,
    MalformedFile,
    integrity_problem,
    plan_batches,
)

# The bookkeeping tables every loader keeps beside the raw tables (same names and columns on
# every engine; `bookkeeping_ddl` creates them).
LEDGER_SCHEMA = "raw"
LEDGER_TABLE = f"{LEDGER_SCHEMA}._ingestion_ledger"
QUARANTINE_TABLE = f"{LEDGER_SCHEMA}._ingestion_quarantine"
DEFERRED_TABLE = f"{LEDGER_SCHEMA}._ingestion_deferred"


def bookkeeping_ddl(text_type: str = "VARCHAR", table_clause: str | None = None) -> list[str]:
    """The statements that create the ledger, deferral and quarantine tables if missing, in SQL
    every supported engine accepts (`text_type`: the engine's string type). One file version
    (key, ETag) is one row in each: a PRIMARY KEY (s3_key, etag), or, given `table_clause`
    (Spark: "USING parquet", whose tables take no key constraint), that clause instead and the
    loader keeps the key unique itself."""
    key = ", PRIMARY KEY (s3_key, etag))" if table_clause is None else f") {table_clause}"
    file_columns = (
        f"dataset {text_type} NOT NULL, s3_key {text_type} NOT NULL, etag {text_type} NOT NULL, "
        "size_bytes BIGINT, last_modified TIMESTAMP"
    )
    ledger = (
        f"CREATE TABLE IF NOT EXISTS {LEDGER_TABLE} ({file_columns}, rows BIGINT NOT NULL, "
        f"loaded_at TIMESTAMP NOT NULL, run_id {text_type}, superseded_at TIMESTAMP{key}"
    )
    deferred = (
        f"CREATE TABLE IF NOT EXISTS {DEFERRED_TABLE} ({file_columns}, reason {text_type} NOT NULL, "
        "first_deferred_at TIMESTAMP NOT NULL, deferred_at TIMESTAMP NOT NULL, "
        f"attempts INTEGER NOT NULL, run_id {text_type}{key}"
    )
    quarantine = (
        f"CREATE TABLE IF NOT EXISTS {QUARANTINE_TABLE} ({file_columns}, reason {text_type} NOT NULL, "
        f"quarantined_at TIMESTAMP NOT NULL, run_id {text_type}{key}"
    )
    return [f"CREATE SCHEMA IF NOT EXISTS {LEDGER_SCHEMA}", ledger, deferred, quarantine]

# Each batch is committed whole; its files are downloaded to local disk (not memory) while the
# previous batch loads, so at most two batches' bytes are on disk at once.
BATCH_MAX_BYTES = 32 * 1024 * 1024
BATCH_MAX_FILES = 32
DOWNLOAD_THREADS = 4
UNSUPPORTED_FILE = (
    "unsupported file type (expected .csv, .json, .jsonl or .parquet, optionally .gz): "
    "re-deliver it under one of those suffixes"
)


@dataclass(frozen=True)
class LoadOutcome:
    landing_object: LandingObject
    rows: int = 0
    quarantine_reason: str | None = None
    deferred_reason: str | None = None
    """Set when S3 would not give the listed version: the file is tried again by a later run."""

    @property
    def loaded(self) -> bool:
        return self.quarantine_reason is None and self.deferred_reason is None


class WarehouseConfig(Protocol):
    """What a loader is opened from: `Settings` and `WarehouseResource` both have these fields;
    a new engine adds the ones it needs to both."""

    @property
    def warehouse_type(self) -> str: ...

    @property
    def duckdb_path(self) -> Path | str: ...


@dataclass(frozen=True)
class QuarantinedFile:
    quarantined_at: datetime
    dataset: str
    key: str
    etag: str
    reason: str


@dataclass(frozen=True)
class DeferredFile:
    deferred_at: datetime
    dataset: str
    key: str
    etag: str
    reason: str
    attempts: int


class WarehouseLoader(ABC):
    """Loads landed files into one warehouse. Subclasses implement the abstract methods only."""

    batch_max_bytes = BATCH_MAX_BYTES
    batch_max_files = BATCH_MAX_FILES
    data_errors: tuple[type[BaseException], ...] = ()
    """The engine's exceptions that mean "this file's content is bad" (quarantine it), as opposed
    to the warehouse failing (raise; the file stays unsettled and the next run retries it)."""

    def __init__(self) -> None:
        self._raw_tables_ready: set[str] = set()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- the engine's part -------------------------------------------------------------------

    @classmethod
    @abstractmethod
    def from_config(cls, config: WarehouseConfig) -> Self:
        """Connect to the configured warehouse and create the ledger and quarantine if missing."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def _create_raw_table(self, dataset: Dataset) -> None:
        """Create the dataset's raw schema and table if missing (its columns + LOAD_COLUMNS)."""

    @abstractmethod
    def _begin(self) -> None: ...

    @abstractmethod
    def _commit(self) -> None: ...

    @abstractmethod
    def _rollback(self) -> None: ...

    @abstractmethod
    def _insert_files(
        self, dataset: Dataset, local_files: list[LocalFile], loaded_at: datetime
    ) -> dict[str, int]:
        """Bulk-load the files' rows into the raw table, inside the open transaction; rows per key.

        Every row gets `_source_key`, `_source_row` (its 1-based position in its file) and
        `_loaded_at`. Columns a file has beyond the declared ones are added to the table as text.
        """

    @abstractmethod
    def _record_in_ledger(
        self,
        dataset: Dataset,
        loaded: list[tuple[LandingObject, int]],
        loaded_at: datetime,
        run_id: str,
    ) -> None:
        """One ledger row per (file, rows); called inside the transaction that inserted them."""

    @abstractmethod
    def _record_quarantine(
        self, dataset: Dataset, landing_object: LandingObject, reason: str, at: datetime, run_id: str
    ) -> None:
        """One quarantine row (replacing any for the same key and etag), inside a transaction."""

    @abstractmethod
    def _supersede(self, dataset: Dataset, keys: list[str], at: datetime) -> None:
        """Delete the raw rows of `keys` and mark their ledger rows superseded, inside the
        transaction that is about to insert the keys' new versions."""

    @abstractmethod
    def _record_deferral(
        self, dataset: Dataset, landing_object: LandingObject, reason: str, at: datetime, run_id: str
    ) -> None:
        """Record (or count one more attempt of) a file S3 would not give; settling the same
        (key, etag) later, in the ledger or the quarantine, removes its deferral row."""

    # --- reads: standard SQL over the bookkeeping tables, the same on every engine -------------

    @abstractmethod
    def _query(self, sql: str) -> list[tuple]:
        """The rows of one read-only statement, as tuples."""

    def _literal(self, value: str) -> str:
        """`value` as an SQL string literal (engines with other escaping override it)."""
        return "'" + value.replace("'", "''") + "'"

    def deferred_files(self) -> list[DeferredFile]:
        """Every file currently deferred, oldest first."""
        rows = self._query(
            f"SELECT deferred_at, dataset, s3_key, etag, reason, attempts FROM {DEFERRED_TABLE} "
            "ORDER BY deferred_at, s3_key"
        )
        return [DeferredFile(*row) for row in rows]

    def settled_files(self, dataset: Dataset) -> set[tuple[str, str]]:
        """(key, etag) of every file of the dataset already loaded or quarantined."""
        name = self._literal(dataset.qualified_name)
        return set(self._query(
            f"SELECT s3_key, etag FROM {LEDGER_TABLE} WHERE dataset = {name} AND superseded_at IS NULL "
            f"UNION ALL SELECT s3_key, etag FROM {QUARANTINE_TABLE} WHERE dataset = {name}"
        ))

    def row_count(self, dataset: Dataset) -> int:
        self.ensure_raw_table(dataset)
        return self._query(f"SELECT count(*) FROM {dataset.raw_table}")[0][0]

    def ledger_summary(self) -> list[tuple[str, int, int]]:
        """(dataset, files, rows) of every dataset in the ledger, by dataset name."""
        return self._query(
            f"SELECT dataset, count(*), CAST(sum(rows) AS BIGINT) FROM {LEDGER_TABLE} "
            "WHERE superseded_at IS NULL GROUP BY dataset ORDER BY dataset"
        )

    def quarantined_files(self) -> list[QuarantinedFile]:
        """Every quarantined file, oldest first."""
        rows = self._query(
            f"SELECT quarantined_at, dataset, s3_key, etag, reason FROM {QUARANTINE_TABLE} "
            "ORDER BY quarantined_at, s3_key"
        )
        return [QuarantinedFile(*row) for row in rows]

    def _error_reason(self, error: BaseException) -> str:
        """The engine's message for a data error, cleaned of what speaks of our SQL."""
        return str(error)

    def _register_external_files(
        self, dataset: Dataset, local_files: list[LocalFile], loaded_at: datetime
    ) -> dict[str, int]:
        """An external dataset's files, inside the open transaction: validated whole (every row,
        every lossless cast, as `_insert_files` would; raise a data error otherwise) and made
        readable in place, without copying rows into a table; rows per key.

        The default loads them as an ordinary raw table, for engines without external tables
        (PostgreSQL): an engine that reads files in place overrides this (DuckDB: a view over a
        local mirror of the files; Redshift Spectrum, Databricks: an external table)."""
        return self._insert_files(dataset, local_files, loaded_at)

    # --- the same for every warehouse ---------------------------------------------------------

    def ensure_raw_table(self, dataset: Dataset) -> None:
        """The dataset's raw table exists (created on first use, once per loader)."""
        if dataset.raw_table not in self._raw_tables_ready:
            self._create_raw_table(dataset)
            self._raw_tables_ready.add(dataset.raw_table)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._begin()
        try:
            yield
        except BaseException:
            self._rollback()
            raise
        self._commit()

    def load(
        self, dataset: Dataset, landing_object: LandingObject, s3_client, run_id: str
    ) -> LoadOutcome:
        """Load one file exactly once, or quarantine it whole with the reason; never half-load.

        Raises on infrastructure failures (S3 unreachable, warehouse down): the file stays
        unsettled and the next run retries it.
        """
        [[outcome]] = self.load_in_batches(dataset, [landing_object], s3_client, run_id)
        return outcome

    def quarantine(
        self, dataset: Dataset, landing_object: LandingObject, reason: str, run_id: str
    ) -> LoadOutcome:
        """Record a file as rejected, with the reason, so it is reported and not retried."""
        location = f"s3://{landing_object.bucket}/{landing_object.key}"
        if not reason.startswith(location):
            reason = f"{location}: {reason}"
        with self._transaction():
            self._record_quarantine(dataset, landing_object, reason, utc_now(), run_id)
        return LoadOutcome(landing_object, quarantine_reason=reason)

    def defer(
        self, dataset: Dataset, landing_object: LandingObject, reason: str, run_id: str
    ) -> LoadOutcome:
        """Record that S3 would not give the file this run; it stays unsettled, so the next run
        tries it again."""
        reason = f"s3://{landing_object.bucket}/{landing_object.key}: {reason}"
        with self._transaction():
            self._record_deferral(dataset, landing_object, reason, utc_now(), run_id)
        return LoadOutcome(landing_object, deferred_reason=reason)

    def load_in_batches(
        self, dataset: Dataset, landing_objects: Iterable[LandingObject], s3_client, run_id: str
    ) -> Iterator[list[LoadOutcome]]:
        """Settle the files in the order given, a batch at a time (one transaction each, ledger
        rows included) while the next batch downloads; yields each batch's outcomes.

        The fixed cost per file (a download round trip, a transaction and its commit) is what made
        file-by-file loading slow, not reading the files.
        """
        self.ensure_raw_table(dataset)
        batches = plan_batches(list(landing_objects), self.batch_max_bytes, self.batch_max_files)
        with tempfile.TemporaryDirectory(prefix="analytics-landing-") as tmp:
            pool = ThreadPoolExecutor(DOWNLOAD_THREADS, thread_name_prefix="landing-download")
            try:
                fetches = [start_fetches(pool, dataset, s3_client, batches[0], Path(tmp))] if batches else []
                for number, batch in enumerate(batches):
                    if number + 1 < len(batches):
                        # The next batch downloads (and its files are inspected) while this loads.
                        fetches.append(
                            start_fetches(pool, dataset, s3_client, batches[number + 1], Path(tmp))
                        )
                    local_files = {obj: future.result() for obj, future in fetches[number].items()}
                    try:
                        yield self._load_batch(dataset, batch, local_files, run_id)
                    finally:
                        for local_file in local_files.values():
                            local_file.path.unlink(missing_ok=True)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)

    def _load_batch(
        self,
        dataset: Dataset,
        batch: list[LandingObject],
        local_files: dict[LandingObject, LocalFile],
        run_id: str,
    ) -> list[LoadOutcome]:
        outcomes: dict[LandingObject, LoadOutcome] = {}
        readable: list[LocalFile] = []
        for landing_object in batch:
            local_file = local_files.get(landing_object)
            if local_file is None:
                outcomes[landing_object] = self.quarantine(dataset, landing_object, UNSUPPORTED_FILE, run_id)
            elif local_file.unavailable is not None:
                outcomes[landing_object] = self.defer(dataset, landing_object, local_file.unavailable, run_id)
            elif local_file.problem is not None:
                outcomes[landing_object] = self._quarantine_file(dataset, local_file, local_file.problem, run_id)
            else:
                readable.append(local_file)
        if len(readable) > 1:
            try:
                outcomes.update(self._settle(dataset, readable, run_id))
                readable = []
            except MalformedFile:
                pass  # some file of the batch is bad: find which, file by file, below
        for local_file in readable:
            try:
                outcomes.update(self._settle(dataset, [local_file], run_id))
            except MalformedFile as error:
                outcomes[local_file.landing_object] = self._quarantine_file(dataset, local_file, error, run_id)
        return [outcomes[landing_object] for landing_object in batch]

    def _write_files(
        self, dataset: Dataset, local_files: list[LocalFile], loaded_at: datetime
    ) -> dict[str, int]:
        """The one branch between loaded and external datasets (docs/GAME.md): the same
        download, validation, ledger and quarantine flow; only this step differs."""
        if dataset.external:
            return self._register_external_files(dataset, local_files, loaded_at)
        return self._insert_files(dataset, local_files, loaded_at)

    def _settle(
        self, dataset: Dataset, local_files: list[LocalFile], run_id: str
    ) -> dict[LandingObject, LoadOutcome]:
        """Every row of the files and their ledger rows, in one transaction: all of it or none."""
        loaded_at = utc_now()
        try:
            with self._transaction():
                self._supersede(dataset, [f.landing_object.key for f in local_files], loaded_at)
                rows_by_key = self._write_files(dataset, local_files, loaded_at)
                loaded = [
                    (f.landing_object, rows_by_key.get(f.landing_object.key, 0)) for f in local_files
                ]
                self._record_in_ledger(dataset, loaded, loaded_at, run_id)
        except self.data_errors as error:
            raise MalformedFile(self._error_reason(error)) from error
        except Exception as error:
            # Not classified as a data error (e.g. an I/O error from a corrupt gzip stream): it
            # is the file's fault only if a plain read of the file fails too; else it is the
            # warehouse's, and the run fails with the file unsettled.
            for local_file in local_files:
                if (problem := integrity_problem(local_file)) is not None:
                    raise MalformedFile(problem) from error
            raise
        return {obj: LoadOutcome(obj, rows=rows) for obj, rows in loaded}

    def _quarantine_file(
        self, dataset: Dataset, local_file: LocalFile, error: MalformedFile, run_id: str
    ) -> LoadOutcome:
        # The engine names the temporary copy; the person reading the reason knows the key.
        path = str(local_file.path)
        reason = " ".join(str(error).replace(f' in file "{path}"', "").replace(path, "<file>").split())
        if "re-deliver" not in reason:
            reason += "; fix the file and re-deliver it (docs/CONTRACTS.md: re-delivery)"
        return self.quarantine(dataset, local_file.landing_object, reason, run_id)


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def as_utc_naive(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


__all__ = ["DeferredFile", "LoadOutcome", "MalformedFile", "QuarantinedFile", "WarehouseConfig", "WarehouseLoader"]
