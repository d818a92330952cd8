"""Databricks' part of loading (ANALYTICS_WAREHOUSE=databricks; DATABRICKS_HOST, DATABRICKS_HTTP_PATH,
DATABRICKS_TOKEN, DATABRICKS_CATALOG settings). Ready, not run here: no Databricks is reachable from
these machines; tests check the SQL with sqlglot's databricks dialect.

One `COPY INTO <raw table> FROM (SELECT <typed columns> FROM 's3://<bucket>/<dataset prefix>')
FILEFORMAT = ... FILES = (<the batch's files>)` per batch: the warehouse reads exactly the files the
ledger is about to record, from S3 itself (a Unity Catalog external location over the landing
bucket grants it), never a pattern or a whole folder. The SELECT casts every value losslessly to
its declared type (databricks_casts.py: the rules of every engine) and adds the load columns:
`_source_key` from the file's own path (`_metadata.file_path`), `_loaded_at` = this batch's time,
`_source_row` = `monotonically_increasing_id()`: increasing in file order within a file (the
"last row wins" tie-break of the bronze models holds), but not the 1-based line number, which
COPY INTO cannot give (its SELECT allows no window function; Spark's CSV and JSON readers do not
number lines).

COPY INTO's own idempotency, and why the ledger stays the one source of truth: COPY INTO skips a
file it loaded before into the table, by path, even when its content changed since, unless
`'force' = 'true'`. A re-delivered file (same key, new ETag) must be loaded again, and COPY INTO's
memory lives in the table's Delta log, not in the ledger (it also survives rows deleted by hand).
So every COPY runs with `'force' = 'true'` on exactly the files the ledger says are unsettled, and
exactness comes from the order of idempotent steps, because Databricks SQL has no multi-statement
transaction (`_begin` / `_commit` / `_rollback` are no-ops; each statement commits alone):

1. COPY INTO (atomic: all of the batch's rows or none), every row stamped `_loaded_at = T`;
2. DELETE the batch keys' rows with `_loaded_at <> T`: the replaced version of a re-delivered
   key, and the rows of an earlier attempt that failed after its COPY;
3. the ledger: the keys' previous rows marked superseded, then one MERGE of the new rows
   (the deferrals of these files are cleared last).

A failure between two steps leaves the files unsettled (no live ledger row), so the next run
loads them again and step 2 removes the leftovers: a crash or a retry neither duplicates nor
loses a file. Until then dbt may read a re-delivered key's old and new rows together (the
bronze models keep the last loaded). A batch whose COPY fails on the content of a file fails whole
(FAILFAST, `raise_error`), and the base class retries it file by file to quarantine only that
file, whose previous version's rows stay (nothing was deleted before the COPY).

Files compressed with gzip must end in `.gz` (Spark picks the codec by suffix); a gzip file
without the suffix is quarantined with that reason.

External datasets (`Dataset.external`, docs/GAME.md and external.py): not copied. Each file is
validated whole locally (external.validated_rows), the partition of its folder is added to the
external table once per folder (`ALTER TABLE ... ADD IF NOT EXISTS PARTITION`), then its ledger
row makes it visible through the view over the external table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from analytics_platform.lib.datasets import LOAD_COLUMNS, Dataset
from analytics_platform.lib.objects import LandingObject
from analytics_platform.lib.warehouses.base import (
    DEFERRED_TABLE,
    LEDGER_TABLE,
    QUARANTINE_TABLE,
    WarehouseConfig,
    WarehouseLoader,
    as_utc_naive,
    bookkeeping_ddl,
)
from analytics_platform.lib.warehouses.databricks_casts import (
    databricks_identifier,
    databricks_literal,
    databricks_type,
    typed_value_sql,
)
from analytics_platform.lib.warehouses.external import (
    PartitionFolder,
    lake_table,
    new_partition_folders,
    validated_rows,
)
from analytics_platform.lib.warehouses.files import (
    DUCKDB_DATA_ERRORS,
    LocalFile,
    MalformedFile,
    duckdb_reason,
)

FILE_FORMATS = {"csv": "CSV", "json": "JSON", "parquet": "PARQUET"}
# Databricks error classes that mean "this file's content is bad" (quarantine it file by file);
# any other error is the warehouse's (the run fails, the files stay unsettled).
DATA_ERROR_CLASSES = ("USER_RAISED_EXCEPTION", "MALFORMED_RECORD_IN_PARSING", "CAST_INVALID_INPUT",
                      "FAILED_READ_FILE", "MALFORMED_CSV_RECORD", "UNRESOLVED_COLUMN",
                      "NUMERIC_VALUE_OUT_OF_RANGE", "CANNOT_PARSE_JSON")


class DatabricksDataError(Exception):
    """A COPY INTO failed on a file's content (its error class is one of DATA_ERROR_CLASSES)."""


def format_options(local_file: LocalFile) -> dict[str, str]:
    """The reader options of a batch's format: every value read as text (the SELECT types it),
    malformed input fails the COPY (FAILFAST) instead of becoming NULLs."""
    options = local_file.options
    if local_file.file_format == "csv":
        return {
            "header": str(options.header).lower(), "sep": options.delimiter, "quote": options.quote,
            "escape": options.quote, "nullValue": options.null_string, "inferSchema": "false",
            # Each file's header is checked against the schema: a batch whose files order their
            # columns differently fails and is retried file by file, never loaded shifted.
            "enforceSchema": "false", "multiLine": "true", "mode": "FAILFAST",
        }
    if local_file.file_format == "json":
        return {"primitivesAsString": "true", "multiLine": "false", "mode": "FAILFAST"}
    return {"mergeSchema": "true"}


def copy_into_sql(dataset: Dataset, local_files: list[LocalFile], bucket: str, root_prefix: str,
                  loaded_at: datetime, extra: list[str]) -> str:
    """The one COPY INTO of a batch: its exact files, every value cast losslessly."""
    first = local_files[0]
    names = first.by_normalised_name
    headerless = first.file_format == "csv" and not first.options.header
    positions = {c.name: i for i, c in enumerate(dataset.columns)}

    def source(name: str) -> str:
        return f"_c{positions[name]}" if headerless else databricks_identifier(names[name])

    selects = [
        f"{typed_value_sql(c, source(c.name), first.is_text(names[c.name]), first.options.timestamp_format)}"
        f" AS {databricks_identifier(c.name)}"
        for c in dataset.columns
    ]
    selects += [f"CAST({source(name)} AS STRING) AS {databricks_identifier(name)}" for name in extra]
    selects += [
        "regexp_replace(_metadata.file_path, '^[a-z0-9]+://[^/]+/', '') AS _source_key",
        "monotonically_increasing_id() AS _source_row",
        f"{databricks_literal(loaded_at)} AS _loaded_at",
    ]
    prefix = dataset.landing_prefix(root_prefix)
    files = ", ".join(databricks_literal(f.landing_object.key.removeprefix(prefix)) for f in local_files)
    options = ", ".join(f"{databricks_literal(k)} = {databricks_literal(v)}" for k, v in format_options(first).items())
    return "\n".join([
        f"COPY INTO {dataset.raw_table}",
        f"FROM (SELECT {', '.join(selects)} FROM {databricks_literal(f's3://{bucket}/{prefix}')})",
        f"FILEFORMAT = {FILE_FORMATS[first.file_format]}",
        f"FILES = ({files})",
        f"FORMAT_OPTIONS ({options})",
        # force: the ledger, not COPY INTO's memory of paths, decides what loads (module docstring).
        "COPY_OPTIONS ('force' = 'true', 'mergeSchema' = 'false')",
    ])


def external_table_ddl(dataset: Dataset, bucket: str, root_prefix: str, location_root: str | None = None) -> list[str]:
    """The external table over an external dataset's folder and the view dbt reads (external.py);
    dbt_project/macros/external/ renders the same statements (a test compares them).
    `location_root`: where the landing root's files are read, default s3://<bucket>/<root_prefix>
    (the macros' `external_location_root` var; Spark: its local lake folder)."""
    root = location_root if location_root is not None else f"s3://{bucket}/{root_prefix}"
    columns = [(c.name, databricks_type(c.data_type)) for c in dataset.columns]
    columns += [(name, "STRING") for name in dataset.partition_columns]
    lake = lake_table(dataset)
    compression = "gzip" if dataset.file_format.compression == "gzip" else "none"
    options = f"compression {databricks_literal(compression)}, ignoreCorruptFiles 'true'"
    partitioned = ", ".join(map(databricks_identifier, dataset.partition_columns))
    table = (
        f"CREATE TABLE IF NOT EXISTS {lake} ({', '.join(f'{databricks_identifier(n)} {t}' for n, t in columns)}) "
        f"USING {FILE_FORMATS[dataset.file_format.format or 'json']} OPTIONS ({options})"
        + (f" PARTITIONED BY ({partitioned})" if partitioned else "")
        + f" LOCATION {databricks_literal(root + dataset.landing_prefix(''))}"
    )
    view = (
        f"CREATE OR REPLACE VIEW {dataset.raw_table} AS SELECT "
        + ", ".join(f"files.{databricks_identifier(n)}" for n, _ in columns)
        + ", ledger.s3_key AS _source_key, CAST(NULL AS BIGINT) AS _source_row, ledger.loaded_at AS _loaded_at"
        f" FROM {lake} AS files JOIN {LEDGER_TABLE} AS ledger"
        # The key below the landing root, so a root elsewhere (Spark: a local folder) joins too.
        f" ON files._metadata.file_path = concat({databricks_literal(root)},"
        f" substr(ledger.s3_key, {len(root_prefix) + 1}))"
        f" WHERE ledger.dataset = {databricks_literal(dataset.qualified_name)} AND ledger.superseded_at IS NULL"
    )
    return [f"CREATE SCHEMA IF NOT EXISTS {lake.split('.')[0]}", table,
            f"CREATE SCHEMA IF NOT EXISTS {dataset.raw_schema}", view]


def add_partition_sql(dataset: Dataset, folder: PartitionFolder) -> str:
    spec = ", ".join(f"{name} = {databricks_literal(value)}" for name, value in zip(dataset.partition_columns, folder.values))
    return f"ALTER TABLE {lake_table(dataset)} ADD IF NOT EXISTS PARTITION ({spec}) LOCATION {databricks_literal(folder.location)}"


class DatabricksLoader(WarehouseLoader):
    data_errors = (DatabricksDataError, *DUCKDB_DATA_ERRORS)  # DuckDB's: external datasets' validation

    def __init__(self, connection, bucket: str, prefix: str):
        super().__init__()
        self._connection = connection
        self._bucket, self._prefix = bucket, prefix
        self._partitions_added: set[tuple[str, tuple[str, ...]]] = set()
        self._execute("SET TIME ZONE 'UTC'")  # naive timestamps in files are UTC by contract
        for statement in bookkeeping_ddl("STRING"):
            self._execute(statement)

    @classmethod
    def from_config(cls, config: WarehouseConfig) -> DatabricksLoader:
        from databricks import sql as databricks_sql

        from analytics_platform.settings import load_settings

        settings = load_settings()
        if not settings.databricks_token:
            raise ValueError("DATABRICKS_TOKEN is required: a token of the identity that loads the raw tables")
        connection = databricks_sql.connect(
            server_hostname=settings.databricks_host, http_path=settings.databricks_http_path,
            access_token=settings.databricks_token, catalog=settings.databricks_catalog,
            user_agent_entry="analytics-platform-ingestion",
        )
        return cls(connection, settings.landing_bucket, settings.landing_prefix)

    def close(self) -> None:
        self._connection.close()

    def _execute(self, sql: str) -> None:
        with self._connection.cursor() as cursor:
            cursor.execute(sql)

    def _fetchall(self, sql: str) -> list[tuple]:
        with self._connection.cursor() as cursor:
            cursor.execute(sql)
            return [tuple(row) for row in cursor.fetchall()]

    def _create_raw_table(self, dataset: Dataset) -> None:
        if dataset.external:
            for statement in external_table_ddl(dataset, self._bucket, self._prefix):
                self._execute(statement)
            return
        columns = [(c.name, databricks_type(c.data_type)) for c in dataset.columns]
        columns += [(name, databricks_type(sql_type)) for name, sql_type, _ in LOAD_COLUMNS]
        ddl = ", ".join(f"{databricks_identifier(name)} {sql_type}" for name, sql_type in columns)
        self._execute(f"CREATE SCHEMA IF NOT EXISTS {dataset.raw_schema}")
        self._execute(f"CREATE TABLE IF NOT EXISTS {dataset.raw_table} ({ddl}) USING DELTA")

    # No multi-statement transactions: each statement commits alone (module docstring).
    def _begin(self) -> None: ...

    def _commit(self) -> None: ...

    def _rollback(self) -> None: ...

    def _error_reason(self, error: BaseException) -> str:
        if isinstance(error, DUCKDB_DATA_ERRORS):
            return duckdb_reason(error)
        text = " ".join(str(error).split())
        for marker in ("[USER_RAISED_EXCEPTION] ",):
            text = text.partition(marker)[2] or text
        return text.split(" SQLSTATE:")[0]

    # --- reads ---------------------------------------------------------------------------------

    def _query(self, sql: str) -> list[tuple]:
        return self._fetchall(sql)

    def _literal(self, value: str) -> str:
        return databricks_literal(value)

    # --- writes (each statement commits alone: the order is what keeps the ledger exact) --------

    def _merge(self, table: str, values: list[list[Any]], columns: list[str], when_matched: str) -> None:
        """One atomic upsert of file rows keyed by (s3_key, etag)."""
        rows = ", ".join(
            "(" + ", ".join(v if v is NULL_TIMESTAMP else databricks_literal(v) for v in row) + ")" for row in values
        )
        self._execute(
            f"MERGE INTO {table} AS target USING (SELECT * FROM VALUES {rows} AS source({', '.join(columns)})) "
            "AS source ON target.s3_key = source.s3_key AND target.etag = source.etag "
            f"WHEN MATCHED THEN {when_matched} WHEN NOT MATCHED THEN INSERT *"
        )

    def _record_quarantine(
        self, dataset: Dataset, landing_object: LandingObject, reason: str, at: datetime, run_id: str
    ) -> None:
        self._merge(QUARANTINE_TABLE, [[*_file_fields(dataset, landing_object), reason, at, run_id]],
                    [*FILE_COLUMNS, "reason", "quarantined_at", "run_id"], "UPDATE SET *")
        self._clear_deferrals([landing_object])

    def _record_deferral(
        self, dataset: Dataset, landing_object: LandingObject, reason: str, at: datetime, run_id: str
    ) -> None:
        self._merge(
            DEFERRED_TABLE, [[*_file_fields(dataset, landing_object), reason, at, at, 1, run_id]],
            [*FILE_COLUMNS, "reason", "first_deferred_at", "deferred_at", "attempts", "run_id"],
            "UPDATE SET reason = source.reason, deferred_at = source.deferred_at, "
            "attempts = target.attempts + 1, run_id = source.run_id",
        )

    def _clear_deferrals(self, landing_objects: list[LandingObject]) -> None:
        files = " OR ".join(
            f"(s3_key = {databricks_literal(o.key)} AND etag = {databricks_literal(o.etag)})" for o in landing_objects
        )
        self._execute(f"DELETE FROM {DEFERRED_TABLE} WHERE {files}")

    def _supersede(self, dataset: Dataset, keys: list[str], at: datetime) -> None:
        """Nothing before the COPY: the replaced rows are deleted after it (step 2) and the ledger
        rows superseded with the new ones (step 3), so a file that fails keeps its old rows."""

    def _record_in_ledger(
        self, dataset: Dataset, loaded: list[tuple[LandingObject, int]], loaded_at: datetime, run_id: str
    ) -> None:
        keys = ", ".join(databricks_literal(obj.key) for obj, _ in loaded)
        self._execute(
            f"UPDATE {LEDGER_TABLE} SET superseded_at = {databricks_literal(loaded_at)} "
            f"WHERE superseded_at IS NULL AND s3_key IN ({keys})"
        )
        # MERGE: a key reverted to an earlier version reloads it under the same ETag.
        self._merge(
            LEDGER_TABLE,
            [[*_file_fields(dataset, obj), rows, loaded_at, run_id, NULL_TIMESTAMP] for obj, rows in loaded],
            [*FILE_COLUMNS, "rows", "loaded_at", "run_id", "superseded_at"], "UPDATE SET *",
        )
        self._clear_deferrals([obj for obj, _ in loaded])

    def _insert_files(self, dataset: Dataset, local_files: list[LocalFile], loaded_at: datetime) -> dict[str, int]:
        for local_file in local_files:
            if local_file.compressed != local_file.landing_object.key.lower().endswith(".gz"):
                raise MalformedFile(
                    "Databricks decompresses by file suffix: a gzip file's key ends in .gz and only "
                    "a gzip file's does; re-deliver it under the right suffix"
                )
        known = {c.name for c in dataset.columns}
        extra = sorted({n for f in local_files for n in f.by_normalised_name if n not in known and not n.startswith("_")})
        if extra:  # a column that appears in newer files flows through as text, as on every engine
            schema, table = dataset.raw_table.split(".")
            present = {row[0] for row in self._fetchall(
                "SELECT column_name FROM information_schema.columns WHERE "
                f"table_schema = {databricks_literal(schema)} AND table_name = {databricks_literal(table)}"
            )}
            if missing := [name for name in extra if name not in present]:
                self._execute(f"ALTER TABLE {dataset.raw_table} ADD COLUMNS "
                              f"({', '.join(f'{databricks_identifier(n)} STRING' for n in missing)})")
        copy = copy_into_sql(dataset, local_files, self._bucket, self._prefix, loaded_at, extra)
        try:
            self._execute(copy)
        except Exception as error:  # the connector's ServerOperationError carries the error class
            if any(error_class in str(error) for error_class in DATA_ERROR_CLASSES):
                raise DatabricksDataError(str(error)) from error
            raise
        keys = ", ".join(databricks_literal(f.landing_object.key) for f in local_files)
        self._execute(
            f"DELETE FROM {dataset.raw_table} WHERE _source_key IN ({keys}) "
            f"AND _loaded_at <> {databricks_literal(loaded_at)}"
        )
        return dict(self._fetchall(
            f"SELECT _source_key, count(*) FROM {dataset.raw_table} WHERE _source_key IN ({keys}) "
            f"AND _loaded_at = {databricks_literal(loaded_at)} GROUP BY _source_key"
        ))

    def _register_external_files(
        self, dataset: Dataset, local_files: list[LocalFile], loaded_at: datetime
    ) -> dict[str, int]:
        rows = validated_rows(dataset, local_files)
        for folder in new_partition_folders(dataset, self._bucket, self._prefix, local_files, self._partitions_added):
            self._execute(add_partition_sql(dataset, folder))
        return rows


FILE_COLUMNS = ["dataset", "s3_key", "etag", "size_bytes", "last_modified"]
NULL_TIMESTAMP = "CAST(NULL AS TIMESTAMP)"  # a bare NULL in VALUES has no type for MERGE's INSERT *


def _file_fields(dataset: Dataset, landing_object: LandingObject) -> list:
    return [dataset.qualified_name, landing_object.key, landing_object.etag, landing_object.size,
            as_utc_naive(landing_object.last_modified)]


__all__ = ["DatabricksLoader", "add_partition_sql", "copy_into_sql", "external_table_ddl", "format_options"]
