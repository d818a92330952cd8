"""PostgreSQL's part of loading (ANALYTICS_WAREHOUSE=postgres; POSTGRES_* settings).

Each file of a batch is read and typed by an in-process, in-memory DuckDB with the very SELECT the
DuckDB loader inserts (`duckdb_selects.typed_file_select_sql`: the declared types, the `timestamp_format`, the
required-column check, `_source_row` in file order), written as CSV to local disk, and streamed
to PostgreSQL with one `COPY <raw table> FROM STDIN` per file. So both engines accept and reject
exactly the same files with the same reasons, PostgreSQL receives plain typed CSV (its bulk path,
no row-by-row INSERT), and memory stays bounded (DuckDB streams to disk, psycopg2 streams from it).

The rows of every file of a batch and their ledger rows are written in one PostgreSQL
transaction (the base class's), so a crash or a retry can neither duplicate nor lose a file.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import psycopg2  # installed with dbt-postgres
import psycopg2.errors
import psycopg2.extras

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
from analytics_platform.lib.warehouses.duckdb_selects import typed_file_select_sql
from analytics_platform.lib.warehouses.files import (
    DUCKDB_DATA_ERRORS,
    LocalFile,
    duckdb_reason,
    scratch_duckdb,
    sql_identifier,
    sql_literal,
)

# Declared types are DuckDB's spelling; the few PostgreSQL spells differently.
POSTGRES_TYPES = {"DOUBLE": "DOUBLE PRECISION", "FLOAT": "REAL", "STRING": "TEXT", "JSON": "JSONB"}


def postgres_type(data_type: str) -> str:
    return POSTGRES_TYPES.get(data_type, data_type)


def connect_kwargs(config: WarehouseConfig) -> dict[str, Any]:
    """psycopg2 connection arguments; the password from the config (Settings) or POSTGRES_PASSWORD,
    never from a Dagster resource's config (which the UI shows)."""
    password = getattr(config, "postgres_password", "") or os.environ.get("POSTGRES_PASSWORD", "")
    kwargs = {
        "host": config.postgres_host,
        "port": int(config.postgres_port),
        "user": config.postgres_user,
        "dbname": config.postgres_database,
        "application_name": "analytics-platform-ingestion",
    }
    if password:
        kwargs["password"] = password
    return kwargs


class PostgresLoader(WarehouseLoader):
    data_errors = (*DUCKDB_DATA_ERRORS, psycopg2.DataError, psycopg2.IntegrityError)

    def __init__(self, **kwargs: Any):
        super().__init__()
        self._connection = psycopg2.connect(**kwargs)
        # Transactions are the base class's explicit BEGIN / COMMIT / ROLLBACK.
        self._connection.autocommit = True
        self._execute("SET TIME ZONE 'UTC'")
        self._create_bookkeeping_tables()

    @classmethod
    def from_config(cls, config: WarehouseConfig) -> PostgresLoader:
        return cls(**connect_kwargs(config))

    def close(self) -> None:
        self._connection.close()

    def _execute(self, sql: str, params: Any = None) -> psycopg2.extensions.cursor:
        cursor = self._connection.cursor()
        cursor.execute(sql, params)
        return cursor

    def _fetchall(self, sql: str, params: Any = None) -> list[tuple]:
        with self._connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def _create_bookkeeping_tables(self) -> None:
        for statement in bookkeeping_ddl():
            self._execute(statement)

    def _create_raw_table(self, dataset: Dataset) -> None:
        columns = [(c.name, postgres_type(c.data_type)) for c in dataset.columns]
        columns += [(name, sql_type) for name, sql_type, _ in LOAD_COLUMNS]
        ddl = ", ".join(f"{sql_identifier(name)} {sql_type}" for name, sql_type in columns)
        self._execute(f"CREATE SCHEMA IF NOT EXISTS {dataset.raw_schema}")
        self._execute(f"CREATE TABLE IF NOT EXISTS {dataset.raw_table} ({ddl})")

    def _begin(self) -> None:
        self._execute("BEGIN")

    def _commit(self) -> None:
        self._execute("COMMIT")

    def _rollback(self) -> None:
        self._execute("ROLLBACK")

    def _error_reason(self, error: BaseException) -> str:
        if isinstance(error, DUCKDB_DATA_ERRORS):
            return duckdb_reason(error)
        return " ".join(str(error).split("\n")[0].split())

    # --- reads ---------------------------------------------------------------------------------

    def _query(self, sql: str) -> list[tuple]:
        return self._fetchall(sql)

    # --- writes, inside the base class's transaction -------------------------------------------

    def _record_quarantine(
        self, dataset: Dataset, landing_object: LandingObject, reason: str, at: datetime, run_id: str
    ) -> None:
        self._execute(
            f"""INSERT INTO {QUARANTINE_TABLE} VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
                ON CONFLICT (s3_key, etag) DO UPDATE SET dataset = EXCLUDED.dataset,
                size_bytes = EXCLUDED.size_bytes, last_modified = EXCLUDED.last_modified,
                reason = EXCLUDED.reason, quarantined_at = EXCLUDED.quarantined_at,
                run_id = EXCLUDED.run_id""",
            [*file_fields(dataset, landing_object), reason, at, run_id],
        )
        self._clear_deferrals([landing_object])

    def _record_deferral(
        self, dataset: Dataset, landing_object: LandingObject, reason: str, at: datetime, run_id: str
    ) -> None:
        fields = file_fields(dataset, landing_object)
        self._execute(
            f"""INSERT INTO {DEFERRED_TABLE} VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 1, %s)
                ON CONFLICT (s3_key, etag) DO UPDATE SET reason = EXCLUDED.reason,
                    deferred_at = EXCLUDED.deferred_at, attempts = {DEFERRED_TABLE}.attempts + 1,
                    run_id = EXCLUDED.run_id""",
            [*fields, reason, at, at, run_id],
        )

    def _clear_deferrals(self, landing_objects: list[LandingObject]) -> None:
        with self._connection.cursor() as cursor:
            cursor.executemany(
                f"DELETE FROM {DEFERRED_TABLE} WHERE s3_key = %s AND etag = %s",
                [(o.key, o.etag) for o in landing_objects],
            )

    def _supersede(self, dataset: Dataset, keys: list[str], at: datetime) -> None:
        [(previous,)] = self._fetchall(
            f"SELECT count(*) FROM {LEDGER_TABLE} WHERE superseded_at IS NULL AND s3_key = ANY(%s)", [keys]
        )
        if not previous:
            return  # the common case: first versions only
        self._execute(f"DELETE FROM {dataset.raw_table} WHERE _source_key = ANY(%s)", [keys])
        self._execute(
            f"UPDATE {LEDGER_TABLE} SET superseded_at = %s WHERE superseded_at IS NULL AND s3_key = ANY(%s)",
            [at, keys],
        )

    def _record_in_ledger(
        self,
        dataset: Dataset,
        loaded: list[tuple[LandingObject, int]],
        loaded_at: datetime,
        run_id: str,
    ) -> None:
        with self._connection.cursor() as cursor:
            # ON CONFLICT: a key reverted to an earlier version reloads it under the same ETag.
            psycopg2.extras.execute_values(
                cursor,
                f"""INSERT INTO {LEDGER_TABLE} VALUES %s ON CONFLICT (s3_key, etag) DO UPDATE SET
                    dataset = EXCLUDED.dataset, size_bytes = EXCLUDED.size_bytes,
                    last_modified = EXCLUDED.last_modified, rows = EXCLUDED.rows,
                    loaded_at = EXCLUDED.loaded_at, run_id = EXCLUDED.run_id, superseded_at = NULL""",
                [(*file_fields(dataset, obj), rows, loaded_at, run_id, None) for obj, rows in loaded],
            )
        self._clear_deferrals([obj for obj, _ in loaded])

    def _insert_files(
        self, dataset: Dataset, local_files: list[LocalFile], loaded_at: datetime
    ) -> dict[str, int]:
        known = {c.name for c in dataset.columns}
        extra = sorted(
            {
                name
                for f in local_files
                for name in f.by_normalised_name
                if name not in known and not name.startswith("_")
            }
        )
        # A column that appears in newer files flows through as text, as on DuckDB.
        for name in extra:
            self._execute(f"ALTER TABLE {dataset.raw_table} ADD COLUMN IF NOT EXISTS {sql_identifier(name)} TEXT")
        targets = [c.name for c in dataset.columns] + extra + [n for n, _, _ in LOAD_COLUMNS]
        copy_sql = (
            f"COPY {dataset.raw_table} ({', '.join(map(sql_identifier, targets))}) "
            "FROM STDIN WITH (FORMAT csv)"
        )
        loaded_at_sql = f"TIMESTAMP {sql_literal(loaded_at.isoformat(sep=' '))}"
        rows: dict[str, int] = {}
        with scratch_duckdb() as reader:
            for local_file in local_files:
                typed = local_file.path.with_name(local_file.path.name + ".typed.csv")
                try:
                    select = typed_file_select_sql(dataset, local_file, extra, loaded_at_sql)
                    reader.execute(f"COPY {select} TO {sql_literal(str(typed))} (FORMAT csv, HEADER false)")
                    with typed.open("rb") as handle, self._connection.cursor() as cursor:
                        cursor.copy_expert(copy_sql, handle)
                        rows[local_file.landing_object.key] = cursor.rowcount
                finally:
                    typed.unlink(missing_ok=True)
        return rows


def file_fields(dataset: Dataset, landing_object: LandingObject) -> list:
    return [
        dataset.qualified_name,
        landing_object.key,
        landing_object.etag,
        landing_object.size,
        as_utc_naive(landing_object.last_modified),
    ]
