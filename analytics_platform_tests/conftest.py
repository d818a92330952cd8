"""Shared fixtures: a real S3 API (moto server on loopback), a real DuckDB file per test, one
PostgreSQL server per session. Plain helpers live in helpers.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from analytics_platform.defs.landing.resources import (
    build_s3_resource,
)
from analytics_platform.local.s3_server import local_s3_server
from analytics_platform.settings import Settings

from .helpers import (
    OFFLINE_COMPILE_ENV,
    PG_BIN,
    BuiltPlatform,
    PreparedImage,
    as_postgres,
    build_platform,
    compile_offline,
    free_port,
    make_settings,
    parse_shared_manifest,
    prepare_image,
    prepared_manifest,
)

# --- two workers (`make test`: pytest-xdist, -n 2) ------------------------------------------------

# Session fixtures too expensive to build on each worker, and the modules that use them: each
# group runs on one worker, so its fixture is built once per run. Every other module is a group
# of its own (its module fixtures are built once); a PostgreSQL or S3 server is cheap enough for
# each worker to start its own. Heaviest group first, so the other worker takes the rest.
SHARED_FIXTURE_MODULES = {
    "built_platform": ("test_dbt_dagster.py", "test_end_to_end.py", "test_spark.py"),
    "prepared_image": ("test_deploy_image.py", "test_deploy_instance.py"),
    "offline_compiled": ("test_databricks.py", "test_dbt_project.py", "test_external_tables.py", "test_redshift.py"),
}
MODULE_GROUP = {module: group for group, modules in SHARED_FIXTURE_MODULES.items() for module in modules}


def _module_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0].rsplit("/", 1)[-1]


def pytest_configure(config: pytest.Config) -> None:
    # One parse per run, before the workers start (a worker has `workerinput`); they only read it.
    if not hasattr(config, "workerinput"):
        parse_shared_manifest()


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """xdist's scope scheduler with our groups as scopes. (Its `xdist_group` marks do not reach
    the scheduler under pytest 9: xdist 3.8 renames `item._nodeid`, which pytest 9 no longer reads.)"""
    from xdist.scheduler import LoadScopeScheduling

    class SharedFixtureScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = _module_of(nodeid)
            return MODULE_GROUP.get(module, module)

    config.option.loadscopereorder = False  # keep the order pytest_collection_modifyitems gives
    return SharedFixtureScheduling(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The shared groups first (heaviest first), each module's tests in their order; and a
    module that uses a shared fixture without being listed above is an error, not a second build."""
    for item in items:
        for fixture, modules in SHARED_FIXTURE_MODULES.items():
            if fixture in item.fixturenames and _module_of(item.nodeid) not in modules:
                raise pytest.UsageError(
                    f"{item.nodeid} uses the session fixture {fixture}: add its module to "
                    f"SHARED_FIXTURE_MODULES[{fixture!r}] in conftest.py (one build per run)"
                )
    rank = {group: index for index, group in enumerate(SHARED_FIXTURE_MODULES)}
    items.sort(key=lambda item: rank.get(MODULE_GROUP.get(_module_of(item.nodeid)), len(rank)))


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    with local_s3_server("http://127.0.0.1:0") as endpoint:
        yield endpoint


@pytest.fixture
def settings(tmp_path: Path, s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    settings = make_settings(tmp_path, s3_endpoint)
    for name, value in settings.to_environment().items():
        monkeypatch.setenv(name, value)
    return settings


@pytest.fixture
def s3_client(settings: Settings):
    client = build_s3_resource(settings).get_client()
    client.create_bucket(Bucket=settings.landing_bucket)
    return client


@pytest.fixture(scope="session")
def dbt_manifest() -> Path:
    return prepared_manifest()


@pytest.fixture(scope="session")
def prepared_image(tmp_path_factory) -> PreparedImage:
    """The Dockerfile's prepare step (`make manifest`) run once per session on a copy of the build
    context: test_deploy_image.py checks it, test_deploy_instance.py serves the code location
    from it."""
    return prepare_image(tmp_path_factory.mktemp("image"))


@pytest.fixture(scope="session")
def built_platform(tmp_path_factory, s3_endpoint, dbt_manifest) -> BuiltPlatform:
    """The sample data landed and built to gold once per session (test_end_to_end.py and
    test_dbt_dagster.py share it)."""
    return build_platform(tmp_path_factory.mktemp("platform"), s3_endpoint)


# --- one throwaway PostgreSQL 15 server per test session ------------------------------------------

@pytest.fixture(scope="session")
def postgres_server() -> dict[str, str]:
    """A PostgreSQL cluster on 127.0.0.1 for the whole session (superuser `postgres`, trust
    authentication for local sockets, md5 for TCP logins of other roles, so role passwords are
    real). Each test module takes its own database: `postgres_database(server, name)`."""
    if not (PG_BIN / "initdb").exists():
        # Never a skip: a missing server is a missing install step (.ci/run installs it).
        pytest.fail("PostgreSQL server binaries not installed: apt-get install -y postgresql")
    # Not under pytest's tmp root: the `postgres` user must be able to reach it.
    root = Path(tempfile.mkdtemp(prefix="analytics-postgres-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    data, port = root / "data", free_port()
    subprocess.run(as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"),
                   check=True, capture_output=True)
    # The superuser connects without a password; every other role must give its password.
    (root / "hba").write_text("host all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 md5\n"
                              "local all all trust\n")
    if os.geteuid() == 0:
        shutil.chown(root / "hba", "postgres")
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c hba_file={root / 'hba'}"
    subprocess.run(as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"),
                   check=True, capture_output=True)
    try:
        yield {"POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": str(port), "POSTGRES_USER": "postgres",
               "POSTGRES_DATABASE": "postgres"}
    finally:
        subprocess.run(as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"),
                       check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def offline_compiled(tmp_path_factory, dbt_manifest) -> dict[str, Path]:
    """The project compiled offline for the warehouses these machines cannot reach, once per
    session and side by side: target -> dbt target path, with every model and analysis."""
    everything = ["resource_type:model", "resource_type:analysis"]
    selections = {"databricks": everything, "redshift": everything}
    return compile_offline(selections, tmp_path_factory.mktemp("offline_compile"), OFFLINE_COMPILE_ENV)


# --- one local Spark session per test session (the stand-in for Databricks) -----------------------

@pytest.fixture(scope="session")
def spark_warehouse(tmp_path_factory):
    """(SparkSession, warehouse folder): started once, on a fresh parquet warehouse with its own
    embedded metastore. The Spark loader and in-process dbt (`run_dbt_in_process`) join it, so the
    session pays for one JVM. A process holds one Spark session: tests that need another warehouse
    run Spark in a subprocess."""
    if shutil.which("java") is None:
        pytest.fail("Java runtime not installed (pyspark needs Java 17): apt-get install -y openjdk-17-jre-headless")
    from analytics_platform.lib.warehouses.spark import open_spark_session, stop_spark_session

    directory = tmp_path_factory.mktemp("spark")
    session, started = open_spark_session(directory)
    try:
        yield session, directory
    finally:
        if started:
            stop_spark_session(session)
