"""The production instance (deploy/dagster.yaml, copied as it is) run for real on 127.0.0.1: its
PostgreSQL storage on the session's server (a database and a password login of its own), compute
logs in S3 (the moto server), a code server started with the image's command from the image's
prepared build context (conftest `prepared_image`), `dagster-webserver` and `dagster-daemon run`.
Everything goes through them as in production: the sensor and schedule are turned on and a run is
launched through the webserver's GraphQL API, the daemon ticks, queues and launches.

The warehouse is a DuckDB file (one writer per file), the strictest case for the `warehouse` pool.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.scheduler.instigation import InstigatorType, ScheduleInstigatorData

from analytics_platform.defs.landing.resources import build_s3_resource
from analytics_platform.local.console import stop_process_group
from analytics_platform.local.instance import process_is_alive
from analytics_platform.local.sample_data import generate_landing_files, upload_landing_files
from analytics_platform.settings import DBT_VARIABLES, load_settings

from .helpers import REPO_ROOT, PreparedImage, dataset_named, declared_datasets, free_port

LOCATION = "analytics_platform"
REPOSITORY = "__repository__"
SENSOR, SCHEDULE, SENSOR_JOB = "landing_files_sensor", "dbt_docs_daily", "ingest_and_build"
TICKIT = "tickit"


class Deployment:
    """The code server, webserver and daemon of one production instance, each in its own process
    group (a code server's run workers are in its group)."""

    def __init__(self, root: Path, env: dict[str, str], image: PreparedImage):
        self.root, self.env, self.image = root, env, image
        self.grpc_port, self.web_port = free_port(), free_port()
        self.processes: dict[str, subprocess.Popen] = {}
        (root / "workspace.yaml").write_text(
            f"load_from:\n  - grpc_server:\n      host: 127.0.0.1\n      port: {self.grpc_port}\n"
            f"      location_name: {LOCATION}\n"
        )
        self.instance = dg.DagsterInstance.from_config(env["DAGSTER_HOME"])

    def start(self, name: str, command: list[str]) -> None:
        log = (self.root / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            command, cwd=self.image.context, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def start_code_server(self) -> None:
        """The image's CMD, on loopback and a free port."""
        [cmd] = self.image.dockerfile.arguments("CMD")
        command = [word.replace("0.0.0.0", "127.0.0.1").replace("4000", str(self.grpc_port))
                   for word in json.loads(cmd)]
        self.start("code_server", [str(Path(sys.executable).with_name(command[0])), *command[1:]])

    def start_webserver(self) -> None:
        self.start("webserver", [str(Path(sys.executable).with_name("dagster-webserver")), "-h", "127.0.0.1",
                                 "-p", str(self.web_port), "-w", str(self.root / "workspace.yaml")])

    def start_daemon(self) -> None:
        if "daemon" not in self.processes:
            self.start("daemon", [str(Path(sys.executable).with_name("dagster-daemon")), "run",
                                  "-w", str(self.root / "workspace.yaml")])

    def kill(self, name: str) -> None:
        os.killpg(self.processes[name].pid, signal.SIGKILL)
        self.processes.pop(name).wait(timeout=30)

    def stop_all(self) -> None:
        for process in self.processes.values():
            stop_process_group(process, grace_seconds=20)
        self.instance.dispose()

    def graphql(self, query: str, **variables) -> dict:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.web_port}/graphql", method="POST",
            data=json.dumps({"query": query, "variables": variables}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.loads(response.read())
        assert "errors" not in body, body
        return body["data"]

    def launch(self, asset_keys: list[list[str]], tags: dict[str, str], checks: bool = False) -> str:
        """What the UI's *Materialize* does: a run of the sensor's job narrowed to `asset_keys`,
        by default without their checks (the dbt source tests: a dbt process, seconds to start)."""
        data = self.graphql(LAUNCH_RUN, params={
            "selector": {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY,
                         "jobName": SENSOR_JOB, "assetSelection": [{"path": key} for key in asset_keys],
                         **({} if checks else {"assetCheckSelection": []})},
            "runConfigData": {},
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]},
        })["launchRun"]
        assert data["__typename"] == "LaunchRunSuccess", data
        return data["run"]["runId"]

    def logs(self) -> str:
        """For a failure message: every run (status, seconds from creation to start and end) and
        the tail of each process's log."""
        runs = [
            f"{r.dagster_run.run_id[:8]} {r.dagster_run.job_name} {r.dagster_run.status.value} "
            f"start +{(r.start_time or 0) - r.create_timestamp.timestamp():.0f}s "
            f"end +{(r.end_time or 0) - r.create_timestamp.timestamp():.0f}s {dict(r.dagster_run.tags)}"
            for r in self.instance.get_run_records()
        ]
        return "\n".join(["runs:", *runs, *(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}"
                                            for log in sorted(self.root.glob("*.log")))])


LAUNCH_RUN = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
  ... on InvalidSubsetError { message } ... on RunConfigValidationInvalid { errors { message } } } }"""
START_SENSOR = """mutation($selector: SensorSelector!) { startSensor(sensorSelector: $selector) {
  __typename ... on Sensor { sensorState { status } } ... on PythonError { message } } }"""
START_SCHEDULE = """mutation($selector: ScheduleSelector!) { startSchedule(scheduleSelector: $selector) {
  __typename ... on ScheduleStateResult { scheduleState { status } } ... on PythonError { message } } }"""


def wait_for(what: str, predicate, timeout: float, deployment: Deployment, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{deployment.logs()}")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, postgres_server, s3_endpoint, prepared_image: PreparedImage):
    import psycopg2

    root = tmp_path_factory.mktemp("deployment")
    home = root / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text((REPO_ROOT / "deploy" / "dagster.yaml").read_text())

    # The instance's own database and login (md5 on TCP: the password is really checked).
    database, password = f"dagster_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    admin = psycopg2.connect(host="127.0.0.1", port=int(postgres_server["POSTGRES_PORT"]), user="postgres",
                             dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {database} LOGIN PASSWORD %s", (password,))
        cursor.execute(f"CREATE DATABASE {database} OWNER {database}")
    admin.close()

    settings = load_settings({
        **prepared_image.environment,
        "ANALYTICS_S3_ENDPOINT_URL": s3_endpoint,
        "ANALYTICS_LANDING_BUCKET": f"landing-{uuid.uuid4().hex[:12]}",
        "ANALYTICS_DUCKDB_PATH": str(root / "warehouse.duckdb"),
        "DAGSTER_HOME": str(home),
        # Nothing of this deployment is written under the clone's .local/.
        "ANALYTICS_DBT_DOCS_DIR": str(root / "dbt_docs"),
        "ANALYTICS_LAKE_DIR": str(root / "lake"),
        "ANALYTICS_SPARK_WAREHOUSE_DIR": str(root / "spark"),
    })
    logs_bucket = f"dagster-logs-{uuid.uuid4().hex[:8]}"
    s3 = build_s3_resource(settings).get_client()
    s3.create_bucket(Bucket=settings.landing_bucket)
    s3.create_bucket(Bucket=logs_bucket)
    instance_env = {
        "DAGSTER_PG_HOST": "127.0.0.1", "DAGSTER_PG_PORT": postgres_server["POSTGRES_PORT"],
        "DAGSTER_PG_USERNAME": database, "DAGSTER_PG_PASSWORD": password, "DAGSTER_PG_DB": database,
        "DAGSTER_COMPUTE_LOGS_BUCKET": logs_bucket, "AWS_ENDPOINT_URL_S3": s3_endpoint,
        "AWS_REGION": settings.aws_region, "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
    }
    inherited = {name: value for name, value in os.environ.items()
                 if name not in DBT_VARIABLES and name != "DAGSTER_IS_DEV_CLI"}
    env = {**inherited, **prepared_image.environment, **settings.to_environment(), **instance_env,
           "ANALYTICS_DBT_DOCS_S3_PREFIX": f"s3://{settings.landing_bucket}/dbt-docs"}

    with pytest.MonkeyPatch.context() as patch:
        for name, value in instance_env.items():  # this process opens the same instance
            patch.setenv(name, value)
        deployment = Deployment(root, env, prepared_image)
        deployment.settings, deployment.s3, deployment.logs_bucket = settings, s3, logs_bucket
        try:
            deployment.start_code_server()
            deployment.start_webserver()
            selector = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
            wait_for("the webserver to load the code location", lambda: _try(
                lambda: deployment.graphql(START_SENSOR, selector={**selector, "sensorName": SENSOR}
                                           )["startSensor"]["__typename"] == "Sensor"), 180, deployment, 2)
            yield deployment
        finally:
            deployment.stop_all()


def _try(call):
    try:
        return call()
    except (OSError, AssertionError):
        return None


def land_tickit(deployment: Deployment) -> dict[str, list[str]]:
    """Upload the TICKIT sample files (all of them: the relationships tests between TICKIT's bronze
    models need every table built once); returns each dataset's landed lines. Idempotent: the same
    bytes are the same objects, which nothing loads twice."""
    files = generate_landing_files(prefix=deployment.settings.landing_prefix,
                                   datasets=[d for d in declared_datasets() if d.domain == TICKIT])
    upload_landing_files(deployment.s3, deployment.settings.landing_bucket, files)
    return {f.dataset: f.body.decode().splitlines() for f in files}


def assert_loaded_exactly_once(deployment: Deployment, landed: dict[str, list[str]]) -> None:
    """Every raw table holds each landed line once: (rows, distinct keys) as counted in the files."""
    for dataset, lines in landed.items():
        expected = (len(lines), len({line.split("|")[0].split("\t")[0] for line in lines}))
        assert raw_rows(deployment, dataset) == expected, dataset


def raw_rows(deployment: Deployment, dataset: str) -> tuple[int, int]:
    """(rows, distinct keys) of a raw table, read after the runs have released the file."""
    key = dataset_named(dataset, TICKIT).columns[0].name
    with duckdb.connect(str(deployment.settings.duckdb_path), read_only=True) as con:
        return con.execute(f"SELECT count(*), count(DISTINCT {key}) FROM raw_tickit.{dataset}").fetchone()


def finished(deployment: Deployment, run_ids) -> bool:
    runs = [deployment.instance.get_run_by_id(run_id) for run_id in run_ids]
    return all(run is not None and run.is_finished for run in runs)


def test_sensor_schedule_and_manual_runs_at_once_share_the_warehouse(deployment: Deployment):
    started = time.monotonic()
    landed = land_tickit(deployment)

    # The sensor is on (the fixture turned it on through the webserver: production's default is
    # off). The nightly docs schedule is turned on the same way, as if turned on two days ago, so
    # the daemon's first scheduler pass launches the tick it "missed" at once.
    selector = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
    assert deployment.graphql(START_SCHEDULE, selector={**selector, "scheduleName": SCHEDULE}
                              )["startSchedule"]["scheduleState"]["status"] == "RUNNING"
    [state] = [s for s in deployment.instance.all_instigator_state(instigator_type=InstigatorType.SCHEDULE)
               if s.name == SCHEDULE]
    deployment.instance.update_instigator_state(state.with_data(ScheduleInstigatorData(
        cron_schedule=state.instigator_data.cron_schedule, start_timestamp=time.time() - 2 * 86400)))
    # A manual run of one ingestion asset, as from the UI: it writes the warehouse too.
    manual = deployment.launch([["raw", TICKIT, "category"]], {"analytics/trigger": "manual"})
    assert deployment.instance.get_run_by_id(manual).status == dg.DagsterRunStatus.QUEUED  # no daemon yet

    deployment.start_daemon()
    sensor_run = wait_for("the sensor to launch a run", lambda: next(iter(deployment.instance.get_runs(
        dg.RunsFilter(tags={"dagster/sensor_name": SENSOR}))), None), 90, deployment)
    schedule_run = wait_for("the schedule to launch a run", lambda: next(iter(deployment.instance.get_runs(
        dg.RunsFilter(tags={"dagster/schedule_name": SCHEDULE}))), None), 90, deployment)
    runs = [sensor_run.run_id, schedule_run.run_id, manual]
    wait_for("the three runs to finish", lambda: finished(deployment, runs), 480, deployment, 2)

    records = deployment.instance.get_run_records(dg.RunsFilter(run_ids=runs))
    statuses = {record.dagster_run.run_id: record.dagster_run.status for record in records}
    assert set(statuses.values()) == {dg.DagsterRunStatus.SUCCESS}, (statuses, deployment.logs())
    # The `warehouse` pool (limit 1) ran them one after another: no two overlapped.
    spans = sorted((record.start_time, record.end_time) for record in records)
    assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(spans)), spans
    assert sensor_run.tags["analytics/datasets"] == ",".join(sorted(f"{TICKIT}.{name}" for name in landed))

    # Each landed row loaded exactly once, though two runs ingested the category file.
    assert_loaded_exactly_once(deployment, landed)
    # The schedule's run published the docs site to S3; every run's logs went to the S3 bucket.
    published = {o["Key"] for o in deployment.s3.list_objects_v2(
        Bucket=deployment.settings.landing_bucket, Prefix="dbt-docs/")["Contents"]}
    assert {"dbt-docs/index.html", "dbt-docs/catalog.json"} <= published
    log_keys = [o["Key"] for o in deployment.s3.list_objects_v2(
        Bucket=deployment.logs_bucket, Prefix="dagster/compute-logs/").get("Contents", [])]
    for run_id in runs:
        assert any(run_id in key for key in log_keys), (run_id, log_keys)
    print(f"sensor + schedule + manual runs: {time.monotonic() - started:.0f} s")


def _worker_pid(deployment: Deployment, run_id: str) -> int | None:
    for entry in deployment.instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        metadata = entry.dagster_event.engine_event_data.metadata or {}
        if (entry.dagster_event.message or "").startswith("Started process for run") and "pid" in metadata:
            return int(metadata["pid"].value)
    return None


def _status(deployment: Deployment, run_id: str) -> dg.DagsterRunStatus:
    return deployment.instance.get_run_by_id(run_id).status


def _run_mid_way_with_one_queued(deployment: Deployment, dataset: str, queued_dataset: str) -> tuple[str, int, str]:
    """A run of `dataset`'s ingestion and its checks (a dbt step after it: seconds of work left
    once it has STARTED), caught STARTED with its worker's pid reported, and a second run queued
    behind it on the `warehouse` pool. (A worker that dies while its run is STARTING is caught by
    run_monitoring.start_timeout_seconds instead: Dagster checks worker health from STARTED on.)"""
    doomed = deployment.launch([["raw", TICKIT, dataset]], {"analytics/trigger": "manual"}, checks=True)
    queued = deployment.launch([["raw", TICKIT, queued_dataset]], {"analytics/trigger": "manual"})
    worker = wait_for("the run worker to start the run", lambda: _status(deployment, doomed) == dg.DagsterRunStatus.STARTED
                      and _worker_pid(deployment, doomed), 300, deployment, 0.2)
    assert _status(deployment, queued) == dg.DagsterRunStatus.QUEUED  # behind `doomed`
    return doomed, worker, queued


def test_a_killed_run_neither_blocks_the_next_nor_needs_a_person(deployment: Deployment):
    """SIGKILL, twice. First the run worker alone (the OOM killer's choice): the next run proceeds
    and the killed run is retried and succeeds. Then the code server (the user deployment's
    container) dies with its run worker: nothing is left to report the run's end, so only run
    monitoring (the launcher's pid check) can fail it; the orchestrator restarts the code server and
    the run queued behind the dead one proceeds. Nobody frees anything."""
    deployment.start_daemon()
    landed = land_tickit(deployment)
    killed_at = time.monotonic()

    doomed, worker, queued = _run_mid_way_with_one_queued(deployment, "users", "venue")
    os.kill(worker, signal.SIGKILL)
    wait_for("the killed run to fail", lambda: _status(deployment, doomed) == dg.DagsterRunStatus.FAILURE,
             180, deployment)
    wait_for("the queued run to succeed", lambda: _status(deployment, queued) == dg.DagsterRunStatus.SUCCESS,
             300, deployment, 2)
    retry = wait_for("the killed run to be retried", lambda: next(iter(deployment.instance.get_runs(
        dg.RunsFilter(tags={"dagster/parent_run_id": doomed}))), None), 120, deployment)
    wait_for("the retry to succeed", lambda: _status(deployment, retry.run_id) == dg.DagsterRunStatus.SUCCESS,
             300, deployment, 2)

    doomed, worker, queued = _run_mid_way_with_one_queued(deployment, "date", "category")
    deployment.kill("code_server")
    assert not process_is_alive(worker)
    assert _status(deployment, doomed) == dg.DagsterRunStatus.STARTED  # nothing reported its death
    wait_for("run monitoring to fail the dead run", lambda: _status(deployment, doomed) == dg.DagsterRunStatus.FAILURE,
             180, deployment)
    messages = [e.dagster_event.message or "" for e in deployment.instance.all_logs(doomed) if e.dagster_event]
    assert any(f"run worker process {worker} is gone" in message for message in messages), messages
    deployment.start_code_server()  # as ECS or Kubernetes restarts a dead service
    wait_for("the queued run to succeed", lambda: _status(deployment, queued) == dg.DagsterRunStatus.SUCCESS,
             300, deployment, 2)
    print(f"two killed runs: the next runs and the retry succeeded within {time.monotonic() - killed_at:.0f} s")

    # Every landed row once, whatever was killed mid-way (the killed `date` run is not retried:
    # see docs/DEPLOY.md, the retry needs the code server; its rows were landed by the sensor's run).
    assert_loaded_exactly_once(deployment, landed)
