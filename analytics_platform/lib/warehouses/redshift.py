"""Redshift's part of loading (ANALYTICS_WAREHOUSE=redshift; REDSHIFT_* and
ANALYTICS_REDSHIFT_IAM_ROLE settings, region = AWS_REGION). Ready, not run here: no Redshift is
reachable from these machines; tests check the SQL with sqlglot's redshift dialect.

One `COPY ... FROM 's3://<bucket>/<manifest>' MANIFEST` per batch: the loader writes a manifest
naming exactly the batch's files (`mandatory: true`, so a missing one fails the COPY instead of
being skipped) to `<landing prefix>_manifests/<dataset>/<uuid>.manifest`, and Redshift reads the
files from S3 itself with the cluster's IAM role. The COPY fills a temporary staging table; the
rows go to the raw table with the load columns, and the ledger rows are written, in the same
transaction (the base class's), so the ledger stays exact.

Lineage: Redshift's COPY does not say which row came from which file. Rows per file (the ledger's
`rows`) come from `stl_load_commits` for the COPY; `_source_key` is the file's key when the batch
has one file, else the manifest's key (the manifest lists the files), and `_source_row` is a row
number within the batch. Set `batch_max_files = 1` for per-file lineage at the cost of one COPY
per file.

The bookkeeping SQL avoids what Redshift lacks (ON CONFLICT, arrays, ADD COLUMN IF NOT EXISTS,
unbounded VARCHAR).

External datasets (`Dataset.external`, docs/GAME.md and external.py) are read in place by Redshift
Spectrum: an external schema `<raw schema>_lake` (AWS Glue Data Catalog database of the same
name), an external table over the dataset's folder partitioned by its hive folders (OpenX JSON
SerDe), and a late-binding view `<raw schema>.<dataset>` joining it with the ledger on `"$path"`.
Each file is validated whole locally (external.validated_rows) and the partition of its folder is
added once per folder (`ALTER TABLE ... ADD IF NOT EXISTS PARTITION`) before its ledger row is
committed. Redshift runs DDL on external tables only outside a transaction block: that DDL goes
through a second, autocommit connection (`ddl_connection`); being idempotent, it may run before
the ledger's transaction commits (a file is visible only once its ledger row is).
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime

import psycopg2  # Redshift speaks the PostgreSQL protocol; dbt-redshift's driver is not needed

from analytics_platform.lib.datasets import LOAD_COLUMNS, Dataset
from analytics_platform.lib.objects import LandingObject
from analytics_platform.lib.warehouses.base import WarehouseConfig, bookkeeping_ddl
from analytics_platform.lib.warehouses.external import (
    PartitionFolder,
    lake_table,
    new_partition_folders,
    validated_rows,
)
from analytics_platform.lib.warehouses.files import (
    DUCKDB_DATA_ERRORS,
    LocalFile,
    sql_identifier,
    sql_literal,
)
from analytics_platform.lib.warehouses.postgres import (
    DEFERRED_TABLE,
    LEDGER_TABLE,
    QUARANTINE_TABLE,
    PostgresLoader,
    file_fields,
)

TEXT = "VARCHAR(65535)"
REDSHIFT_TYPES = {"VARCHAR": TEXT, "TEXT": TEXT, "STRING": TEXT, "DOUBLE": "DOUBLE PRECISION", "JSON": "SUPER"}
MANIFEST_FOLDER = "_manifests"


def redshift_type(data_type: str) -> str:
    return REDSHIFT_TYPES.get(data_type, data_type)


def redshift_time_format(strftime_format: str) -> str:
    """strftime (the declaration's) -> Redshift's TIMEFORMAT: %m/%d/%Y %H:%M:%S -> MM/DD/YYYY HH:MI:SS."""
    mapping = {"%Y": "YYYY", "%m": "MM", "%d": "DD", "%H": "HH24", "%M": "MI", "%S": "SS", "%f": "US"}
    for code, word in mapping.items():
        strftime_format = strftime_format.replace(code, word)
    return strftime_format


def manifest_body(bucket: str, landing_objects: list[LandingObject]) -> bytes:
    """The COPY manifest of exactly these files; each mandatory (a missing file fails the COPY)."""
    entries = [
        {"url": f"s3://{bucket}/{o.key}", "mandatory": True, "meta": {"content_length": o.size}}
        for o in landing_objects
    ]
    return json.dumps({"entries": entries}, indent=1).encode()


def copy_sql(dataset: Dataset, stage: str, manifest_url: str, iam_role: str, region: str,
             compressed: bool, file_format: str) -> str:
    """One COPY of a batch from its manifest into the staging table (declared columns, file order)."""
    options = dataset.file_format
    columns = ", ".join(sql_identifier(c.name) for c in dataset.columns)
    parts = [
        f"COPY {stage} ({columns})",
        f"FROM {sql_literal(manifest_url)}",
        f"IAM_ROLE {sql_literal(iam_role)}",
        f"REGION {sql_literal(region)}",
        "MANIFEST",
    ]
    if file_format == "csv":
        parts += [f"CSV QUOTE AS {sql_literal(options.quote)}", f"DELIMITER AS {sql_literal(options.delimiter)}"]
        if options.header:
            parts.append("IGNOREHEADER 1")
        parts.append("EMPTYASNULL")
    elif file_format == "json":
        parts.append("FORMAT AS JSON 'auto ignorecase'")
    else:
        parts = [p for p in parts if p != "MANIFEST"] + ["FORMAT AS PARQUET", "MANIFEST"]
    if file_format != "parquet":
        time_format = redshift_time_format(options.timestamp_format) if options.timestamp_format else "auto"
        parts += [f"TIMEFORMAT {sql_literal(time_format)}", "DATEFORMAT 'auto'"]
        if compressed:
            parts.append("GZIP")
    return "\n".join(parts)


def external_table_ddl(dataset: Dataset, bucket: str, root_prefix: str, iam_role: str, region: str) -> list[str]:
    """Spectrum's external schema and table over an external dataset's folder, and the view dbt
    reads (external.py); dbt_project/macros/external/ renders the same statements (a test compares
    them). Run by the loader when `svv_external_tables` lacks the table: Redshift has no
    CREATE EXTERNAL TABLE IF NOT EXISTS."""
    lake_schema, name = lake_table(dataset).split(".")
    spectrum_types = {**REDSHIFT_TYPES, "JSON": TEXT}  # Spectrum has no SUPER columns
    columns = ", ".join(f"{sql_identifier(c.name)} {spectrum_types.get(c.data_type, c.data_type)}" for c in dataset.columns)
    partitions = ", ".join(f"{sql_identifier(p)} VARCHAR(64)" for p in dataset.partition_columns)
    if (dataset.file_format.format or "json") != "json":
        raise NotImplementedError(f"{dataset.qualified_name}: Spectrum external datasets are declared as NDJSON (format: json)")
    table = (
        f"CREATE EXTERNAL TABLE {lake_schema}.{name} ({columns})"
        + (f" PARTITIONED BY ({partitions})" if partitions else "")
        + " ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'"
        " WITH SERDEPROPERTIES ('ignore.malformed.json' = 'true', 'dots.in.keys' = 'false')"
        f" STORED AS TEXTFILE LOCATION {sql_literal(f's3://{bucket}/{dataset.landing_prefix(root_prefix)}')}"
    )
    selected = [*(c.name for c in dataset.columns), *dataset.partition_columns]
    view = (
        f"CREATE OR REPLACE VIEW {dataset.raw_table} AS SELECT "
        + ", ".join(f"files.{sql_identifier(n)}" for n in selected)
        + ", ledger.s3_key AS _source_key, CAST(NULL AS BIGINT) AS _source_row, ledger.loaded_at AS _loaded_at"
        f" FROM {lake_schema}.{name} AS files JOIN {LEDGER_TABLE} AS ledger"
        f' ON files."$path" = {sql_literal(f"s3://{bucket}/{root_prefix}")} || SUBSTRING(ledger.s3_key, {len(root_prefix) + 1})'
        f" WHERE ledger.dataset = {sql_literal(dataset.qualified_name)} AND ledger.superseded_at IS NULL"
        " WITH NO SCHEMA BINDING"
    )
    schema = (
        f"CREATE EXTERNAL SCHEMA IF NOT EXISTS {lake_schema} FROM DATA CATALOG DATABASE {sql_literal(lake_schema)}"
        f" IAM_ROLE {sql_literal(iam_role)} REGION {sql_literal(region)} CREATE EXTERNAL DATABASE IF NOT EXISTS"
    )
    return [schema, table, f"CREATE SCHEMA IF NOT EXISTS {dataset.raw_schema}", view]


def external_table_exists_sql(dataset: Dataset) -> str:
    lake_schema, name = lake_table(dataset).split(".")
    return (f"SELECT count(*) FROM svv_external_tables WHERE schemaname = {sql_literal(lake_schema)} "
            f"AND tablename = {sql_literal(name)}")


def add_partition_sql(dataset: Dataset, folder: PartitionFolder) -> str:
    spec = ", ".join(f"{name} = {sql_literal(value)}" for name, value in zip(dataset.partition_columns, folder.values))
    return f"ALTER TABLE {lake_table(dataset)} ADD IF NOT EXISTS PARTITION ({spec}) LOCATION {sql_literal(folder.location)}"


class RedshiftLoader(PostgresLoader):
    # DuckDB's: the local whole-file validation of external datasets.
    data_errors = (psycopg2.InternalError, psycopg2.DataError, *DUCKDB_DATA_ERRORS)

    def __init__(self, connection, s3_client, bucket: str, prefix: str, iam_role: str, region: str,
                 ddl_connection=None):
        # No PostgresLoader.__init__: a different connection, the same bookkeeping reads.
        super(PostgresLoader, self).__init__()
        self._connection = connection
        # External tables' DDL runs outside any transaction block (module docstring).
        self._ddl_connection = ddl_connection or connection
        self._partitions_added: set[tuple[str, tuple[str, ...]]] = set()
        self._s3 = s3_client
        self._bucket, self._prefix = bucket, prefix
        self._iam_role, self._region = iam_role, region
        self._create_bookkeeping_tables()

    @classmethod
    def from_config(cls, config: WarehouseConfig) -> RedshiftLoader:
        from analytics_platform.settings import load_settings

        settings = load_settings()
        if not config.redshift_iam_role:
            raise ValueError("ANALYTICS_REDSHIFT_IAM_ROLE is required: the role Redshift assumes to read S3")
        def connect():
            connection = psycopg2.connect(
                host=config.redshift_host, port=int(config.redshift_port), user=config.redshift_user,
                password=os.environ.get("REDSHIFT_PASSWORD", ""), dbname=config.redshift_database,
                application_name="analytics-platform-ingestion",
            )
            connection.autocommit = True
            return connection

        connection = connect()
        import boto3

        s3_client = boto3.client("s3", region_name=config.aws_region, endpoint_url=settings.s3_endpoint_url)
        return cls(connection, s3_client, settings.landing_bucket, settings.landing_prefix,
                   config.redshift_iam_role, config.aws_region, ddl_connection=connect())

    def close(self) -> None:
        if self._ddl_connection is not self._connection:
            self._ddl_connection.close()
        super().close()

    def _create_bookkeeping_tables(self) -> None:
        for statement in bookkeeping_ddl(TEXT):
            self._execute(statement)

    def _create_raw_table(self, dataset: Dataset) -> None:
        if dataset.external:
            self._create_external_table(dataset)
            return
        columns = [(c.name, redshift_type(c.data_type)) for c in dataset.columns]
        columns += [(name, redshift_type(sql_type)) for name, sql_type, _ in LOAD_COLUMNS]
        ddl = ", ".join(f"{sql_identifier(name)} {sql_type}" for name, sql_type in columns)
        self._execute(f"CREATE SCHEMA IF NOT EXISTS {dataset.raw_schema}")
        self._execute(f"CREATE TABLE IF NOT EXISTS {dataset.raw_table} ({ddl})")

    # --- writes, inside the base class's transaction -------------------------------------------

    def _record_quarantine(
        self, dataset: Dataset, landing_object: LandingObject, reason: str, at: datetime, run_id: str
    ) -> None:
        self._execute(f"DELETE FROM {QUARANTINE_TABLE} WHERE s3_key = %s AND etag = %s",
                      [landing_object.key, landing_object.etag])
        self._execute(f"INSERT INTO {QUARANTINE_TABLE} VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                      [*file_fields(dataset, landing_object), reason, at, run_id])
        self._clear_deferrals([landing_object])

    def _record_deferral(
        self, dataset: Dataset, landing_object: LandingObject, reason: str, at: datetime, run_id: str
    ) -> None:
        self._execute(
            f"""UPDATE {DEFERRED_TABLE} SET reason = %s, deferred_at = %s, attempts = attempts + 1,
                run_id = %s WHERE s3_key = %s AND etag = %s""",
            [reason, at, run_id, landing_object.key, landing_object.etag],
        )
        self._execute(
            f"""INSERT INTO {DEFERRED_TABLE}
                SELECT %s, %s, %s, %s, %s, %s, %s, %s, 1, %s
                WHERE NOT EXISTS (SELECT 1 FROM {DEFERRED_TABLE} WHERE s3_key = %s AND etag = %s)""",
            [*file_fields(dataset, landing_object), reason, at, at, run_id, landing_object.key, landing_object.etag],
        )

    def _supersede(self, dataset: Dataset, keys: list[str], at: datetime) -> None:
        [(previous,)] = self._fetchall(
            f"SELECT count(*) FROM {LEDGER_TABLE} WHERE superseded_at IS NULL AND s3_key IN %s", [tuple(keys)]
        )
        if not previous:
            return
        if not dataset.external:  # an external dataset's new version replaced the file itself
            self._execute(f"DELETE FROM {dataset.raw_table} WHERE _source_key IN %s", [tuple(keys)])
        self._execute(
            f"UPDATE {LEDGER_TABLE} SET superseded_at = %s WHERE superseded_at IS NULL AND s3_key IN %s",
            [at, tuple(keys)],
        )

    def _record_in_ledger(
        self, dataset: Dataset, loaded: list[tuple[LandingObject, int]], loaded_at: datetime, run_id: str
    ) -> None:
        with self._connection.cursor() as cursor:
            for obj, rows in loaded:
                cursor.execute(f"DELETE FROM {LEDGER_TABLE} WHERE s3_key = %s AND etag = %s", [obj.key, obj.etag])
                cursor.execute(
                    f"INSERT INTO {LEDGER_TABLE} VALUES (%s, %s, %s, %s, %s, %s, %s, %s, NULL)",
                    [*file_fields(dataset, obj), rows, loaded_at, run_id],
                )
        self._clear_deferrals([obj for obj, _ in loaded])

    def _insert_files(
        self, dataset: Dataset, local_files: list[LocalFile], loaded_at: datetime
    ) -> dict[str, int]:
        objects = [f.landing_object for f in local_files]
        manifest_key = f"{self._prefix}{MANIFEST_FOLDER}/{dataset.domain}/{dataset.name}/{uuid.uuid4().hex}.manifest"
        self._s3.put_object(Bucket=self._bucket, Key=manifest_key, Body=manifest_body(self._bucket, objects))
        stage = "_landing_stage"
        declared = ", ".join(
            f"{sql_identifier(c.name)} {redshift_type(c.data_type)}" for c in dataset.columns
        )
        self._execute(f"DROP TABLE IF EXISTS {stage}")
        self._execute(f"CREATE TEMP TABLE {stage} ({declared})")
        self._execute(copy_sql(dataset, stage, f"s3://{self._bucket}/{manifest_key}", self._iam_role,
                               self._region, local_files[0].compressed, local_files[0].file_format))
        counts = dict(self._fetchall(
            "SELECT trim(filename), sum(lines_scanned) FROM stl_load_commits "
            "WHERE query = pg_last_copy_id() GROUP BY 1"
        ))
        source_key = objects[0].key if len(objects) == 1 else manifest_key
        names = [c.name for c in dataset.columns]
        targets = ", ".join(map(sql_identifier, [*names, *(n for n, _, _ in LOAD_COLUMNS)]))
        self._execute(
            f"INSERT INTO {dataset.raw_table} ({targets}) SELECT {', '.join(map(sql_identifier, names))}, "
            f"%s, row_number() OVER (), %s FROM {stage}",
            [source_key, loaded_at],
        )
        self._execute(f"DROP TABLE {stage}")
        return {o.key: int(counts.get(f"s3://{self._bucket}/{o.key}", 0)) for o in objects}

    # --- external datasets: read in place by Spectrum ------------------------------------------

    def _run_ddl(self, statement: str) -> None:
        with self._ddl_connection.cursor() as cursor:
            cursor.execute(statement)

    def _create_external_table(self, dataset: Dataset) -> None:
        statements = external_table_ddl(dataset, self._bucket, self._prefix, self._iam_role, self._region)
        with self._ddl_connection.cursor() as cursor:
            cursor.execute(external_table_exists_sql(dataset))
            [(exists,)] = cursor.fetchall()
        for statement in statements if not exists else statements[2:]:  # the view follows the columns
            self._run_ddl(statement)

    def _register_external_files(
        self, dataset: Dataset, local_files: list[LocalFile], loaded_at: datetime
    ) -> dict[str, int]:
        rows = validated_rows(dataset, local_files)
        for folder in new_partition_folders(dataset, self._bucket, self._prefix, local_files, self._partitions_added):
            self._run_ddl(add_partition_sql(dataset, folder))
        return rows


__all__ = ["RedshiftLoader", "add_partition_sql", "copy_sql", "external_table_ddl", "manifest_body",
           "redshift_time_format"]
