"""The UI a newcomer sees, in a real browser: `make dev`'s code path (`analytics-platform dev`)
on free ports, Debian's Chromium driven by Playwright (no browser download).

`dev` seeds the landing bucket and its sensor loads and builds everything once; then the test
finds gold_daily_sales in the asset graph, reads its row count on its asset page, launches its
materialization with the Materialize button and waits for the run to succeed; then stops `dev`
with SIGTERM and checks that nothing it started is left. Screenshots go to the test's tmp dir,
and with UPDATE_SCREENSHOTS=1 to docs/images/ (the README shows them).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import duckdb
import playwright.sync_api as playwright  # a dev dependency: make test installs it

from analytics_platform.settings import Settings

from .helpers import copy_dbt_project

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
REPO_ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO_ROOT / "docs" / "images"
UI_START_SECONDS = 180  # 20 s on an idle machine, 75 s on a busy one
RUN_SECONDS = 240
SENSOR_RUN_SECONDS = 420  # ~90 s idle: ingestion and every dbt model once


if not CHROMIUM.exists():
    # Never a skip: a missing browser is a missing install step (.ci/run installs it).
    raise RuntimeError("Debian chromium is not installed: apt-get install -y chromium")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_http(url: str, seconds: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "analytics-platform dev exited"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise TimeoutError(f"{url} did not answer within {seconds} s")


def wait_for_code_location(base: str, seconds: float) -> None:
    """The webserver answers before the code server has loaded the definitions."""
    import json

    query = json.dumps(
        {"query": "{ workspaceOrError { ... on Workspace { locationEntries { "
                  "locationOrLoadError { __typename } } } } }"}
    ).encode()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        request = urllib.request.Request(
            f"{base}/graphql", data=query, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            entries = json.load(response)["data"]["workspaceOrError"]["locationEntries"]
        kinds = [(e["locationOrLoadError"] or {}).get("__typename") for e in entries]
        if kinds and all(kind == "RepositoryLocation" for kind in kinds):
            return
        assert "PythonError" not in kinds, "the code location failed to load"
        time.sleep(1)
    raise TimeoutError("the code location did not load")


def wait_for_sensor_run(settings: Settings) -> int:
    """`dev` seeds the empty landing bucket and its sensor (on by default locally) loads and
    builds everything once: the parents the UI's materialization of gold_daily_sales needs.
    Returns gold_daily_sales' row count, read from the warehouse once that run succeeded."""
    from analytics_platform.cli import _relations

    deadline = time.monotonic() + SENSOR_RUN_SECONDS
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        while time.monotonic() < deadline:
            runs = [
                r for r in instance.get_runs(limit=20)
                if r.tags.get("analytics/trigger") == "landing_files_sensor"
            ]
            failed = [r.run_id for r in runs if r.status == dg.DagsterRunStatus.FAILURE]
            assert not failed, f"the sensor's run failed: {failed}"
            if any(r.status == dg.DagsterRunStatus.SUCCESS for r in runs):
                break
            time.sleep(2)
        else:
            raise TimeoutError(f"the sensor's run did not succeed within {SENSOR_RUN_SECONDS} s")
    table = _relations(settings, ("gold_daily_sales",))["gold_daily_sales"]
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def save(page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path))
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SCREENSHOTS / path.name)


def test_newcomer_materializes_gold_daily_sales_from_the_ui(
    settings: Settings, tmp_path: Path, dbt_manifest
):
    # A fresh warehouse: the sensor's first run must build everything gold_daily_sales needs,
    # the dbt seeds included (no `make demo` before).
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # `dev` parses the project it serves (and `dagster dev` again on each load): on a copy, so
    # that it never rewrites the manifest.json the other pytest worker is reading.
    project = copy_dbt_project(tmp_path / "dbt_project")
    environment = {**os.environ, **settings.to_environment(), "DAGSTER_DISABLE_TELEMETRY": "1",
                   "ANALYTICS_DBT_PROJECT_DIR": str(project)}
    log = (tmp_path / "dev.log").open("w")
    dev = subprocess.Popen(
        [sys.executable, "-m", "analytics_platform.cli", "dev", "--port", str(port)],
        cwd=REPO_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_http(f"{base}/server_info", UI_START_SECONDS, dev)
        wait_for_code_location(base, UI_START_SECONDS)
        rows = wait_for_sensor_run(settings)
        with playwright.sync_playwright() as driver:
            browser = driver.chromium.launch_persistent_context(
                str(tmp_path / "chromium"),  # a fresh --user-data-dir
                executable_path=str(CHROMIUM),
                args=CHROMIUM_FLAGS,
                headless=True,
                viewport={"width": 1600, "height": 1000},
            )
            page = browser.new_page()
            page.set_default_timeout(30_000)

            # The global lineage opens with every group collapsed (Dagster's choice): a group's
            # lineage shows its assets.
            page.goto(f"{base}/locations/analytics_platform/asset-groups/ecommerce_gold/lineage")
            skip_community_prompt(page)
            page.get_by_text("gold_daily_sales", exact=True).first.wait_for()
            page.wait_for_timeout(1_000)  # the graph's layout animation
            save(page, tmp_path, "asset-graph")

            page.goto(f"{base}/assets/gold_daily_sales")
            page.get_by_text(f"{rows:,}", exact=True).first.wait_for()
            save(page, tmp_path, "asset-page")

            # The incremental facts are unpartitioned: their page tells what ran, no partition
            # bar reading "0% filled" after the run that built them.
            page.goto(f"{base}/assets/silver_orders")
            page.get_by_text("silver_orders", exact=True).first.wait_for()
            page.wait_for_timeout(1_000)
            assert "% filled" not in page.inner_text("body")
            page.goto(f"{base}/assets/gold_daily_sales")
            page.get_by_text(f"{rows:,}", exact=True).first.wait_for()
            # On a slow machine the community dialog can open on a later page than the first
            # (seen once: its backdrop took the click).
            skip_community_prompt(page)

            page.get_by_role("button", name="Materialize").first.click()
            run_id = wait_for_ui_run(settings, started_after=time.time() - 5)
            page.goto(f"{base}/runs/{run_id}")
            page.get_by_text("Success").first.wait_for()
            save(page, tmp_path, "run")
            browser.close()
    finally:
        stopped_at = time.monotonic()
        dev.send_signal(signal.SIGTERM)
        try:
            dev.wait(timeout=20)
        finally:
            log.close()
    assert time.monotonic() - stopped_at < 15, "make dev took too long to stop"
    leftovers = subprocess.run(
        ["pgrep", "-g", str(dev.pid)], check=False, capture_output=True, text=True
    ).stdout.split()
    assert not leftovers, f"processes left in dev's process group: {leftovers}"


def skip_community_prompt(page) -> None:
    """A first visit shows a "Join the Dagster community" dialog; Skip closes it for good."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(timeout=5_000)
    except playwright.TimeoutError:
        return
    skip.click()


def wait_for_ui_run(settings: Settings, started_after: float) -> str:
    """The run the Materialize button launched (it selects gold_daily_sales alone): succeeded."""
    deadline = time.monotonic() + RUN_SECONDS
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        while time.monotonic() < deadline:
            for record in instance.get_run_records(limit=20):
                run = record.dagster_run
                if record.create_timestamp.timestamp() < started_after:
                    continue
                if run.asset_selection != {dg.AssetKey("gold_daily_sales")}:
                    continue
                if run.status == dg.DagsterRunStatus.SUCCESS:
                    return run.run_id
                assert run.status not in {
                    dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED
                }, f"run {run.run_id} ended {run.status}"
            time.sleep(2)
    raise TimeoutError(f"no successful UI run of gold_daily_sales within {RUN_SECONDS} s")
