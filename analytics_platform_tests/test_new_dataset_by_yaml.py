"""A dataset is added by writing YAML only: a new domain `crm` with a `contacts` table declared in a
copy of the dbt project lands, loads, quarantines and builds its bronze model with no Python."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from analytics_platform.defs import build_definitions
from analytics_platform.defs.landing.resources import build_s3_resource
from analytics_platform.lib.datasets import datasets_from_manifest
from analytics_platform.lib.dbt_project import prepare_manifest
from analytics_platform.local.sample_data import SampleSpec, generate_landing_files
from analytics_platform.settings import load_settings

from .helpers import REPO_ROOT, make_settings

TIMESTAMP_FORMAT = "%d/%m/%Y %H:%M"

SOURCES_YML = f"""\
version: 2

sources:
  - name: crm
    description: Raw tables of the crm domain.
    schema: raw_crm
    config:
      meta:
        landing:
          delimiter: ";"
          timestamp_format: "{TIMESTAMP_FORMAT}"
    tables:
      - name: contacts
        description: Contacts exported by the CRM; a contact may be exported more than once.
        columns:
          - name: contact_id
            data_type: varchar
            description: Contact id.
            data_tests:
              - not_null
          - name: email
            data_type: varchar
            description: E-mail address, any case.
          - name: score
            data_type: decimal(5,1)
            description: Lead score.
          - name: signed_up_at
            data_type: timestamp
            description: Sign-up time (UTC).
            data_tests:
              - not_null
"""

MODELS_YML = """\
version: 2

models:
  - name: bronze_contacts
    description: One row per contact_id, the last-loaded export.
"""

BRONZE_SQL = """\
{{ config(materialized='view') }}
{{ cleaned_and_deduplicated_sql(source('crm', 'contacts'), [
    ('contact_id', 'trim(contact_id)'),
    ('email', 'lower(trim(email))'),
    ('score', 'score'),
    ('signed_up_at', 'signed_up_at'),
], 'contact_id') }}
"""

GOOD_FILE = """\
contact_id;email;score;signed_up_at
C-001;Ann@Example.com;12.5;01/10/2026 09:15
C-002;;7.0;02/10/2026 18:40
C-003;bo@example.org;;03/10/2026 00:05
C-001;ann.new@example.com;13.0;01/10/2026 09:15
"""

BAD_FILE = """\
contact_id;email;score;signed_up_at
C-101;x@example.com;1.0;04/10/2026 10:00
;y@example.com;2.0;04/10/2026 11:00
"""

GOOD_KEY = "landing/crm/contacts/2026-10-04/export_1.csv"
BAD_KEY = "landing/crm/contacts/2026-10-04/export_2.csv"


def rows_of(text: str) -> list[tuple]:
    """The file's rows typed as declared, recomputed with the standard library."""
    rows = []
    for record in csv.DictReader(io.StringIO(text), delimiter=";"):
        rows.append(
            (
                record["contact_id"],
                record["email"] or None,
                Decimal(record["score"]) if record["score"] else None,
                datetime.strptime(record["signed_up_at"], TIMESTAMP_FORMAT),
            )
        )
    return rows


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the dbt project with the crm domain added in YAML (and one bronze model)."""
    root = tmp_path_factory.mktemp("new_dataset") / "dbt_project"
    shutil.copytree(
        REPO_ROOT / "dbt_project", root, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages")
    )
    folder = root / "models" / "crm" / "bronze"
    folder.mkdir(parents=True)
    (folder / "_crm__sources.yml").write_text(SOURCES_YML)
    (folder / "_crm__models.yml").write_text(MODELS_YML)
    (folder / "bronze_contacts.sql").write_text(BRONZE_SQL)
    return root


@pytest.fixture
def crm_settings(project, tmp_path, s3_endpoint, monkeypatch):
    base = make_settings(tmp_path, s3_endpoint)
    environment = {**base.to_environment(), "ANALYTICS_DBT_PROJECT_DIR": str(project)}
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(environment)
    prepare_manifest(settings)
    return settings


def test_a_dataset_declared_in_yaml_lands_loads_and_builds(crm_settings):
    settings = crm_settings
    manifest = json.loads((Path(settings.dbt_project_dir) / "target" / "manifest.json").read_text())
    [contacts] = [d for d in datasets_from_manifest(manifest) if d.domain == "crm"]
    assert (contacts.qualified_name, contacts.raw_table, contacts.group_name) == (
        "crm.contacts", "raw_crm.contacts", "crm_landing"
    )
    assert [(c.name, c.data_type, c.required) for c in contacts.columns] == [
        ("contact_id", "VARCHAR", True),
        ("email", "VARCHAR", False),
        ("score", "DECIMAL(5,1)", False),
        ("signed_up_at", "TIMESTAMP", True),
    ]
    assert (contacts.file_format.delimiter, contacts.file_format.timestamp_format) == (";", TIMESTAMP_FORMAT)

    s3 = build_s3_resource(settings).get_client()
    s3.create_bucket(Bucket=settings.landing_bucket)
    s3.put_object(Bucket=settings.landing_bucket, Key=GOOD_KEY, Body=GOOD_FILE.encode())
    s3.put_object(Bucket=settings.landing_bucket, Key=BAD_KEY, Body=BAD_FILE.encode())

    definitions = build_definitions(settings)
    graph = definitions.resolve_asset_graph()
    raw_key, bronze_key = dg.AssetKey(["raw", "crm", "contacts"]), dg.AssetKey("bronze_contacts")
    assert graph.get(raw_key).group_name == "crm_landing"
    assert graph.get(bronze_key).group_name == "crm_bronze"
    assert raw_key in graph.get(bronze_key).parent_keys
    job = definitions.resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), asset_selection=[raw_key, bronze_key]
    )
    assert result.success

    node = manifest["nodes"]["model.analytics_platform.bronze_contacts"]
    bronze_relation = f"{node['schema']}.{node['alias']}"
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        raw = con.execute(
            "SELECT contact_id, email, score, signed_up_at FROM raw_crm.contacts"
            f" WHERE _source_key = '{GOOD_KEY}' ORDER BY _source_row"
        ).fetchall()
        bronze = con.execute(
            f"SELECT contact_id, email, score, signed_up_at FROM {bronze_relation} ORDER BY contact_id"
        ).fetchall()
        quarantined = con.execute(
            "SELECT s3_key, reason FROM raw._ingestion_quarantine WHERE dataset = 'crm.contacts'"
        ).fetchall()
        keys = con.execute("SELECT DISTINCT _source_key FROM raw_crm.contacts").fetchall()

    expected = rows_of(GOOD_FILE)
    assert raw == expected
    last_export = {}
    for row in expected:  # later rows of the file win (same load, higher _source_row)
        last_export[row[0].strip()] = (row[0].strip(), row[1].strip().lower() if row[1] else None, *row[2:])
    assert bronze == sorted(last_export.values())
    # A file with an empty required value is quarantined whole, none of its rows loaded.
    assert [key for key, _ in quarantined] == [BAD_KEY]
    assert "contact_id" in quarantined[0][1]
    assert keys == [(GOOD_KEY,)]


def test_the_new_dataset_gets_sample_data_and_no_python_names_it(crm_settings):
    manifest = json.loads((Path(crm_settings.dbt_project_dir) / "target" / "manifest.json").read_text())
    [contacts] = [d for d in datasets_from_manifest(manifest) if d.domain == "crm"]
    files = generate_landing_files(SampleSpec(days=2, generic_rows_per_day=5), datasets=[contacts])
    assert [f.key for f in files] == [
        "landing/crm/contacts/2026-10-01/contacts_2026-10-01_part1.csv",
        "landing/crm/contacts/2026-10-02/contacts_2026-10-02_part1.csv",
    ]
    header, *rows = list(csv.reader(io.StringIO(files[0].body.decode()), delimiter=";"))
    assert header == ["contact_id", "email", "score", "signed_up_at"] and len(rows) == 5
    assert all(row[0] and datetime.strptime(row[3], TIMESTAMP_FORMAT) for row in rows)

    named = re.compile(r"\b(crm|contacts)\b")
    modules = sorted((REPO_ROOT / "analytics_platform").rglob("*.py"))
    assert modules and [m for m in modules if named.search(m.read_text())] == []
