"""Apache Spark's part of loading (ANALYTICS_WAREHOUSE=spark): Spark's built-in parquet tables in a
local warehouse folder (settings: ANALYTICS_SPARK_WAREHOUSE_DIR), the runnable stand-in for
Databricks (docs/SPARK_DATABRICKS.md).

Typing: each file of a batch is read and typed by an in-process, in-memory DuckDB with the very
SELECT the DuckDB loader inserts (`duckdb_selects.typed_file_select_sql`), as the PostgreSQL loader does,
and written as a typed parquet file beside the download. So every engine accepts and rejects
exactly the same files with the same reasons (one implementation of the cast rules), and Spark
receives exactly-typed columns it only has to append.

Exactly once without transactions: parquet tables have none (Delta on Databricks has), so
  - a raw table is partitioned by `_source_key`: writing a file is overwriting its partition
    (dynamic partition overwrite), which is idempotent. A re-delivery replaces its key's rows the
    same way, and a retry after a crash rewrites the same rows instead of duplicating them;
  - the base class's transactions are kept in memory and a batch's are written together at its
    end (every Spark write is a job, seconds on a small machine): nothing reaches Spark before,
    so a batch that fails on a data error (found while typing, before any write) leaves no trace
    and is retried file by file. The rows are written first, then the ledger rows, the commit
    point: a crash in between leaves rows whose file is not in the ledger, so the next run loads
    the file again and overwrites them.
The bookkeeping tables (base.bookkeeping_ddl) are small: appended to, or rewritten whole when a
row changes (a re-delivery supersedes a ledger row, a deferral is counted or cleared).

External datasets (the game events, docs/GAME.md) are not copied: each file is validated whole
and mirrored into a local lake folder (`<warehouse dir>/lake`, as DuckDB mirrors them:
external.mirror_into_lake), and Databricks' DDL (databricks.external_table_ddl, add_partition_sql)
runs over that folder: an external JSON table partitioned by its hive folders, a partition added
as a folder arrives, and the view joined with the ledger that dbt's source reads.

One JVM at a time may open the embedded (Derby) metastore. The loader joins a Spark session this
process already has (the tests share one with in-process dbt); otherwise it starts its own and,
on close, stops it and its JVM, so the dbt process that runs next can open the metastore.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

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
from analytics_platform.lib.warehouses.databricks import add_partition_sql, external_table_ddl
from analytics_platform.lib.warehouses.duckdb_selects import typed_file_select_sql
from analytics_platform.lib.warehouses.external import (
    lake_table,
    landing_root_prefix,
    mirror_into_lake,
    new_partition_folders,
)
from analytics_platform.lib.warehouses.files import (
    DUCKDB_DATA_ERRORS,
    LocalFile,
    duckdb_reason,
    scratch_duckdb,
    sql_literal,
)

PARTITION_COLUMN = "_source_key"
# Declared types are DuckDB's spelling; the few Spark spells differently.
SPARK_TYPES = {"VARCHAR": "STRING", "TEXT": "STRING", "JSON": "STRING", "DOUBLE PRECISION": "DOUBLE",
               "HUGEINT": "DECIMAL(38,0)", "UBIGINT": "DECIMAL(20,0)", "UINTEGER": "BIGINT"}


def spark_type(data_type: str) -> str:
    return SPARK_TYPES.get(data_type.upper(), data_type)


def spark_identifier(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def spark_string(text: str) -> str:
    """A Spark SQL string literal: Spark escapes with a backslash (macros/cross_db/sql_literals.sql)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def spark_session_config(warehouse_dir: Path | str) -> dict[str, str]:
    """The settings of the local Spark session, the same for the loader and dbt (the `spark`
    output of dbt_project/profiles.yml spells them out; test_spark.py checks they agree)."""
    root = Path(warehouse_dir).resolve()
    return {
        "spark.master": "local[2]",
        "spark.sql.warehouse.dir": f"{root}/warehouse",
        "javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={root}/metastore_db;create=true",
        # Every timestamp in this warehouse is naive UTC (docs/CONTRACTS.md).
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": "2",  # the default 200 costs seconds per query on small data
        "spark.ui.enabled": "false",
        # Overwriting a partitioned table replaces only the partitions written (raw tables here,
        # insert_overwrite models in dbt).
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        # dbt-spark forces ANSI off; the loader's session behaves the same.
        "spark.sql.ansi.enabled": "false",
        # derby.log beside the metastore, not in the working directory.
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={root}",
    }


def open_spark_session(warehouse_dir: Path | str):
    """(session, started here?): the session this process already has, if it uses this
    warehouse; else a new one with `spark_session_config`."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    config = spark_session_config(warehouse_dir)
    if SparkContext._active_spark_context is not None:
        session = SparkSession.builder.getOrCreate()
        in_use = session.conf.get("spark.sql.warehouse.dir")
        if Path(in_use.removeprefix("file:")).resolve() != Path(config["spark.sql.warehouse.dir"]):
            raise RuntimeError(
                f"this process already has a Spark session on warehouse {in_use}; a process holds one "
                f"Spark session, so it cannot also open {config['spark.sql.warehouse.dir']}"
            )
        return session, False
    Path(warehouse_dir).mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.enableHiveSupport()
    for name, value in config.items():
        builder = builder.config(name, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session, True


def stop_spark_session(session) -> None:
    """Stop the session and its JVM: the embedded metastore is released only when the JVM exits."""
    from pyspark import SparkContext

    session.stop()
    gateway = SparkContext._gateway
    if gateway is None:
        return
    gateway.shutdown()
    process = getattr(gateway, "proc", None)
    if process is not None and process.stdin is not None:
        process.stdin.close()  # the JVM exits when its stdin closes (pyspark's gateway contract)
        process.wait(timeout=60)
    SparkContext._gateway = None
    SparkContext._jvm = None


@dataclass
class _Changes:
    """Writes not yet made: the open transaction's, or committed ones kept for one write per batch."""

    staged: dict[str, list[tuple[Path, list[str]]]] = field(default_factory=dict)
    """raw table -> (typed parquet file, its column names) of every file loaded."""
    written_keys: dict[str, set[str]] = field(default_factory=dict)
    """raw table -> keys with rows among them (each overwrites its partition)."""
    superseded: dict[str, set[str]] = field(default_factory=dict)
    """raw table -> keys whose earlier version's rows are replaced (dropped when not rewritten)."""
    supersede_at: dict[str, datetime] = field(default_factory=dict)
    """key -> when its unsuperseded ledger rows are marked superseded."""
    bookkeeping: dict[str, list[tuple[tuple[str, str], tuple | None]]] = field(default_factory=dict)
    """bookkeeping table -> ((key, etag), new row or None to delete it), in order."""

    def absorb(self, other: _Changes) -> None:
        for raw_table, staged in other.staged.items():
            self.staged.setdefault(raw_table, []).extend(staged)
        for mine, theirs in ((self.written_keys, other.written_keys), (self.superseded, other.superseded)):
            for raw_table, keys in theirs.items():
                mine.setdefault(raw_table, set()).update(keys)
        self.supersede_at.update(other.supersede_at)
        for table, operations in other.bookkeeping.items():
            self.bookkeeping.setdefault(table, []).extend(operations)


class SparkLoader(WarehouseLoader):
    data_errors = DUCKDB_DATA_ERRORS

    def __init__(self, warehouse_dir: Path | str, landing_prefix: str = "landing/"):
        super().__init__()
        self._spark, self._owns_session = open_spark_session(warehouse_dir)
        # External datasets' files, mirrored beside the tables; Spark names them file:/<path>.
        self._lake_dir = Path(warehouse_dir).resolve() / "lake"
        self._lake_root = f"file:{self._lake_dir.as_posix()}/"
        self._landing_prefix = landing_prefix
        self._partitions_added: set[tuple[str, tuple[str, ...]]] = set()
        for statement in bookkeeping_ddl("STRING", table_clause="USING parquet"):
            self._spark.sql(statement)
        # The bookkeeping tables, one row per file version: small, and this loader is their only
        # writer (the warehouse pool), so it keeps them in memory and writes its changes.
        self._bookkeeping = {
            table: {(row["s3_key"], row["etag"]): tuple(row) for row in self._spark.table(table).collect()}
            for table in (LEDGER_TABLE, QUARANTINE_TABLE, DEFERRED_TABLE)
        }
        self._transaction_state: _Changes | None = None
        self._committed = _Changes()
        self._in_batch = False

    @classmethod
    def from_config(cls, config: WarehouseConfig) -> SparkLoader:
        return cls(config.spark_warehouse_dir, config.landing_prefix)

    def close(self) -> None:
        if self._owns_session:
            stop_spark_session(self._spark)

    def _query(self, sql: str) -> list[tuple]:
        return [tuple(row) for row in self._spark.sql(sql).collect()]

    def _create_raw_table(self, dataset: Dataset) -> None:
        if dataset.external:
            for statement in external_table_ddl(dataset, "", self._landing_prefix, self._lake_root):
                self._spark.sql(statement)
            return
        columns = [(c.name, spark_type(c.data_type)) for c in dataset.columns]
        columns += [(name, spark_type(sql_type)) for name, sql_type, _ in LOAD_COLUMNS]
        ddl = ", ".join(f"{spark_identifier(name)} {sql_type}" for name, sql_type in columns)
        self._spark.sql(f"CREATE SCHEMA IF NOT EXISTS {dataset.raw_schema}")
        self._spark.sql(
            f"CREATE TABLE IF NOT EXISTS {dataset.raw_table} ({ddl}) USING parquet "
            f"PARTITIONED BY ({PARTITION_COLUMN})"
        )

    def _error_reason(self, error: BaseException) -> str:
        return duckdb_reason(error)

    # --- the transaction, kept in memory until its commit --------------------------------------

    def _begin(self) -> None:
        self._transaction_state = _Changes()

    def _rollback(self) -> None:
        changes, self._transaction_state = self._transaction_state, None
        if changes is not None:
            _remove_staged(changes)

    def _commit(self) -> None:
        changes, self._transaction_state = self._transaction_state, None
        self._committed.absorb(changes)
        if not self._in_batch:
            self._write_committed()

    def _load_batch(self, dataset, batch, local_files, run_id):
        # Every Spark write costs a job (seconds on a small machine): the transactions of one
        # batch (one, or one per file after a data error) are written together, once, before
        # the batch's outcomes are reported. A crash before that write leaves the whole batch
        # unsettled, to be loaded again by the next run.
        self._in_batch = True
        try:
            outcomes = super()._load_batch(dataset, batch, local_files, run_id)
        finally:
            self._in_batch = False
        self._write_committed()
        return outcomes

    @property
    def _open(self) -> _Changes:
        if self._transaction_state is None:
            raise RuntimeError("Spark loader: a write outside the base class's transaction")
        return self._transaction_state

    def _write_committed(self) -> None:
        changes, self._committed = self._committed, _Changes()
        try:
            for raw_table in sorted(set(changes.staged) | set(changes.superseded)):
                self._write_raw(raw_table, changes)
            # The ledger last: its rows are the commit point (module docstring).
            for table in (QUARANTINE_TABLE, DEFERRED_TABLE, LEDGER_TABLE):
                self._write_bookkeeping(table, changes)
        finally:
            _remove_staged(changes)

    def _write_raw(self, raw_table: str, changes: _Changes) -> None:
        rewritten = changes.written_keys.get(raw_table, set())
        for key in sorted(changes.superseded.get(raw_table, set()) - rewritten):
            # A re-delivery with no rows: nothing overwrites the key's partition, so drop it.
            self._spark.sql(
                f"ALTER TABLE {raw_table} DROP IF EXISTS PARTITION ({PARTITION_COLUMN} = {spark_string(key)})"
            )
        staged = changes.staged.get(raw_table)
        if not staged:
            return
        table_columns = self._spark.table(raw_table).schema
        frames = []
        for path, names in staged:
            frame = self._spark.read.parquet(str(path)).toDF(*names)
            frames.append(frame.select([
                (frame[f.name] if f.name in names else _null()).cast(f.dataType).alias(f.name)
                for f in table_columns.fields
            ]))
        rows = functools.reduce(lambda left, right: left.unionByName(right), frames)
        # Dynamic: the overwrite replaces the partitions (keys) written, nothing else.
        self._spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
        rows.write.insertInto(raw_table, overwrite=True)

    def _write_bookkeeping(self, table: str, changes: _Changes) -> None:
        operations = changes.bookkeeping.get(table, [])
        superseding = changes.supersede_at if table == LEDGER_TABLE else {}
        current = self._bookkeeping[table]
        changed = dict(current)
        if superseding:
            position = self._spark.table(table).schema.fieldNames().index("superseded_at")
            for identity, row in current.items():
                if identity[0] in superseding and row[position] is None:
                    changed[identity] = (*row[:position], superseding[identity[0]], *row[position + 1:])
        for identity, row in operations:
            if row is None:
                changed.pop(identity, None)
            else:
                changed[identity] = row
        if changed == current:
            return
        schema = self._spark.table(table).schema
        added = [row for identity, row in changed.items() if identity not in current]
        if all(changed.get(identity) == row for identity, row in current.items()):
            # Only new rows: an append (the common case; all or nothing).
            self._spark.createDataFrame(added, schema).write.insertInto(table)
        else:
            # Rewritten from the rows in memory (Spark cannot overwrite a table it reads from).
            self._spark.createDataFrame(list(changed.values()), schema).write.insertInto(table, overwrite=True)
        self._bookkeeping[table] = changed

    # --- reads ---------------------------------------------------------------------------------

    def _literal(self, value: str) -> str:
        return spark_string(value)

    # --- writes, recorded in the open transaction ----------------------------------------------

    def _record_quarantine(
        self, dataset: Dataset, landing_object: LandingObject, reason: str, at: datetime, run_id: str
    ) -> None:
        row = (*_file_fields(dataset, landing_object), reason, at, run_id)
        self._open.bookkeeping.setdefault(QUARANTINE_TABLE, []).append((landing_object.identity, row))
        self._clear_deferrals([landing_object])

    def _record_deferral(
        self, dataset: Dataset, landing_object: LandingObject, reason: str, at: datetime, run_id: str
    ) -> None:
        earlier = self._bookkeeping[DEFERRED_TABLE].get(landing_object.identity)
        first_deferred_at, attempts = (earlier[6], earlier[8]) if earlier else (at, 0)
        row = (*_file_fields(dataset, landing_object), reason, first_deferred_at, at, attempts + 1, run_id)
        self._open.bookkeeping.setdefault(DEFERRED_TABLE, []).append((landing_object.identity, row))

    def _clear_deferrals(self, landing_objects: Iterable[LandingObject]) -> None:
        operations = self._open.bookkeeping.setdefault(DEFERRED_TABLE, [])
        operations.extend((landing_object.identity, None) for landing_object in landing_objects)

    def _supersede(self, dataset: Dataset, keys: list[str], at: datetime) -> None:
        wanted = set(keys)
        previous = {
            key for (key, _), row in self._bookkeeping[LEDGER_TABLE].items() if key in wanted and row[-1] is None
        }
        if not previous:
            return  # the common case: first versions only
        if not dataset.external:  # an external dataset's new version overwrites its mirrored file
            self._open.superseded.setdefault(dataset.raw_table, set()).update(previous)
        self._open.supersede_at.update({key: at for key in previous})

    def _record_in_ledger(
        self,
        dataset: Dataset,
        loaded: list[tuple[LandingObject, int]],
        loaded_at: datetime,
        run_id: str,
    ) -> None:
        operations = self._open.bookkeeping.setdefault(LEDGER_TABLE, [])
        for landing_object, rows in loaded:
            # Replacing: a key reverted to an earlier version reloads it under the same ETag.
            row = (*_file_fields(dataset, landing_object), rows, loaded_at, run_id, None)
            operations.append((landing_object.identity, row))
        self._clear_deferrals(landing_object for landing_object, _ in loaded)

    def _insert_files(
        self, dataset: Dataset, local_files: list[LocalFile], loaded_at: datetime
    ) -> dict[str, int]:
        known = {c.name for c in dataset.columns}
        extra = sorted(
            {name for f in local_files for name in f.by_normalised_name if name not in known and not name.startswith("_")}
        )
        # A column that appears in newer files flows through as text, as on DuckDB.
        existing = {name.lower() for name in self._spark.table(dataset.raw_table).columns}
        missing = [name for name in extra if name.lower() not in existing]
        if missing:
            added = ", ".join(f"{spark_identifier(name)} STRING" for name in missing)
            self._spark.sql(f"ALTER TABLE {dataset.raw_table} ADD COLUMNS ({added})")
        names = [c.name for c in dataset.columns] + extra + [n for n, _, _ in LOAD_COLUMNS]
        loaded_at_sql = f"TIMESTAMP {sql_literal(loaded_at.isoformat(sep=' '))}"
        changes = self._open
        rows: dict[str, int] = {}
        with scratch_duckdb() as reader:
            for local_file in local_files:
                typed = local_file.path.with_name(local_file.path.name + ".typed.parquet")
                select = typed_file_select_sql(dataset, local_file, extra, loaded_at_sql)
                [(count,)] = reader.execute(
                    f"COPY {select} TO {sql_literal(str(typed))} (FORMAT parquet)"
                ).fetchall()
                changes.staged.setdefault(dataset.raw_table, []).append((typed, names))
                if count:  # a file without rows writes no partition
                    changes.written_keys.setdefault(dataset.raw_table, set()).add(local_file.landing_object.key)
                rows[local_file.landing_object.key] = count
        return rows

    def _register_external_files(
        self, dataset: Dataset, local_files: list[LocalFile], loaded_at: datetime
    ) -> dict[str, int]:
        rows = mirror_into_lake(dataset, local_files, self._lake_dir)  # validated whole, then mirrored
        root = landing_root_prefix(dataset, local_files[0].landing_object.key)
        if root != self._landing_prefix:  # keys under another landing root: the view's join uses it
            self._landing_prefix = root
            self._create_raw_table(dataset)
        added = self._partitions_added
        for folder in new_partition_folders(dataset, "", root, local_files, added, self._lake_root):
            self._spark.sql(add_partition_sql(dataset, folder))
        # Spark caches a table's file listing: a new or replaced file is read after a refresh.
        self._spark.catalog.refreshTable(lake_table(dataset))
        return rows


def _null():
    from pyspark.sql import functions

    return functions.lit(None)


def _remove_staged(changes: _Changes) -> None:
    for staged in changes.staged.values():
        for path, _ in staged:
            path.unlink(missing_ok=True)


def _file_fields(dataset: Dataset, landing_object: LandingObject) -> tuple:
    return (
        dataset.qualified_name,
        landing_object.key,
        landing_object.etag,
        landing_object.size,
        as_utc_naive(landing_object.last_modified),
    )
