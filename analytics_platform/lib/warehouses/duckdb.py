"""DuckDB's part of loading: a local DuckDB file as the warehouse.

DuckDB here has no `httpfs` extension (it would download at run time), so the base class streams
each object from S3 to a temporary file and DuckDB reads it from there: memory stays bounded by
DuckDB's streaming readers and its `memory_limit`, not by the file size.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from analytics_platform.lib.datasets import LOAD_COLUMNS, Dataset
from analytics_platform.lib.objects import LandingObject
from analytics_platform.lib.warehouses.base import (
    DEFERRED_TABLE,
    LEDGER_TABLE,
    QUARANTINE_TABLE,
    DeferredFile,
    QuarantinedFile,
    WarehouseConfig,
    WarehouseLoader,
    as_utc_naive,
    bookkeeping_ddl,
)
from analytics_platform.lib.warehouses.duckdb_casts import typed_value_sql
from analytics_platform.lib.warehouses.files import (
    DUCKDB_DATA_ERRORS,
    LocalFile,
    duckdb_reader_sql,
    duckdb_reason,
    sql_identifier,
    sql_literal,
)

# DuckDB otherwise lets its buffer pool grow to 80% of RAM before spilling to `<warehouse>.tmp`:
# a 0.92 GB CSV peaked at 531 MiB RSS without a limit, ~445 MiB with 256 MB, ~320 MiB with
# 128 MB (slower: benchmarks/ingest_memory.py).
DEFAULT_MEMORY_LIMIT = "256MB"


class DuckDBLoader(WarehouseLoader):
    data_errors = DUCKDB_DATA_ERRORS

    def __init__(self, database_path: Path, memory_limit: str = DEFAULT_MEMORY_LIMIT):
        super().__init__()
        database_path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = duckdb.connect(str(database_path))
        # Naive timestamps in files are UTC by contract; parse them as such whatever the host's zone.
        self._connection.execute("SET TimeZone = 'UTC'")
        self._connection.execute(f"SET memory_limit = {sql_literal(memory_limit)}")
        # preserve_insertion_order stays on (the default): _source_row is a row_number() over the
        # scan, which is the row's position in its file only if the scan keeps file order.
        self._create_bookkeeping_tables()

    @classmethod
    def from_config(cls, config: WarehouseConfig) -> DuckDBLoader:
        return cls(Path(config.duckdb_path))

    def close(self) -> None:
        self._connection.close()

    def _create_bookkeeping_tables(self) -> None:
        for statement in bookkeeping_ddl():
            self._connection.execute(statement)
        # Ledgers written before re-deliveries replaced a key's rows lack this column.
        self._connection.execute(
            f"ALTER TABLE {LEDGER_TABLE} ADD COLUMN IF NOT EXISTS superseded_at TIMESTAMP"
        )

    def _create_raw_table(self, dataset: Dataset) -> None:
        columns = [(c.name, c.data_type) for c in dataset.columns]
        columns += [(name, sql_type) for name, sql_type, _ in LOAD_COLUMNS]
        ddl = ", ".join(f"{sql_identifier(name)} {sql_type}" for name, sql_type in columns)
        self._connection.execute(f"CREATE SCHEMA IF NOT EXISTS {dataset.raw_schema}")
        self._connection.execute(f"CREATE TABLE IF NOT EXISTS {dataset.raw_table} ({ddl})")

    def _begin(self) -> None:
        self._connection.execute("BEGIN TRANSACTION")

    def _commit(self) -> None:
        self._connection.execute("COMMIT")

    def _rollback(self) -> None:
        self._connection.execute("ROLLBACK")

    def _error_reason(self, error: BaseException) -> str:
        return duckdb_reason(error)

    # --- reads ---------------------------------------------------------------------------------

    def settled_files(self, dataset: Dataset) -> set[tuple[str, str]]:
        rows = self._connection.execute(
            f"""SELECT s3_key, etag FROM {LEDGER_TABLE} WHERE dataset = $1 AND superseded_at IS NULL
                UNION ALL SELECT s3_key, etag FROM {QUARANTINE_TABLE} WHERE dataset = $1""",
            [dataset.qualified_name],
        ).fetchall()
        return set(rows)

    def row_count(self, dataset: Dataset) -> int:
        self.ensure_raw_table(dataset)
        return self._connection.execute(f"SELECT count(*) FROM {dataset.raw_table}").fetchone()[0]

    def ledger_summary(self) -> list[tuple[str, int, int]]:
        return self._connection.execute(
            f"SELECT dataset, count(*), sum(rows) FROM {LEDGER_TABLE} WHERE superseded_at IS NULL "
            "GROUP BY 1 ORDER BY 1"
        ).fetchall()

    def quarantined_files(self) -> list[QuarantinedFile]:
        rows = self._connection.execute(
            f"SELECT quarantined_at, dataset, s3_key, etag, reason FROM {QUARANTINE_TABLE} "
            "ORDER BY quarantined_at, s3_key"
        ).fetchall()
        return [QuarantinedFile(*row) for row in rows]

    def deferred_files(self) -> list[DeferredFile]:
        rows = self._connection.execute(
            f"SELECT deferred_at, dataset, s3_key, etag, reason, attempts FROM {DEFERRED_TABLE} "
            "ORDER BY deferred_at, s3_key"
        ).fetchall()
        return [DeferredFile(*row) for row in rows]

    # --- writes, inside the base class's transaction -------------------------------------------

    def _record_quarantine(
        self, dataset: Dataset, landing_object: LandingObject, reason: str, at: datetime, run_id: str
    ) -> None:
        self._connection.execute(
            f"INSERT OR REPLACE INTO {QUARANTINE_TABLE} VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            [*_file_fields(dataset, landing_object), reason, at, run_id],
        )
        self._clear_deferrals([landing_object])

    def _record_deferral(
        self, dataset: Dataset, landing_object: LandingObject, reason: str, at: datetime, run_id: str
    ) -> None:
        self._connection.execute(
            f"""INSERT INTO {DEFERRED_TABLE} VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 1, $8)
                ON CONFLICT (s3_key, etag) DO UPDATE SET reason = excluded.reason,
                    deferred_at = excluded.deferred_at, attempts = attempts + 1, run_id = excluded.run_id""",
            [*_file_fields(dataset, landing_object), reason, at, run_id],
        )

    def _clear_deferrals(self, landing_objects: list[LandingObject]) -> None:
        self._connection.executemany(
            f"DELETE FROM {DEFERRED_TABLE} WHERE s3_key = $1 AND etag = $2",
            [list(o.identity) for o in landing_objects],
        )

    def _supersede(self, dataset: Dataset, keys: list[str], at: datetime) -> None:
        con = self._connection
        previous = con.execute(
            f"SELECT count(*) FROM {LEDGER_TABLE} WHERE superseded_at IS NULL "
            "AND s3_key IN (SELECT unnest($1::VARCHAR[]))",
            [keys],
        ).fetchone()[0]
        if not previous:
            return  # the common case: first versions only
        con.execute(
            f"DELETE FROM {dataset.raw_table} WHERE _source_key IN (SELECT unnest($1::VARCHAR[]))", [keys]
        )
        con.execute(
            f"UPDATE {LEDGER_TABLE} SET superseded_at = $2 WHERE superseded_at IS NULL "
            "AND s3_key IN (SELECT unnest($1::VARCHAR[]))",
            [keys, at],
        )

    def _record_in_ledger(
        self,
        dataset: Dataset,
        loaded: list[tuple[LandingObject, int]],
        loaded_at: datetime,
        run_id: str,
    ) -> None:
        self._connection.executemany(
            # OR REPLACE: a key reverted to an earlier version reloads it under the same ETag.
            f"INSERT OR REPLACE INTO {LEDGER_TABLE} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)",
            [
                [*_file_fields(dataset, landing_object), rows, loaded_at, run_id]
                for landing_object, rows in loaded
            ],
        )
        self._clear_deferrals([landing_object for landing_object, _ in loaded])

    def _insert_files(
        self, dataset: Dataset, local_files: list[LocalFile], loaded_at: datetime
    ) -> dict[str, int]:
        con = self._connection
        known = {c.name for c in dataset.columns}
        extra = sorted(
            {
                name
                for f in local_files
                for name in f.by_normalised_name
                if name not in known
            }
        )
        # A column that appears in newer files flows through as text rather than failing the
        # load (names starting with "_" too; the three load columns are refused at the door);
        # dbt decides what to do with it.
        table_columns = {row[0] for row in con.execute(f"DESCRIBE {dataset.raw_table}").fetchall()}
        for name in extra:
            if name not in table_columns:
                con.execute(f"ALTER TABLE {dataset.raw_table} ADD COLUMN {sql_identifier(name)} VARCHAR")
        targets = [c.name for c in dataset.columns] + extra + [n for n, _, _ in LOAD_COLUMNS]
        loaded_at_sql = f"TIMESTAMP {sql_literal(loaded_at.isoformat(sep=' '))}"
        # One SELECT per file, glued with UNION ALL: each numbers its rows with a streaming
        # row_number() in file order. A single multi-file read_csv(..., filename = true) would
        # need a blocking window (the batch held in memory: twice the peak RSS, measured) to
        # restart the numbering per file, and the CSV and JSON readers have no file_row_number.
        selects = " UNION ALL ".join(typed_file_select_sql(dataset, f, extra, loaded_at_sql) for f in local_files)
        total_rows = con.execute(
            f"INSERT INTO {dataset.raw_table} ({', '.join(map(sql_identifier, targets))}) {selects}"
        ).fetchone()[0]
        if len(local_files) == 1:
            return {local_files[0].landing_object.key: total_rows}
        return dict(
            con.execute(
                f"""SELECT _source_key, count(*) FROM {dataset.raw_table}
                    WHERE _loaded_at = $1 AND _source_key IN (SELECT unnest($2::VARCHAR[]))
                    GROUP BY _source_key""",
                [loaded_at, [f.landing_object.key for f in local_files]],
            ).fetchall()
        )


def _file_fields(dataset: Dataset, landing_object: LandingObject) -> list:
    return [
        dataset.qualified_name,
        landing_object.key,
        landing_object.etag,
        landing_object.size,
        as_utc_naive(landing_object.last_modified),
    ]


def typed_file_select_sql(dataset: Dataset, local_file: LocalFile, extra: list[str], loaded_at_sql: str) -> str:
    """One file's rows as the raw table's columns (`extra` columns it lacks are NULL)."""
    names = local_file.by_normalised_name
    selects = [
        typed_value_sql(c, names[c.name], local_file.is_text(names[c.name]), local_file.options.timestamp_format)
        for c in dataset.columns
    ]
    selects += [
        f"CAST({sql_identifier(names[name])} AS VARCHAR)" if name in names else "NULL" for name in extra
    ]
    selects += [sql_literal(local_file.landing_object.key), "__row_number", loaded_at_sql]
    reader = duckdb_reader_sql(local_file, local_file.columns)
    return (
        f"(SELECT {', '.join(selects)} FROM "
        f"(SELECT *, row_number() OVER () AS __row_number FROM {reader}))"
    )
