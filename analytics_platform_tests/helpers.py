"""Helpers the tests share (fixtures live in conftest.py and use these). Tests import from here,
never from another test module or from benchmarks/."""

from __future__ import annotations

import functools
import json
import os
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from analytics_platform.defs.landing.assets import build_ingestion_assets
from analytics_platform.defs.landing.resources import (
    LandingZone,
    WarehouseResource,
    build_s3_resource,
)
from analytics_platform.lib.datasets import Dataset, datasets_from_manifest
from analytics_platform.lib.warehouses.duckdb import DuckDBLoader
from analytics_platform.local.sample_data import (
    SampleSpec,
    generate_landing_files,
    upload_landing_files,
)
from analytics_platform.settings import DBT_VARIABLES, Settings, load_settings

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT = REPO_ROOT / "dbt_project"
DBT = Path(sys.executable).with_name("dbt")


def run_dbt(
    args: list[str],
    *,
    target_path: Path,
    warehouse: Path | None = None,
    project_dir: Path = DBT_PROJECT,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess:
    """`dbt <args>` against `project_dir`, with its own target and log folder."""
    environment = {
        **os.environ,
        "DO_NOT_TRACK": "1",
        "ANALYTICS_ENV": "local",
        "ANALYTICS_WAREHOUSE": "duckdb",
        "ANALYTICS_DUCKDB_PATH": str(warehouse or target_path / "unused.duckdb"),
        **(env or {}),
    }
    completed = subprocess.run(
        [
            str(DBT), *args,
            "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
            "--target-path", str(target_path), "--log-path", str(target_path / "logs"),
        ],
        env=environment, capture_output=True, text=True, timeout=300, check=False,
    )
    if check:
        assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
    return completed


def copy_dbt_project(destination: Path) -> Path:
    """A copy of the repo's dbt project a test may edit (without its build products)."""
    import shutil

    shutil.copytree(DBT_PROJECT, destination, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    return destination


def run_results(target_path: Path) -> dict[str, dict]:
    """unique_id -> result of the last dbt invocation that wrote run_results.json there."""
    results = json.loads((target_path / "run_results.json").read_text())["results"]
    return {result["unique_id"]: result for result in results}


def create_raw_tables(warehouse: Path) -> None:
    """The raw schema exactly as the loader creates it (docs/CONTRACTS.md), empty."""
    with DuckDBLoader(warehouse) as loader:
        for dataset in declared_datasets():
            loader.ensure_raw_table(dataset)


def make_settings(directory: Path, s3_endpoint: str) -> Settings:
    """Settings for one isolated platform: its own bucket, warehouse file and Dagster home."""
    environment = {
        "ANALYTICS_ENV": "local",
        "ANALYTICS_S3_ENDPOINT_URL": s3_endpoint,
        "ANALYTICS_LANDING_BUCKET": f"landing-{uuid.uuid4().hex[:12]}",
        "ANALYTICS_DUCKDB_PATH": str(directory / "warehouse.duckdb"),
        "DAGSTER_HOME": str(directory / "dagster_home"),
    }
    return load_settings(environment)


def parse_shared_manifest() -> Path:
    """`dbt parse` of the repo's project into dbt_project/target, once per test run: conftest's
    pytest_configure calls it in the xdist controller (or the lone process) before any worker
    starts. Workers then only read the manifest: a parse in one of them would rewrite the file
    while the other reads it (a torn read). test_browser runs `dev`, which parses, on a copy."""
    from analytics_platform.lib.dbt_project import prepare_manifest

    with pytest.MonkeyPatch.context() as patch:
        # prepare_manifest exports the dbt variables; keep them from leaking into the tests.
        for name in DBT_VARIABLES:
            patch.delenv(name, raising=False)
        return prepare_manifest(load_settings())


def prepared_manifest() -> Path:
    """The manifest parse_shared_manifest wrote for this run (it needs no warehouse, so every
    test shares it)."""
    return load_settings().dbt_project_dir / "target" / "manifest.json"


@functools.cache
def declared_datasets() -> tuple[Dataset, ...]:
    """The landing datasets the repo's dbt project declares (read from its parsed manifest)."""
    return datasets_from_manifest(json.loads(prepared_manifest().read_text()))


def dataset_named(name: str, domain: str = "ecommerce") -> Dataset:
    return next(d for d in declared_datasets() if (d.domain, d.name) == (domain, name))


def landing_resources(settings: Settings) -> dict:
    """The resources the ingestion assets need, for `settings`' bucket and warehouse."""
    return {
        "s3": build_s3_resource(settings),
        "landing_zone": LandingZone(bucket=settings.landing_bucket, prefix=settings.landing_prefix),
        "warehouse": WarehouseResource.from_settings(settings),
    }


def run_ingestion(settings: Settings, raise_on_error: bool = True) -> dg.ExecuteInProcessResult:
    """One run of the ingestion assets (every dataset) on an ephemeral instance."""
    return dg.materialize(
        [build_ingestion_assets(declared_datasets())], resources=landing_resources(settings), raise_on_error=raise_on_error
    )


# --- PostgreSQL (the server itself is a session fixture in conftest.py) ---

# The newest PostgreSQL server Debian installed (`apt-get install postgresql`; .ci/run does it).
PG_BIN = max(Path("/usr/lib/postgresql").glob("*/bin"), default=Path("/usr/lib/postgresql/15/bin"),
             key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0)


def as_postgres(*command: str) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the `postgres` user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return list(command)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_database(server: dict[str, str], name: str) -> dict[str, str]:
    """A new, empty database on the session's server; the POSTGRES_* variables that reach it."""
    import psycopg2  # installed with dbt-postgres

    con = psycopg2.connect(host=server["POSTGRES_HOST"], port=int(server["POSTGRES_PORT"]),
                           user="postgres", dbname="postgres")
    con.autocommit = True  # CREATE DATABASE cannot run in a transaction
    with con.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        cursor.execute(f"CREATE DATABASE {name}")
    con.close()
    return {**server, "POSTGRES_DATABASE": name}


def write_small_dbt_project(path: Path) -> Path:
    """A dbt project of one landing dataset (domain `shop`, table `items`) and two table models,
    laid out like the real one (models/<domain>/<layer>/) but without incremental models."""
    files = {
        "dbt_project.yml": """\
name: small
version: "1.0.0"
config-version: 2
profile: small
models:
  small:
    +materialized: table
""",
        "profiles.yml": """\
small:
  target: duckdb
  outputs:
    duckdb:
      type: duckdb
      path: "{{ env_var('ANALYTICS_DUCKDB_PATH') }}"
      threads: 1
""",
        "models/shop/bronze/_bronze__sources.yml": """\
version: 2
sources:
  - name: shop
    schema: raw_shop
    config:
      meta:
        landing: {}
    tables:
      - name: items
        columns:
          - name: item_id
            data_type: varchar
            data_tests: [not_null]
""",
        "models/shop/bronze/bronze_items.sql": "select item_id from {{ source('shop', 'items') }}\n",
        "models/shop/gold/gold_item_count.sql": "select count(*) as items from {{ ref('bronze_items') }}\n",
    }
    for relative, text in files.items():
        (path / relative).parent.mkdir(parents=True, exist_ok=True)
        (path / relative).write_text(text)
    return path


@dataclass
class BuiltPlatform:
    """One platform (moto bucket, DuckDB file, Dagster home) built by `landing_to_gold` from the
    sample data, malformed files included. Built once per session (conftest `built_platform`):
    the tests that share it only read it or rebuild parts of it from the same landed files,
    which leaves every table as it was."""

    settings: Settings
    files: list
    result: dg.ExecuteInProcessResult
    definitions: dg.Definitions

    @property
    def asset_keys(self) -> set[dg.AssetKey]:
        return self.definitions.resolve_asset_graph().get_all_asset_keys()


PLATFORM_SPEC = SampleSpec(include_malformed=True)


def build_platform(directory: Path, s3_endpoint: str) -> BuiltPlatform:
    from analytics_platform.defs import build_definitions

    settings = make_settings(directory, s3_endpoint)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in settings.to_environment().items():
            patch.setenv(name, value)
        files = generate_landing_files(PLATFORM_SPEC, prefix=settings.landing_prefix)
        upload_landing_files(build_s3_resource(settings).get_client(), settings.landing_bucket, files)
        definitions = build_definitions(settings)
        result = definitions.resolve_job_def("landing_to_gold").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
        )
    return BuiltPlatform(settings, files, result, definitions)


# --- the deployment image (Dockerfile), without a Docker daemon ---

DOCKERFILE = REPO_ROOT / "Dockerfile"


@dataclass(frozen=True)
class Dockerfile:
    """The instructions of a Dockerfile, in order: (INSTRUCTION, arguments), continuation lines
    joined and comments dropped. Enough of Docker's syntax for the repo's own Dockerfile."""

    instructions: tuple[tuple[str, str], ...]

    @classmethod
    def read(cls, path: Path = DOCKERFILE) -> Dockerfile:
        instructions, pending = [], ""
        for line in path.read_text().splitlines():
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            keyword, _, arguments = (pending + line).strip().partition(" ")
            instructions.append((keyword.upper(), " ".join(arguments.split())))
            pending = ""
        return cls(tuple(instructions))

    def arguments(self, keyword: str) -> list[str]:
        return [arguments for instruction, arguments in self.instructions if instruction == keyword]

    def environment(self, build_args: dict[str, str] | None = None) -> dict[str, str]:
        """The ENV of the image, with the ARG defaults (or `build_args`) substituted."""
        import re
        import shlex

        values = {}
        for argument in self.arguments("ARG"):
            name, _, default = argument.partition("=")
            values[name] = (build_args or {}).get(name, default)
        environment = {}
        for argument in self.arguments("ENV"):
            for pair in shlex.split(argument):
                name, _, value = pair.partition("=")
                environment[name] = re.sub(
                    r"\$\{(\w+)\}", lambda m: {**values, **environment}.get(m.group(1), ""), value
                )
        return environment


def dockerignored(relative: str, patterns: list[str]) -> bool:
    """Whether .dockerignore `patterns` exclude `relative` (a POSIX path from the context root)."""
    import fnmatch

    parts = relative.split("/")
    for pattern in patterns:
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatch(part, pattern[3:]) for part in parts):
                return True
            continue
        pattern_parts = pattern.strip("/").split("/")
        if len(parts) >= len(pattern_parts) and all(
            fnmatch.fnmatch(part, wanted) for part, wanted in zip(parts, pattern_parts)
        ):
            return True
    return False


def copy_build_context(destination: Path) -> Path:
    """What `docker build .` sends: the clone minus what .dockerignore excludes."""
    import shutil

    patterns = [
        line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(directory: str, names: list[str]) -> set[str]:
        base = Path(directory).relative_to(REPO_ROOT).as_posix()
        prefix = "" if base == "." else f"{base}/"
        return {name for name in names if dockerignored(prefix + name, patterns)}

    shutil.copytree(REPO_ROOT, destination, ignore=ignored, symlinks=True)
    return destination


@dataclass(frozen=True)
class PreparedImage:
    """A copy of the Docker build context in which the Dockerfile's prepare step has run, and the
    environment of a container of that image as it runs here (warehouse: DuckDB)."""

    context: Path
    environment: dict[str, str]
    dockerfile: Dockerfile

    @property
    def manifest(self) -> Path:
        return self.context / "dbt_project" / "target" / "manifest.json"


def prepare_image(directory: Path) -> PreparedImage:
    """Run the Dockerfile's `make manifest` step on a copy of its build context, as `docker build
    --build-arg ANALYTICS_WAREHOUSE=duckdb` would, with the image's ENV. Two differences, both
    because the package is installed here already: make uses this clone's venv (the image's comes
    from its own `make install` step; `-o` keeps make from re-installing into the shared venv), and
    ANALYTICS_DBT_PROJECT_DIR points at the copy (in the image the editable install's repo root is
    the context itself)."""
    import shlex

    dockerfile = Dockerfile.read()
    context = copy_build_context(directory / "context")
    environment = {
        **dockerfile.environment({"ANALYTICS_WAREHOUSE": "duckdb"}),
        "DAGSTER_HOME": str(directory / "dagster_home"),
        "ANALYTICS_DBT_PROJECT_DIR": str(context / "dbt_project"),
        "ANALYTICS_DUCKDB_PATH": str(directory / "warehouse.duckdb"),
    }
    environment.pop("PATH")
    [prepare] = [step for step in dockerfile.arguments("RUN") if step.startswith("make manifest")]
    venv = Path(sys.executable).parent.parent  # the venv `make install` built
    inherited = {name: value for name, value in os.environ.items()
                 if name not in DBT_VARIABLES and name != "DAGSTER_IS_DEV_CLI"}
    completed = subprocess.run(
        [*shlex.split(prepare), f"VENV={venv}", "-o", str(venv / ".installed")],
        cwd=context, env={**inherited, **environment}, capture_output=True, text=True, timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return PreparedImage(context, environment, dockerfile)


def read_rows(landing_file) -> list:
    """The rows of a landed file as the test reads them, independently of the loader: dicts
    (CSV with a header, JSON lines, parquet) or lists (TICKIT's header-less text files)."""
    import csv
    import io

    import pyarrow.parquet as pq

    if landing_file.key.endswith(".gz"):  # e.g. the game events' .json.gz
        import gzip
        from dataclasses import replace

        return read_rows(replace(landing_file, key=landing_file.key[:-3], body=gzip.decompress(landing_file.body)))
    if landing_file.key.endswith(".txt"):  # TICKIT, as published: no header, | or tab
        delimiter = "\t" if landing_file.key.endswith("_tab.txt") else "|"
        return list(csv.reader(io.StringIO(landing_file.body.decode()), delimiter=delimiter))
    if landing_file.key.endswith(".csv"):
        return list(csv.DictReader(io.StringIO(landing_file.body.decode())))
    if landing_file.key.endswith(".json"):
        return [json.loads(line) for line in landing_file.body.decode().splitlines() if line.strip()]
    return pq.read_table(io.BytesIO(landing_file.body)).to_pylist()


# --- warehouses these machines cannot reach (Redshift, Databricks): their SQL, checked offline ---

def compile_offline(selections: dict[str, list[str]], directory: Path, env: dict[str, str]) -> dict[str, Path]:
    """`dbt --no-populate-cache compile --no-introspect --target <t> --select <selection>` for each
    target, run side by side (one dbt process per target): target -> its target path. Python
    models are left out (a Python model compiles to Python, not SQL, and dbt-databricks opens a
    connection for it)."""
    targets = tuple(selections)
    from concurrent.futures import ThreadPoolExecutor

    manifest = json.loads(prepared_manifest().read_text())
    python_models = sorted(
        node["name"] for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node.get("language") == "python"
    )
    exclude = ["--exclude", *python_models] if python_models else []

    def compile_target(target: str) -> Path:
        target_path = directory / target
        run_dbt(["--no-populate-cache", "compile", "--no-introspect", "--target", target,
                 "--select", *selections[target], *exclude],
                target_path=target_path, env={**env, "ANALYTICS_WAREHOUSE": target})
        return target_path

    with ThreadPoolExecutor(len(targets)) as pool:
        return dict(zip(targets, pool.map(compile_target, targets)))


def sql_statements(sql: str) -> list[str]:
    """The statements of a rendered SQL file (`;`-separated, comments and blanks dropped)."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [" ".join(s.split()) for s in "\n".join(lines).split(";\n") if s.strip().rstrip(";")]


class RecordingConnection:
    """Stands in for a DB-API connection to a warehouse these machines cannot reach: records every
    statement (`%s` parameters inlined) and answers the queries a test lists in `answers`
    (substring of the statement -> rows, or a callable of the statement giving rows or raising)."""

    def __init__(self, answers: dict | None = None):
        self.statements: list[str] = []
        self.answers = dict(answers or {})
        self.autocommit = True

    def cursor(self):
        return RecordingCursor(self)

    def commit(self):
        self.statements.append("COMMIT")

    def close(self):
        pass


class RecordingCursor:
    def __init__(self, connection: RecordingConnection):
        self.connection = connection
        self.rows: list[tuple] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return None

    def execute(self, sql: str, params=None):
        for value in params or []:
            literal = ("(" + ", ".join(f"'{v}'" for v in value) + ")") if isinstance(value, tuple) else (
                "NULL" if value is None else str(value) if isinstance(value, int) else f"'{value}'")
            sql = sql.replace("%s", literal, 1)
        self.connection.statements.append(sql)
        self.rows = []
        for marker, answer in self.connection.answers.items():
            if marker in sql:
                self.rows = answer(sql) if callable(answer) else list(answer)
                break

    def executemany(self, sql: str, rows):
        for params in rows:
            self.execute(sql, list(params))

    def fetchall(self):
        return self.rows


OFFLINE_COMPILE_ENV = {
    "ANALYTICS_LANDING_BUCKET": "analytics-landing", "ANALYTICS_LANDING_PREFIX": "landing/",
    "ANALYTICS_REDSHIFT_IAM_ROLE": "arn:aws:iam::123456789012:role/spectrum", "AWS_REGION": "eu-west-1",
    # Never empty: dbt-databricks would try a browser OAuth login against the (unreachable) host.
    "DATABRICKS_TOKEN": "unset",
}
"""The settings the offline compiles render external tables with (conftest `offline_compiled`)."""


# --- plain-Python recomputations from landed files (never from a warehouse) ---

def landed_rows(landing_file) -> list[dict]:
    """The rows of a landed CSV, NDJSON or Parquet file, as dicts of its own values."""
    import csv
    import io

    import pyarrow.parquet as pq

    if landing_file.key.endswith(".csv"):
        return list(csv.DictReader(io.StringIO(landing_file.body.decode())))
    if landing_file.key.endswith(".json"):
        return [json.loads(line) for line in landing_file.body.decode().splitlines() if line.strip()]
    return pq.read_table(io.BytesIO(landing_file.body)).to_pylist()


def recomputed_daily_sales(files) -> list[tuple]:
    """gold_daily_sales from the landed e-commerce order files (docs/CONTRACTS.md): malformed files
    dropped, each order once (the last delivered wins), cancelled orders excluded; rows of
    (order_date, orders, units, revenue rounded half up to cents)."""
    from collections import defaultdict
    from datetime import datetime
    from decimal import ROUND_HALF_UP, Decimal

    orders = {
        row["order_id"].strip(): row
        for landing_file in files
        if landing_file.domain == "ecommerce" and landing_file.dataset == "orders" and not landing_file.malformed
        for row in landed_rows(landing_file)
    }
    days = defaultdict(lambda: [0, 0, Decimal(0)])
    for row in orders.values():
        if row["status"].strip().lower() == "cancelled":
            continue
        created = row["created_at"]
        day = days[(created if isinstance(created, datetime) else datetime.fromisoformat(str(created))).date()]
        day[0] += 1
        day[1] += int(row["quantity"])
        day[2] += int(row["quantity"]) * Decimal(str(row["unit_price"]))
    return [
        (day, count, units, revenue.quantize(Decimal("0.01"), ROUND_HALF_UP))
        for day, (count, units, revenue) in sorted(days.items())
    ]


def run_dbt_in_process(args: list[str], *, target_path: Path, env: dict[str, str]):
    """`dbt <args>` in this process (dbtRunner) with `env` set for the call: on the `spark` target
    it runs in the Spark session this process already has (the session fixture's), instead of
    starting a JVM per dbt process. Returns dbt's result; asserts it succeeded."""
    from dbt.cli.main import dbtRunner

    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"DO_NOT_TRACK": "1", "ANALYTICS_ENV": "local", **env}.items():
            patch.setenv(name, value)
        result = dbtRunner().invoke([
            *args, "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
            "--target-path", str(target_path), "--log-path", str(target_path / "logs"),
        ])
    failures = [
        f"{r.node.name}: {r.status}: {r.message}"
        for r in getattr(result.result, "results", None) or [] if str(r.status) not in ("success", "pass")
    ]
    assert result.success, failures or result.exception
    return result


# --- the game metrics recomputed from the landed event files (test_game, test_spark) ---

GAME_METRICS_SQL = {
    "dau": "SELECT activity_date, dau FROM gold.gold_game_active_players WHERE dau > 0",
    "level_completion": "SELECT level_id, plays, completions, completion_rate FROM gold.gold_game_level_stats",
    "iap_revenue": "SELECT purchase_date, currency, transactions, revenue FROM gold.gold_game_iap_daily",
    "sentiment": "SELECT rating_date, ratings, avg_rating FROM gold.gold_game_sentiment_daily",
}
"""Metric -> the warehouse query whose sorted rows `recomputed_game_metric` recomputes."""


def landed_game_events(files) -> list[tuple[str, dict]]:
    """(key, event) of every line of every well-formed game event file, duplicates included
    (files of other datasets are ignored)."""
    import gzip

    return [
        (f.key, json.loads(line))
        for f in files
        if (f.domain, f.dataset) == ("game", "events") and not f.malformed
        for line in gzip.decompress(f.body).decode().splitlines()
    ]


def unique_known_game_events(files) -> list[dict]:
    """One event per event_id (the last delivered), of the event types the contract knows."""
    from analytics_platform.local.sample_data.game import KNOWN_EVENT_TYPES

    by_id = {event["event_id"]: event for _, event in landed_game_events(files)}
    return [e for e in by_id.values() if e["event_type"] in KNOWN_EVENT_TYPES]


def recomputed_game_metric(files, metric: str) -> list[tuple]:
    """A game metric of GAME_METRICS_SQL in plain Python from the landed files (docs/GAME.md):
    rows sorted, decimals rounded half up as the models round them."""
    from collections import defaultdict
    from datetime import datetime, timezone
    from decimal import ROUND_HALF_UP, Decimal

    four = Decimal("0.0001")
    events = unique_known_game_events(files)

    def day_of(event: dict):
        return datetime.fromtimestamp(event["event_timestamp"], timezone.utc).date()

    if metric == "dau":
        players = defaultdict(set)
        for event in events:
            players[day_of(event)].add(event["event_data"]["player_id"])
        return sorted((day, len(ids)) for day, ids in players.items())
    if metric == "level_completion":
        counts = defaultdict(lambda: [0, 0])
        for event in events:
            if event["event_type"] in ("level_started", "level_completed"):
                counts[event["event_data"]["level_id"]][event["event_type"] == "level_completed"] += 1
        return sorted(
            (level, started, completed, (Decimal(completed) / Decimal(started)).quantize(four, ROUND_HALF_UP))
            for level, (started, completed) in counts.items()
        )
    if metric == "iap_revenue":
        revenue = defaultdict(lambda: [0, Decimal(0)])
        for event in events:
            if event["event_type"] == "iap_transaction":
                group = revenue[(day_of(event), event["event_data"]["currency"])]
                group[0] += 1
                group[1] += Decimal(str(event["event_data"]["amount"]))
        return sorted((day, currency, n, total.quantize(Decimal("0.01")))
                      for (day, currency), (n, total) in revenue.items())
    if metric == "sentiment":
        ratings = defaultdict(list)
        for event in events:
            if event["event_type"] == "user_sentiment":
                ratings[day_of(event)].append(event["event_data"]["user_rating"])
        return sorted((day, len(r), (Decimal(sum(r)) / Decimal(len(r))).quantize(four, ROUND_HALF_UP))
                      for day, r in ratings.items())
    raise ValueError(f"unknown game metric {metric!r}; known: {sorted(GAME_METRICS_SQL)}")
