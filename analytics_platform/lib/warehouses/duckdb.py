"""DuckDB's part of loading: a local DuckDB file as the warehouse.

DuckDB here has no `httpfs` extension (it would download at run time), so the base class streams
each object from S3 to a temporary file and DuckDB reads it from there: memory stays bounded by
DuckDB's streaming readers and its `memory_limit`, not by the file size.

External datasets (`Dataset.external`, docs/GAME.md) are not copied into a table: each accepted
file is mirrored, at its key's path below the dataset folder (`dt=.../hh=...`), into a local lake
folder (settings: ANALYTICS_LAKE_DIR), and the raw "table" is a view reading that folder in place
(`read_json(<lake>/<domain>/<dataset>/**, hive_partitioning = true)`), joined with the ledger, so
a file is visible once its ledger row is committed and never before.
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
    WarehouseConfig,
    WarehouseLoader,
    as_utc_naive,
    bookkeeping_ddl,
)
from analytics_platform.lib.warehouses.duckdb_selects import (
    files_read_alike,
    numbered_by_reader,
    parquet_files_select_sql,
    staged_files_select_sql,
    typed_file_select_sql,
)
from analytics_platform.lib.warehouses.external import (
    dataset_folder_pattern,
    lake_folder,
    mirror_into_lake,
)
from analytics_platform.lib.warehouses.files import (
    DUCKDB_DATA_ERRORS,
    LocalFile,
    duckdb_reader_sql,
    duckdb_reason,
    sql_identifier,
    sql_literal,
)

# DuckDB otherwise lets its buffer pool grow to 80% of RAM before spilling to `<warehouse>.tmp`
# (a 0.92 GB CSV peaked at 531 MiB RSS without a limit). Batches of many files read side by side
# need this much: with 128 MB the 10M benchmark's 124 order files loaded 5-10% slower.
DEFAULT_MEMORY_LIMIT = "256MB"
# A CSV or JSON file read on its own is numbered by a streaming row_number() on one thread, which
# a larger budget does not speed up: the 0.92 GB CSV of benchmarks/ingest_memory.py loaded as
# fast with 128 MB as with 256 MB and peaked at 402 MiB instead of 527-544 MiB.
STREAMED_READ_MEMORY_LIMIT = "128MB"


class DuckDBLoader(WarehouseLoader):
    data_errors = DUCKDB_DATA_ERRORS
    # Larger batches than the base class's: each committed batch leaves its raw table's last
    # row group part-filled, and DuckDB's next checkpoint (at a DDL statement or on close)
    # rewrites those. Loading the 10M benchmark's orders, reviews and users (1.1 GB, local S3)
    # took 28.7 s at 32 MiB batches, of which 3.3 s was that checkpoint, and 23.5 s at 128 MiB
    # (checkpoint 0.4 s). Memory stays bounded by memory_limit: the staged batch spills.
    batch_max_bytes = 128 * 1024 * 1024
    batch_max_files = 64

    def __init__(
        self,
        database_path: Path,
        memory_limit: str = DEFAULT_MEMORY_LIMIT,
        lake_dir: Path | None = None,
        streamed_read_memory_limit: str = STREAMED_READ_MEMORY_LIMIT,
    ):
        super().__init__()
        self._memory_limit = memory_limit
        self._streamed_read_memory_limit = streamed_read_memory_limit
        database_path.parent.mkdir(parents=True, exist_ok=True)
        # Where external datasets' files are mirrored (beside the warehouse file by default).
        self._lake_dir = Path(lake_dir or database_path.parent / "lake").resolve()
        self._connection = duckdb.connect(str(database_path))
        # Naive timestamps in files are UTC by contract; parse them as such whatever the host's zone.
        self._connection.execute("SET TimeZone = 'UTC'")
        # preserve_insertion_order stays on (the default): _source_row is a row's position in its
        # file, numbered over a scan (or a staging table's rowid) that keeps the files' order.
        self._reset_insert_settings()
        self._create_bookkeeping_tables()

    @classmethod
    def from_config(cls, config: WarehouseConfig) -> DuckDBLoader:
        lake_dir = getattr(config, "lake_dir", "")  # optional: configs without it use the default
        return cls(Path(config.duckdb_path), lake_dir=Path(lake_dir) if lake_dir else None)

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
        if dataset.external:
            self._create_external_view(dataset)
            return
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
        # An insert that failed may have left them changed (_insert_files): only now can they be reset.
        self._reset_insert_settings()

    def _reset_insert_settings(self) -> None:
        self._connection.execute(f"SET memory_limit = {sql_literal(self._memory_limit)}")
        self._connection.execute("SET preserve_insertion_order = true")

    def _error_reason(self, error: BaseException) -> str:
        return duckdb_reason(error)

    # --- reads ---------------------------------------------------------------------------------

    def _query(self, sql: str) -> list[tuple]:
        return self._connection.execute(sql).fetchall()

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
        # One statement per batch, not one per file: DuckDB's executemany runs a statement per
        # parameter set (~3 ms each, measured), a fixed cost per file that a batch of small files felt.
        self._connection.execute(
            f"""DELETE FROM {DEFERRED_TABLE} WHERE (s3_key, etag) IN (
                    SELECT (unnest($1::VARCHAR[]), unnest($2::VARCHAR[])))""",
            [[o.key for o in landing_objects], [o.etag for o in landing_objects]],
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
        if not dataset.external:  # an external dataset's new version overwrites its mirrored file
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
        files = [landing_object for landing_object, _ in loaded]
        self._connection.execute(
            # OR REPLACE: a key reverted to an earlier version reloads it under the same ETag.
            # The batch's rows in one statement (unnest zips the arrays), as in _clear_deferrals.
            f"""INSERT OR REPLACE INTO {LEDGER_TABLE}
                SELECT $1, unnest($2::VARCHAR[]), unnest($3::VARCHAR[]), unnest($4::BIGINT[]),
                       unnest($5::TIMESTAMP[]), unnest($6::BIGINT[]), $7, $8, NULL""",
            [
                dataset.qualified_name,
                [o.key for o in files],
                [o.etag for o in files],
                [o.size for o in files],
                [as_utc_naive(o.last_modified) for o in files],
                [rows for _, rows in loaded],
                loaded_at,
                run_id,
            ],
        )
        self._clear_deferrals(files)

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
        # _source_row is a row's position in its file. DuckDB's Parquet reader numbers rows
        # itself (file_row_number, in parallel); its CSV and JSON readers do not. A CSV or JSON
        # file read on its own is numbered by a streaming row_number(), which runs the file's
        # whole read on one thread, one file after another. CSV and JSON files a batch reads
        # alike are instead copied, as text, by one multi-file read (files read side by side, in
        # order) into a temporary table whose rowid then numbers them (staged_files_select_sql).
        selects, staged, numbered_while_read = [], [], False
        for group in files_read_alike(local_files):
            if numbered_by_reader(group[0]):
                selects.append(parquet_files_select_sql(dataset, group, extra, loaded_at_sql))
                continue
            if len(group) == 1:
                selects.append(typed_file_select_sql(dataset, group[0], extra, loaded_at_sql))
                numbered_while_read = True
                continue
            staged.append(f"__landed_files_{len(staged)}")
            # The default preserve_insertion_order keeps the files' order, and each file's.
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {staged[-1]} AS "
                f"SELECT *, file_index AS __file_index FROM {duckdb_reader_sql(group[0], group[0].columns, group)}"
            )
            selects.append(staged_files_select_sql(dataset, group, extra, loaded_at_sql, staged[-1]))
        insert = (
            f"INSERT INTO {dataset.raw_table} ({', '.join(map(sql_identifier, targets))}) "
            + " UNION ALL ".join(selects)
        )
        if numbered_while_read:
            con.execute(f"SET memory_limit = {sql_literal(self._streamed_read_memory_limit)}")
        else:
            # Every row carries its number already, and the raw table's physical order means
            # nothing (bronze orders rows by the load columns), so the insert need not keep the
            # order it reads in: unordered, DuckDB writes the table faster (10M benchmark's
            # users, 2.2M rows: 1.7 s ordered, 1.1 s not).
            con.execute("SET preserve_insertion_order = false")
        total_rows = con.execute(insert).fetchone()[0]
        self._reset_insert_settings()  # on failure, _rollback resets them
        for table in staged:
            con.execute(f"DROP TABLE {table}")
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

    # --- external datasets: read in place ------------------------------------------------------

    def _register_external_files(
        self, dataset: Dataset, local_files: list[LocalFile], loaded_at: datetime
    ) -> dict[str, int]:
        rows_by_key = mirror_into_lake(dataset, local_files, self._lake_dir)  # validated, then mirrored
        self._create_external_view(dataset)
        return rows_by_key

    def _create_external_view(self, dataset: Dataset) -> None:
        """The raw relation of an external dataset: a view over its mirrored files, typed as
        declared, with the partition columns from the folders and the load columns from the
        ledger (a mirrored file without a committed ledger row is not read). Recreated after
        each registration; before the first file, an empty view of the same columns."""
        con = self._connection
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {dataset.raw_schema}")
        folder = lake_folder(self._lake_dir, dataset)
        partitions = [f"files.{sql_identifier(name)}" for name in dataset.partition_columns]
        has_files = folder.is_dir() and any(p.is_file() for p in folder.rglob("*"))
        if not has_files:
            typed = [f"CAST(NULL AS {c.data_type}) AS {sql_identifier(c.name)}" for c in dataset.columns]
            typed += [f"CAST(NULL AS VARCHAR) AS {sql_identifier(name)}" for name in dataset.partition_columns]
            typed += [f"CAST(NULL AS {sql_type}) AS {name}" for name, sql_type, _ in LOAD_COLUMNS]
            con.execute(f"CREATE OR REPLACE VIEW {dataset.raw_table} AS SELECT {', '.join(typed)} WHERE false")
            return
        options = dataset.file_format
        declared = "{" + ", ".join(f"{sql_literal(c.name)}: {sql_literal(c.data_type)}" for c in dataset.columns) + "}"
        compression = {"gzip": "'gzip'", "none": "'none'"}.get(options.compression, "'auto'")
        if (options.format or "json") != "json":
            raise NotImplementedError(
                f"{dataset.qualified_name}: external datasets are read in place as NDJSON on DuckDB; "
                "declare format: json, or load the dataset (external: false)"
            )
        timestamp_format = f", timestampformat = {sql_literal(options.timestamp_format)}" if options.timestamp_format else ""
        glob = sql_literal(f"{folder.as_posix()}/**/*")
        reader = (
            f"read_json({glob}, format = 'newline_delimited', compression = {compression}, "
            f"columns = {declared}{timestamp_format}, filename = true, "
            f"hive_partitioning = {str(bool(partitions)).lower()}, hive_types_autocast = false)"
        )
        columns = [f"files.{sql_identifier(c.name)}" for c in dataset.columns] + partitions
        mirrored_path = (
            f"{sql_literal(folder.as_posix() + '/')} || "
            f"regexp_extract(s3_key, {sql_literal(dataset_folder_pattern(dataset))}, 1)"
        )
        con.execute(
            f"""CREATE OR REPLACE VIEW {dataset.raw_table} AS
                SELECT {', '.join(columns)}, ledger.s3_key AS _source_key,
                       CAST(NULL AS BIGINT) AS _source_row, ledger.loaded_at AS _loaded_at
                FROM {reader} AS files
                JOIN (
                    SELECT s3_key, loaded_at, {mirrored_path} AS mirrored_path FROM {LEDGER_TABLE}
                    WHERE dataset = {sql_literal(dataset.qualified_name)} AND superseded_at IS NULL
                ) AS ledger ON files.filename = ledger.mirrored_path"""
        )


def _file_fields(dataset: Dataset, landing_object: LandingObject) -> list:
    return [
        dataset.qualified_name,
        landing_object.key,
        landing_object.etag,
        landing_object.size,
        as_utc_naive(landing_object.last_modified),
    ]
