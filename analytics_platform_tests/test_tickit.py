"""The tickit domain: the generator's consistency, and the department reports recomputed in plain
Python from the landed bytes, compared with the warehouse built by the platform's ingestion and
dbt, on DuckDB and on PostgreSQL (the same landed files, through each engine's loader)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from analytics_platform.local.sample_data import (
    LandingFile,
    SampleSpec,
    generate_landing_files,
    upload_landing_files,
)
from analytics_platform.local.sample_data.tickit import TickitSpec, tickit_files
from analytics_platform.settings import Settings, load_settings

from .helpers import declared_datasets, make_settings, postgres_database, run_dbt, run_ingestion

SPEC = TickitSpec(users=60, listings=150, sales=400, seed=7)
CENT = Decimal("0.01")
TICKIT_NODES = "path:models/tickit tickit_category_descriptions"


def tickit_landing(prefix: str = "landing/") -> list[LandingFile]:
    datasets = [d for d in declared_datasets() if d.domain == "tickit"]
    return generate_landing_files(prefix=prefix, datasets=datasets, tickit=SPEC)


def rows_of(files: list[LandingFile], dataset: str) -> list[list[str]]:
    [landed] = [f for f in files if f.dataset == dataset and f.domain == "tickit"]
    delimiter = "\t" if dataset == "sales" else "|"
    return list(csv.reader(io.StringIO(landed.body.decode()), delimiter=delimiter))


# --- the generator ---------------------------------------------------------------------------


def test_the_generator_is_deterministic_consistent_and_lands_as_published():
    files = tickit_files(SPEC)
    assert [f.body for f in files] == [f.body for f in tickit_files(SPEC)]
    assert {f.key for f in files} == {
        "landing/tickit/category/category_pipe.txt", "landing/tickit/date/date2008_pipe.txt",
        "landing/tickit/event/allevents_pipe.txt", "landing/tickit/venue/venue_pipe.txt",
        "landing/tickit/users/allusers_pipe.txt", "landing/tickit/listing/listings_pipe.txt",
        "landing/tickit/sales/sales_tab.txt",
    }
    events = {int(r[0]): r for r in rows_of(files, "event")}
    days = {int(r[0]): dt.date.fromisoformat(r[1]) for r in rows_of(files, "date")}
    users = {int(r[0]) for r in rows_of(files, "users")}
    listings = {int(r[0]): r for r in rows_of(files, "listing")}
    sales = rows_of(files, "sales")
    assert len(users) == SPEC.users and len(listings) == SPEC.listings and len(sales) == SPEC.sales
    sold = defaultdict(int)
    for salesid, listid, seller, buyer, eventid, dateid, qty, paid, commission, saletime in sales:
        listing = listings[int(listid)]
        assert (listing[1], listing[2]) == (seller, eventid)
        assert int(buyer) in users and int(seller) in users and buyer != seller
        when = dt.datetime.strptime(saletime, "%m/%d/%Y %H:%M:%S")
        starts = dt.datetime.fromisoformat(events[int(eventid)][5])
        assert dt.datetime.fromisoformat(listing[7]) <= when <= starts
        assert days[int(dateid)] == when.date()
        assert Decimal(commission) == (Decimal(paid) * Decimal("0.15")).quantize(CENT, ROUND_HALF_UP)
        sold[int(listid)] += int(qty)
    assert all(sold[listid] <= int(listings[listid][4]) for listid in sold)
    # Scalable: more sales from the same spec otherwise.
    bigger = tickit_files(TickitSpec(users=60, listings=150, sales=800, seed=7), datasets=["sales"])
    assert bigger[0].body.count(b"\n") == 800


# --- the reports, recomputed from the landed bytes -------------------------------------------


def expected_total_sales_by_event(files: list[LandingFile]) -> list[tuple]:
    names = {r[0]: r[4] for r in rows_of(files, "event")}
    quarters = {r[0]: (int(r[6]), int(r[5])) for r in rows_of(files, "date")}
    groups = defaultdict(lambda: [0, Decimal(0), Decimal(0)])
    for row in rows_of(files, "sales"):
        group = groups[(*quarters[row[5]], names[row[4]])]
        group[0] += 1
        group[1] += Decimal(row[7])
        group[2] += Decimal(row[8])
    return sorted(
        (year, quarter, name, count, revenue, commission,
         (100 * commission / revenue).quantize(CENT, ROUND_HALF_UP))
        for (year, quarter, name), (count, revenue, commission) in groups.items()
    )


def expected_top_events(files: list[LandingFile]) -> list[tuple]:
    by_quarter = defaultdict(list)
    for row in expected_total_sales_by_event(files):
        by_quarter[row[:2]].append(row)
    top = []
    for (year, quarter), rows in sorted(by_quarter.items()):
        ranked = sorted(rows, key=lambda r: (-r[4], r[2]))[:3]
        top += [(year, quarter, rank, *row[2:]) for rank, row in enumerate(ranked, start=1)]
    return top


def expected_categories(files: list[LandingFile]) -> list[tuple]:
    seed = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "tickit_category_descriptions.csv"
    descriptions = {int(r["catid"]): r["full_description"] for r in csv.DictReader(seed.open())}
    return sorted((int(r[0]), r[1], r[2], r[3], descriptions.get(int(r[0]))) for r in rows_of(files, "category"))


REPORTS = {
    "rpt_finance_qtr_total_sales_by_event": (
        "year, quarter, eventname, sales_made, sales_revenue, staff_commission, commission_pcnt",
        expected_total_sales_by_event,
    ),
    "rpt_finance_qtr_top_events_by_sales": (
        "year, quarter, sales_rank, eventname, sales_made, sales_revenue, staff_commission, commission_pcnt",
        expected_top_events,
    ),
    "rpt_marketing_category_full_desc": (
        "catid, catgroup, catname, catdesc, full_description", expected_categories,
    ),
}


def normalised(rows) -> list[tuple]:
    return [tuple(Decimal(v).quantize(CENT) if isinstance(v, Decimal) else v for v in row) for row in rows]


@pytest.fixture(scope="module")
def duckdb_tickit(tmp_path_factory, s3_endpoint, dbt_manifest):
    """Landed tickit files -> ingestion (Dagster assets, DuckDB loader) -> dbt build of tickit."""
    directory = tmp_path_factory.mktemp("tickit-duckdb")
    settings = make_settings(directory, s3_endpoint)
    files = tickit_landing(settings.landing_prefix)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in settings.to_environment().items():
            patch.setenv(name, value)
        from analytics_platform.defs.landing.resources import build_s3_resource

        upload_landing_files(build_s3_resource(settings).get_client(), settings.landing_bucket, files)
        run_ingestion(settings)
    run_dbt(["build", "--select", TICKIT_NODES], target_path=directory / "target", warehouse=settings.duckdb_path)
    return settings, files


@pytest.mark.parametrize("report", sorted(REPORTS))
def test_reports_on_duckdb_equal_a_recomputation_from_the_landed_files(duckdb_tickit, report):
    settings, files = duckdb_tickit
    columns, expected = REPORTS[report]
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        actual = con.execute(f"SELECT {columns} FROM gold.{report} ORDER BY {columns}").fetchall()
    assert actual, report
    assert normalised(actual) == expected(files)


def test_duckdb_builds_the_experimental_model_as_a_table_and_shows_pii(duckdb_tickit):
    settings, _ = duckdb_tickit
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        kind = con.execute(
            "SELECT table_type FROM information_schema.tables WHERE table_schema = 'gold' "
            "AND table_name = 'rpt_experimental_sales_by_category'"
        ).fetchone()
        emails = con.execute("SELECT count(*) FROM gold.rpt_tech_all_users WHERE email LIKE '%@%'").fetchone()
    assert kind == ("BASE TABLE",)
    assert emails == (SPEC.users,)  # no roles on DuckDB: governance is a no-op, values shown


def settings_for(directory: Path, s3_endpoint: str, **overrides: str) -> Settings:
    environment = make_settings(directory, s3_endpoint).to_environment()
    return load_settings({**environment, **overrides})


# --- PostgreSQL: the same landed files through the PostgreSQL loader and dbt --target postgres ----

MALFORMED = {
    # A ragged row (too many fields) and an empty required key: each quarantined whole, as on DuckDB.
    "landing/tickit/sales/bad_ragged_tab.txt": b"1\t2\t3\t4\t5\t6\t7\t8.00\t1.20\t01/01/2020 10:00:00\textra\n",
    "landing/tickit/sales/bad_key_tab.txt": b"\t2\t3\t4\t5\t1827\t7\t8.00\t1.20\t01/01/2020 10:00:00\n",
}


@pytest.fixture(scope="module")
def postgres_tickit(tmp_path_factory, s3_endpoint, dbt_manifest, postgres_server):
    """The platform with ANALYTICS_WAREHOUSE=postgres: every domain's landed files (small
    e-commerce sample, tickit, two malformed tickit files) -> the ingestion assets (PostgresLoader:
    COPY FROM STDIN), a second ingestion run that finds nothing new, then `dbt build --target
    postgres` of every domain (every test included). The Dagster job over the same assets
    (landing_to_gold) is exercised on DuckDB by test_end_to_end; here it would add minutes."""
    from analytics_platform.defs.landing.resources import build_s3_resource

    directory = tmp_path_factory.mktemp("tickit-postgres")
    env = postgres_database(postgres_server, "platform")
    settings = settings_for(directory, s3_endpoint, ANALYTICS_WAREHOUSE="postgres", **env)
    files = generate_landing_files(SampleSpec(days=2, orders_per_day=40, products=15, users=40,
                                              reviews_per_day=10), prefix=settings.landing_prefix, tickit=SPEC)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in settings.to_environment().items():
            patch.setenv(name, value)
        client = build_s3_resource(settings).get_client()
        upload_landing_files(client, settings.landing_bucket, files)
        for key, body in MALFORMED.items():
            client.put_object(Bucket=settings.landing_bucket, Key=settings.landing_prefix + key.removeprefix("landing/"), Body=body)
        first = run_ingestion(settings)
        second = run_ingestion(settings)  # nothing new: every file is settled
    build = run_dbt(["build", "--target", "postgres"], target_path=directory / "target",
                    env={**env, "ANALYTICS_WAREHOUSE": "postgres"}, check=False)
    result = (first, build)
    return settings, env, files, second, result


def pg_rows(env: dict[str, str], sql: str, user: str = "postgres", password: str | None = None) -> list[tuple]:
    import psycopg2

    con = psycopg2.connect(host=env["POSTGRES_HOST"], port=int(env["POSTGRES_PORT"]), user=user,
                           password=password, dbname=env["POSTGRES_DATABASE"])
    try:
        with con.cursor() as cursor:
            cursor.execute(sql)
            rows = cursor.fetchall()
        con.commit()
        return rows
    finally:
        con.close()


@pytest.mark.parametrize("report", sorted(REPORTS))
def test_reports_on_postgres_equal_a_recomputation_from_the_landed_files(postgres_tickit, report):
    _, env, files, _, _ = postgres_tickit
    columns, expected = REPORTS[report]
    actual = pg_rows(env, f"SELECT {columns} FROM gold.{report} ORDER BY {columns}")
    assert actual, report
    assert normalised(actual) == expected(files)


def test_the_postgres_loader_loads_each_file_once_and_quarantines_bad_ones(postgres_tickit):
    settings, env, _, second, _ = postgres_tickit
    ledger = {d: (n, r) for d, n, r in pg_rows(
        env, "SELECT dataset, count(*), sum(rows)::bigint FROM raw._ingestion_ledger GROUP BY 1")}
    assert ledger["tickit.sales"] == (1, SPEC.sales)
    assert ledger["tickit.event"] == (1, 8798)
    assert pg_rows(env, "SELECT count(*) FROM raw_tickit.sales") == [(SPEC.sales,)]
    reasons = dict(pg_rows(env, "SELECT s3_key, reason FROM raw._ingestion_quarantine"))
    assert set(reasons) == {settings.landing_prefix + key.removeprefix("landing/") for key in MALFORMED}
    assert any("salesid is empty" in reason for reason in reasons.values()), reasons
    # The sales timestamps (MM/DD/YYYY HH:MI:SS in the file) arrive as timestamps.
    [(first_sale,)] = pg_rows(env, "SELECT min(saletime) FROM raw_tickit.sales")
    assert first_sale.year == 2020
    assert second.success
    assert pg_rows(env, f"SELECT count(*) FROM raw._ingestion_ledger WHERE run_id = '{second.run_id}'") == [(0,)]


def test_postgres_builds_the_experimental_model_as_a_materialized_view(postgres_tickit):
    _, env, _, _, _ = postgres_tickit
    assert pg_rows(env, "SELECT matviewname FROM pg_matviews WHERE schemaname = 'gold'") == [
        ("rpt_experimental_sales_by_category",)
    ]
    assert pg_rows(env, "SELECT count(*) > 0 FROM gold.rpt_experimental_sales_by_category") == [(True,)]


def test_the_whole_platform_runs_on_postgres(postgres_tickit):
    _, env, _, _, (ingestion, build) = postgres_tickit
    assert ingestion.success
    assert build.returncode == 0, build.stdout[-4000:]
    ledger = {d for (d,) in pg_rows(env, "SELECT DISTINCT dataset FROM raw._ingestion_ledger")}
    assert {"ecommerce.orders", "ecommerce.products", "ecommerce.users", "ecommerce.reviews"} <= ledger
    assert {d.qualified_name for d in declared_datasets() if d.domain == "tickit"} <= ledger
    assert pg_rows(env, "SELECT count(*) > 0 FROM gold.gold_daily_sales") == [(True,)]


# --- governance on PostgreSQL: roles, users, grants, masking, passwords from Secrets Manager ------

PASSWORDS_SECRET = {"finance_analyst": "f-secret-1", "marketing_analyst": "m-secret-2",
                    "tech_analyst": "t-secret-3", "tech_admin": "a-secret-4", "intern": "i-secret-5"}


@pytest.fixture(scope="module")
def governed(postgres_tickit, s3_endpoint):
    """Passwords set from moto's Secrets Manager (same loopback endpoint as S3), except one from
    the environment, which wins."""
    from dagster_aws.secretsmanager import SecretsManagerResource

    from analytics_platform.lib.governance import declared_users, resolve_passwords, set_passwords

    settings, env, _, _, _ = postgres_tickit
    secrets = SecretsManagerResource(region_name="us-east-1", endpoint_url=s3_endpoint,
                                     aws_access_key_id="testing", aws_secret_access_key="testing")
    secret_id = f"analytics/warehouse-users-{settings.landing_bucket}"
    secrets.get_client().create_secret(Name=secret_id, SecretString=json.dumps(PASSWORDS_SECRET))
    users = declared_users(settings.dbt_project_dir)
    passwords = resolve_passwords(users, {"ANALYTICS_PASSWORD_INTERN": "from-env"}, secrets, secret_id)
    assert passwords == {**PASSWORDS_SECRET, "intern": "from-env"}
    import psycopg2

    con = psycopg2.connect(host=env["POSTGRES_HOST"], port=int(env["POSTGRES_PORT"]), user="postgres",
                           dbname=env["POSTGRES_DATABASE"])
    try:
        assert set_passwords(con, passwords) == sorted(users)
    finally:
        con.close()
    return env, passwords


def as_user(governed, user: str, sql: str) -> list[tuple]:
    env, passwords = governed
    return pg_rows(env, sql, user=user, password=passwords[user])


def test_masked_role_reads_placeholders_and_privileged_role_reads_values(governed):
    masked = as_user(governed, "tech_analyst", "SELECT DISTINCT firstname, lastname, email, phone FROM gold.rpt_tech_all_users")
    assert masked == [("MASKED", "MASKED", "MASKED", "MASKED")]
    values = as_user(governed, "tech_admin", "SELECT email, phone FROM gold.rpt_tech_all_users")
    assert len(values) == SPEC.users and all("@" in email and phone.startswith("(") for email, phone in values)
    # Non-PII columns are the same for both.
    sql = "SELECT userid, username, city, state FROM gold.rpt_tech_all_users ORDER BY userid"
    assert as_user(governed, "tech_analyst", sql) == as_user(governed, "tech_admin", sql)


@pytest.mark.parametrize(
    ("user", "relation", "allowed"),
    [
        ("finance_analyst", "gold.rpt_finance_qtr_total_sales_by_event", True),
        ("finance_analyst", "gold.rpt_finance_qtr_top_events_by_sales", True),
        ("finance_analyst", "gold.rpt_tech_all_users", False),
        ("marketing_analyst", "gold.rpt_marketing_category_full_desc", True),
        ("marketing_analyst", "gold.rpt_finance_qtr_total_sales_by_event", False),
        ("tech_analyst", "bronze.bronze_tickit_users", False),
        ("intern", "gold.rpt_tech_all_users", False),
        ("intern", "gold.rpt_marketing_category_full_desc", False),
    ],
)
def test_each_role_reads_what_is_declared_and_nothing_else(governed, user, relation, allowed):
    import psycopg2

    if allowed:
        assert as_user(governed, user, f"SELECT count(*) > 0 FROM {relation}") == [(True,)]
    else:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege, match="permission denied"):
            as_user(governed, user, f"SELECT 1 FROM {relation}")


def test_a_wrong_password_is_refused(governed):
    import psycopg2

    env, _ = governed
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        pg_rows(env, "SELECT 1", user="finance_analyst", password="wrong")


GOVERNANCE_STATE = """
    SELECT 'role', rolname, rolcanlogin::text FROM pg_roles
     WHERE rolname IN ('finance', 'marketing', 'technology', 'pii_reader', 'finance_analyst',
                       'marketing_analyst', 'tech_analyst', 'tech_admin', 'intern')
    UNION ALL
    SELECT 'member', r.rolname, m.rolname FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid
      JOIN pg_roles m ON m.oid = a.member
     WHERE m.rolname IN ('finance_analyst', 'marketing_analyst', 'tech_analyst', 'tech_admin', 'intern')
    UNION ALL
    SELECT 'acl', n.nspname || '.' || c.relname, coalesce(c.relacl::text, '') FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('bronze', 'silver', 'gold')
    UNION ALL
    SELECT 'schema', nspname, coalesce(nspacl::text, '') FROM pg_namespace
     WHERE nspname IN ('bronze', 'silver', 'gold')
    ORDER BY 1, 2, 3
"""


def test_governance_hooks_converge_and_rerunning_them_changes_nothing(governed, tmp_path):
    env, _ = governed
    dbt_env = {**env, "ANALYTICS_WAREHOUSE": "postgres"}
    before = pg_rows(env, GOVERNANCE_STATE)
    first = run_dbt(["run-operation", "apply_governance", "--target", "postgres"], target_path=tmp_path, env=dbt_env)
    second = run_dbt(["run-operation", "apply_governance", "--target", "postgres"], target_path=tmp_path, env=dbt_env)
    assert "governance: 0 statement(s) applied" in first.stdout + second.stdout
    assert pg_rows(env, GOVERNANCE_STATE) == before
    # Drift is undone: an undeclared grant is revoked, a declared one removed by hand comes back.
    pg_rows(env, "GRANT SELECT ON gold.rpt_tech_all_users TO finance; "
                 "REVOKE SELECT ON gold.rpt_marketing_category_full_desc FROM marketing; SELECT 1")
    repaired = run_dbt(["run-operation", "apply_governance", "--target", "postgres"], target_path=tmp_path, env=dbt_env)
    assert "governance: 2 statement(s) applied" in repaired.stdout
    assert pg_rows(env, GOVERNANCE_STATE) == before
    # Passwords never reach dbt: not in its logs, not in its artifacts.
    logged = "".join(p.read_text(errors="replace") for p in tmp_path.rglob("*") if p.is_file())
    assert not any(password in logged for password in PASSWORDS_SECRET.values())
