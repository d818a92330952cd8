"""Redshift readiness without a Redshift: every model compiled for the `redshift` target offline,
and the Redshift loader's SQL (one COPY ... MANIFEST per batch, in the ledger's transaction),
parse with sqlglot's redshift dialect; the manifest names exactly the batch's files."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlglot

from analytics_platform.lib.objects import LandingObject
from analytics_platform.lib.warehouses.redshift import RedshiftLoader, redshift_time_format
from analytics_platform.local.sample_data.tickit import TickitSpec, tickit_files

from .helpers import RecordingConnection, dataset_named


def test_every_model_compiled_for_redshift_offline_parses_as_redshift_sql(offline_compiled):
    target_path = offline_compiled["redshift"]
    compiled = list((target_path / "compiled").rglob("*.sql"))
    models = [p for p in compiled if "/models/" in str(p) and p.parent.suffix != ".yml"]
    assert any(p.name == "rpt_finance_qtr_top_events_by_sales.sql" for p in models)
    assert any(p.name == "bronze_orders.sql" for p in models)
    for path in compiled:
        assert sqlglot.parse(path.read_text(), read="redshift"), path
    # The governance statements (analyses/governance_statements.sql), Redshift's RBAC spelling.
    [governance] = [p for p in compiled if p.name == "governance_statements.sql"]
    statements = [s for s in sqlglot.parse(governance.read_text(), read="redshift") if s]
    assert len(statements) == 8 and "grant role finance to finance_analyst" in governance.read_text()
    # Redshift-specific rendering: masking by role, the experimental model as a materialized view.
    users = next(p for p in models if p.name == "rpt_tech_all_users.sql").read_text()
    assert "svv_user_grants" in users and "'MASKED'" in users
    manifest = json.loads((target_path / "manifest.json").read_text())
    experimental = next(n for n in manifest["nodes"].values() if n["name"] == "rpt_experimental_sales_by_category")
    assert experimental["config"]["materialized"] == "materialized_view"


def test_the_redshift_loader_copies_each_batch_from_a_manifest_of_exactly_its_files(s3_client, settings):
    dataset = dataset_named("sales", domain="tickit")
    [sales] = tickit_files(TickitSpec(users=10, listings=10, sales=5), prefix=settings.landing_prefix, datasets=["sales"])
    objects = []
    for part in (1, 2):
        key = sales.key.replace("sales_tab", f"sales_tab_part{part}")
        s3_client.put_object(Bucket=settings.landing_bucket, Key=key, Body=sales.body)
        head = s3_client.head_object(Bucket=settings.landing_bucket, Key=key)
        objects.append(LandingObject(bucket=settings.landing_bucket, key=key, etag=head["ETag"].strip('"'),
                                     size=len(sales.body), last_modified=datetime.now(timezone.utc)))
    connection = RecordingConnection({
        # what STL_LOAD_COMMITS would say of the manifest's files (5 rows each), and counts
        "stl_load_commits": lambda sql: [(entry["url"], 5) for entry in connection.manifest["entries"]],
        "SELECT count(*)": [(0,)],
    })
    original_put = s3_client.put_object

    def put_and_remember(**kwargs):
        if kwargs["Key"].endswith(".manifest"):
            connection.manifest = json.loads(kwargs["Body"])
        return original_put(**kwargs)

    s3_client.put_object = put_and_remember
    loader = RedshiftLoader(connection, s3_client, settings.landing_bucket, settings.landing_prefix,
                            "arn:aws:iam::123456789012:role/redshift-copy", "eu-west-1")
    [outcomes] = list(loader.load_in_batches(dataset, objects, s3_client, run_id="run-1"))
    assert [o.rows for o in outcomes] == [5, 5]

    statements = connection.statements
    copies = [s for s in statements if s.startswith("COPY ")]
    assert len(copies) == 1
    [copy] = copies
    manifest_url = re.search(r"FROM '(s3://[^']+)'", copy)[1]
    bucket, _, manifest_key = manifest_url.removeprefix("s3://").partition("/")
    manifest = json.loads(s3_client.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())
    assert [e["url"] for e in manifest["entries"]] == [f"s3://{o.bucket}/{o.key}" for o in objects]
    assert all(e["mandatory"] for e in manifest["entries"])
    assert "MANIFEST" in copy and "IAM_ROLE 'arn:aws:iam::123456789012:role/redshift-copy'" in copy
    assert "REGION 'eu-west-1'" in copy and "DELIMITER AS '\t'" in copy
    assert "TIMEFORMAT 'MM/DD/YYYY HH24:MI:SS'" in copy
    # The COPY and the ledger rows are in one transaction.
    begin = max(i for i, s in enumerate(statements) if s == "BEGIN" and i < statements.index(copy))
    commit = statements.index("COMMIT", statements.index(copy))
    ledger = [s for s in statements[begin:commit] if s.startswith("INSERT INTO raw._ingestion_ledger")]
    assert len(ledger) == 2
    for statement in statements:
        assert sqlglot.parse(statement, read="redshift"), statement


@pytest.mark.parametrize("fmt", ["%m/%d/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S"])
def test_timestamp_formats_translate_to_redshift(fmt):
    assert "%" not in redshift_time_format(fmt)


def test_the_redshift_loader_is_registered():
    from analytics_platform.lib.warehouses import loader_class

    assert loader_class("redshift") is RedshiftLoader
    assert Path(__file__).exists()
