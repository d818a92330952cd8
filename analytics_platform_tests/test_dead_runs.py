"""Issue 13, class 2: a run whose process died must not block the `warehouse` pool, and a failed
run is retried without a new file landing. Tested for real: the instance config the platform
writes (local/dagster_yaml.py), a `dagster-daemon run` process, a run worker killed with SIGKILL.

Without the launcher's worker check, Dagster notices a dead run worker only through the code server
that started it; the test kills both (with the daemon), then starts the platform again.

The code location here is a stand-in for the ingestion assets: one asset in the same
`warehouse` pool, run in process (so its step is its run worker), which hangs on its first run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from analytics_platform.local.console import stop_process_group
from analytics_platform.local.dagster_yaml import DAGSTER_YAML
from analytics_platform.settings import WAREHOUSE_POOL

from .helpers import REPO_ROOT

LOCATION = f'''
import os, time
from pathlib import Path
import dagster as dg

STATE = Path(os.environ["DEAD_RUN_TEST_STATE"])

@dg.asset(pool={WAREHOUSE_POOL!r})
def holds_the_warehouse(context):
    (STATE / f"{{context.run_id}}.pid").write_text(str(os.getpid()))
    hang = STATE / "hang_once"
    if hang.exists():
        hang.unlink()
        time.sleep(600)  # killed with SIGKILL before this ends

job = dg.define_asset_job("hold_warehouse", selection=[holds_the_warehouse], executor_def=dg.in_process_executor)
defs = dg.Definitions(assets=[holds_the_warehouse], jobs=[job])
'''


def wait_for(what: str, predicate, timeout: float, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


class Daemons:
    """`dagster-daemon run` processes on one instance, each in its own process group (with the
    code server it starts and the run workers that code server spawns)."""

    def __init__(self, tmp_path: Path, env: dict):
        self.tmp_path, self.env, self.processes = tmp_path, env, []

    def start(self) -> subprocess.Popen:
        log = (self.tmp_path / f"daemon{len(self.processes)}.log").open("wb")
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", str(self.tmp_path / "workspace.yaml")],
            cwd=self.tmp_path, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.processes:
            stop_process_group(process, grace_seconds=30)


@pytest.fixture
def daemon_instance(tmp_path: Path):
    home, state = tmp_path / "dagster_home", tmp_path / "state"
    home.mkdir()
    state.mkdir()
    (home / "dagster.yaml").write_text(DAGSTER_YAML)
    (tmp_path / "location.py").write_text(LOCATION)
    (tmp_path / "workspace.yaml").write_text(
        f"load_from:\n  - python_file:\n      relative_path: location.py\n      working_directory: {tmp_path}\n"
    )
    env = {**os.environ, "DAGSTER_HOME": str(home), "DEAD_RUN_TEST_STATE": str(state),
           "PYTHONPATH": str(REPO_ROOT)}
    daemons = Daemons(tmp_path, env)
    old_home = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        with dg.DagsterInstance.get() as instance:
            yield instance, daemons, env, state
    finally:
        if old_home is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = old_home
        daemons.stop_all()


def launch(tmp_path: Path, env: dict) -> str:
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "job", "launch", "-w", str(tmp_path / "workspace.yaml"),
         "-j", "hold_warehouse"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def test_a_killed_run_frees_the_warehouse_pool_and_is_retried(daemon_instance, tmp_path):
    instance, daemons, env, state = daemon_instance
    first_daemon = daemons.start()
    (state / "hang_once").touch()
    launch(tmp_path, env)
    [first] = wait_for("the first run to start", lambda: instance.get_runs(), timeout=60)
    pid_file = state / f"{first.run_id}.pid"
    worker_pid = int(wait_for(
        "the first run to hold the warehouse pool", lambda: pid_file.exists() and pid_file.read_text(), timeout=90
    ))
    assert not (state / "hang_once").exists()

    launch(tmp_path, env)  # queues behind the first run's `warehouse` slot
    second = wait_for("the second run to be submitted", lambda: next(
        (r for r in instance.get_runs() if r.run_id != first.run_id), None), timeout=60)
    time.sleep(3)
    assert instance.get_run_by_id(second.run_id).status != dg.DagsterRunStatus.SUCCESS  # blocked

    # The OOM killer, a crash of `make dev`, a lost node: the run worker dies with the daemon and
    # the code server that started it (one process group), so nothing reports its death; the
    # run stays STARTED and holds the `warehouse` slot. Then the platform comes back.
    os.killpg(first_daemon.pid, signal.SIGKILL)
    first_daemon.wait(timeout=30)
    wait_for("the run worker to be gone", lambda: not _alive(worker_pid), timeout=30)
    assert instance.get_run_by_id(first.run_id).status == dg.DagsterRunStatus.STARTED
    daemons.start()
    started = time.monotonic()

    wait_for("run monitoring to mark the killed run failed", lambda: instance.get_run_by_id(
        first.run_id).status == dg.DagsterRunStatus.FAILURE, timeout=60)
    wait_for("the second run to get the freed slot and succeed", lambda: instance.get_run_by_id(
        second.run_id).status == dg.DagsterRunStatus.SUCCESS, timeout=90)
    retry = wait_for("the killed run to be retried", lambda: next(
        (r for r in instance.get_runs() if r.tags.get("dagster/parent_run_id") == first.run_id), None), timeout=60)
    wait_for("the retry to succeed", lambda: instance.get_run_by_id(
        retry.run_id).status == dg.DagsterRunStatus.SUCCESS, timeout=90)
    assert time.monotonic() - started < 150


def _alive(pid: int) -> bool:
    from analytics_platform.local.instance import process_is_alive

    return process_is_alive(pid)
