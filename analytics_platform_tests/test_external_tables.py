"""External datasets on the warehouses these machines cannot reach (Redshift Spectrum, Databricks):
the DDL of dbt_project/macros/external/ (rendered by analyses/external_table_statements.sql,
compiled offline) parses with sqlglot and is the very text the loaders run; the loaders validate
each file whole, add each new folder's partition once, and copy no row."""

from __future__ import annotations

import gzip
import json
import re
from datetime import datetime, timezone

import pytest
import sqlglot
from sqlglot import exp

from analytics_platform.lib.objects import LandingObject
from analytics_platform.lib.warehouses import databricks, redshift
from analytics_platform.lib.warehouses.external import lake_table, partition_folder
from analytics_platform.local.sample_data.game import GameSpec, game_files

from .helpers import OFFLINE_COMPILE_ENV, RecordingConnection, declared_datasets, sql_statements

BUCKET, PREFIX = OFFLINE_COMPILE_ENV["ANALYTICS_LANDING_BUCKET"], OFFLINE_COMPILE_ENV["ANALYTICS_LANDING_PREFIX"]
IAM_ROLE, REGION = OFFLINE_COMPILE_ENV["ANALYTICS_REDSHIFT_IAM_ROLE"], OFFLINE_COMPILE_ENV["AWS_REGION"]


def external_datasets():
    found = [d for d in declared_datasets() if d.external]
    assert found, "the project declares no external dataset (meta.landing.external: true)"
    return found


def loader_statements(target: str, dataset) -> list[str]:
    """What the loader runs for the dataset, and the partition of the analysis' sample folder."""
    folders = "/".join(f"{c}={ {'dt': '2026-10-01', 'hh': '00'}.get(c, 'sample')}" for c in dataset.partition_columns)
    folder = partition_folder(dataset, BUCKET, PREFIX, f"{dataset.landing_prefix(PREFIX)}{folders}/sample.json.gz")
    if target == "redshift":
        return [*redshift.external_table_ddl(dataset, BUCKET, PREFIX, IAM_ROLE, REGION),
                redshift.add_partition_sql(dataset, folder)]
    refresh = [f"MSCK REPAIR TABLE {lake_table(dataset)}"] if dataset.partition_columns else []
    return [*databricks.external_table_ddl(dataset, BUCKET, PREFIX), databricks.add_partition_sql(dataset, folder), *refresh]


@pytest.mark.parametrize("target", ["databricks", "redshift"])
def test_the_external_table_macros_render_the_loaders_statements_and_parse(offline_compiled, target):
    [analysis] = (offline_compiled[target] / "compiled").rglob("external_table_statements.sql")
    rendered = sql_statements(analysis.read_text())
    expected = [" ".join(s.split()) for d in external_datasets() for s in loader_statements(target, d)]
    assert rendered == expected  # one text for dbt (run-operation stage_external_sources) and ingestion

    dialect = target
    for dataset in external_datasets():
        lake, location = lake_table(dataset), f"s3://{BUCKET}/{dataset.landing_prefix(PREFIX)}"
        statements = [s for s in rendered if lake.split(".")[0] in s or dataset.raw_table in s]
        parsed = [sqlglot.parse_one(s, read=dialect) for s in statements]
        commands = [s for s, p in zip(statements, parsed) if isinstance(p, exp.Command)]
        if target == "databricks":
            # sqlglot reads everything but MSCK REPAIR TABLE, checked as text.
            assert commands == [f"MSCK REPAIR TABLE {lake}"]
            [table] = [p for p in parsed if isinstance(p, exp.Create) and p.kind == "TABLE"]
            columns = {c.name: c.args["kind"].sql("databricks") for c in table.this.expressions}
            assert list(columns) == [*(c.name for c in dataset.columns), *dataset.partition_columns]
            assert all(columns[p] == "STRING" for p in dataset.partition_columns)
            assert columns["event_timestamp"] == "BIGINT" and columns["event_id"] == "STRING"
            properties = table.args["properties"].sql("databricks")
            assert "USING JSON" in properties and f"LOCATION '{location}'" in properties
            assert "'compression'='gzip'" in properties
            assert f"PARTITIONED BY ({', '.join(dataset.partition_columns)})" in properties.replace("`", "")
        else:
            # sqlglot reads Spectrum's CREATE EXTERNAL SCHEMA / TABLE only as opaque commands:
            # checked as text, clause by clause.
            schema_sql, table_sql = commands
            assert re.fullmatch(
                rf"CREATE EXTERNAL SCHEMA IF NOT EXISTS {dataset.raw_schema}_lake FROM DATA CATALOG DATABASE "
                rf"'{dataset.raw_schema}_lake' IAM_ROLE '{re.escape(IAM_ROLE)}' REGION '{REGION}' "
                "CREATE EXTERNAL DATABASE IF NOT EXISTS", schema_sql)
            column_ddl = ", ".join(f'"{c.name}" {redshift.redshift_type(c.data_type)}' for c in dataset.columns)
            partitions = ", ".join(f'"{p}" VARCHAR(64)' for p in dataset.partition_columns)
            assert table_sql == (
                f"CREATE EXTERNAL TABLE {lake} ({column_ddl}) PARTITIONED BY ({partitions}) "
                "ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' WITH SERDEPROPERTIES "
                "('ignore.malformed.json' = 'true', 'dots.in.keys' = 'false') STORED AS TEXTFILE "
                f"LOCATION '{location}'"
            )
            assert "SUPER" not in table_sql  # Spectrum has no SUPER columns
        # Both engines: the partition DDL and the view parse as what they are.
        [alter] = [p for p in parsed if isinstance(p, exp.Alter)]
        assert alter.this.sql() == lake and "ADD IF NOT EXISTS PARTITION" in alter.sql(dialect)
        assert f"LOCATION '{location}dt=2026-10-01/hh=00/'" in alter.sql(dialect)
        [view] = [p for p in parsed if isinstance(p, exp.Create) and p.kind == "VIEW"]
        assert view.this.sql() == dataset.raw_table
        [join] = view.expression.args["joins"]
        assert join.this.sql() == "raw._ingestion_ledger AS ledger"
        outputs = [e.alias_or_name for e in view.expression.expressions]
        assert outputs == [*(c.name for c in dataset.columns), *dataset.partition_columns,
                           "_source_key", "_source_row", "_loaded_at"]


def _events_landed(s3_client, settings):
    files = [f for _, _, f in game_files(GameSpec(days=1, players=12, include_malformed=True), settings.landing_prefix)]
    assert any(f.malformed for f in files)
    landed = []
    for landing_file in files:
        s3_client.put_object(Bucket=settings.landing_bucket, Key=landing_file.key, Body=landing_file.body)
        etag = s3_client.head_object(Bucket=settings.landing_bucket, Key=landing_file.key)["ETag"].strip('"')
        landed.append((LandingObject(settings.landing_bucket, landing_file.key, etag, len(landing_file.body),
                                     datetime.now(timezone.utc)), landing_file.body))
    return landed


def _json_lines(body: bytes) -> int | None:
    """Objects in a gzip NDJSON file, counted in plain Python; None when a line is not JSON."""
    lines = [line for line in gzip.decompress(body).decode().splitlines() if line.strip()]
    try:
        return len([json.loads(line) for line in lines])
    except json.JSONDecodeError:
        return None


@pytest.mark.parametrize("engine", ["databricks", "redshift"])
def test_loaders_validate_external_files_whole_and_add_each_folder_once(s3_client, settings, engine):
    [dataset] = [d for d in external_datasets() if d.qualified_name == "game.events"]
    landed = _events_landed(s3_client, settings)
    connection = RecordingConnection({"SELECT count(*) FROM raw._ingestion_ledger": [(0,)]})
    ddl = RecordingConnection({"svv_external_tables": [(0,)]})
    if engine == "redshift":
        loader = redshift.RedshiftLoader(connection, s3_client, settings.landing_bucket, settings.landing_prefix,
                                         IAM_ROLE, REGION, ddl_connection=ddl)
    else:
        loader = databricks.DatabricksLoader(connection, settings.landing_bucket, settings.landing_prefix)
        ddl = connection
    objects = [obj for obj, _ in landed]
    outcomes = {o.landing_object.key: o for batch in loader.load_in_batches(dataset, objects, s3_client, "run-1") for o in batch}

    lines = {obj.key: _json_lines(body) for obj, body in landed}
    for key, count in lines.items():
        if count is None:  # the cut-short file: quarantined whole, with the reason
            assert outcomes[key].quarantine_reason and "re-deliver" in outcomes[key].quarantine_reason
        else:
            assert outcomes[key].loaded and outcomes[key].rows == count, key
    # No row is copied: no COPY, no INSERT into a raw table.
    assert not [s for s in connection.statements + ddl.statements if s.startswith(("COPY", "INSERT INTO raw_game"))]
    # One partition statement per folder of an accepted file, on the DDL connection.
    folders = sorted({key.rsplit("/", 1)[0] + "/" for key, count in lines.items() if count is not None})
    partitions = [s for s in ddl.statements if "ADD IF NOT EXISTS PARTITION" in s]
    assert sorted(re.search(r"LOCATION '([^']+)'", s)[1] for s in partitions) == [
        f"s3://{settings.landing_bucket}/{folder}" for folder in folders]
    dialect = "redshift" if engine == "redshift" else "databricks"
    for statement in partitions:
        assert isinstance(sqlglot.parse_one(statement, read=dialect), exp.Alter)
    if engine == "redshift":  # external DDL never inside the ledger's transaction block
        assert "BEGIN" not in ddl.statements and not [s for s in connection.statements if "PARTITION" in s]
        ledger = [s for s in connection.statements if s.startswith("INSERT INTO raw._ingestion_ledger")]
    else:
        ledger = [s for s in connection.statements if s.startswith("MERGE INTO raw._ingestion_ledger")]
    accepted = [key for key, count in lines.items() if count is not None]
    assert sum(f"'{key}'" in s for s in ledger for key in accepted) == len(accepted)  # one ledger row each
