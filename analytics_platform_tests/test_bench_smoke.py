"""`make bench-smoke` keeps working: every benchmark at a tiny scale, every row of the goal table.

Benchmarks are not tests (their figures are not asserted here, and `make bench` never runs in
`make test`); this checks that every benchmark still runs against the current code and produces
every row of the goal table (ROWS below) with a goal and a met/missed verdict, and
that the answers it compares are equal.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_SECONDS = 900  # a hang guard, not a speed goal: speed lives in `make bench`
# The rows of issue 12's goal table (plus the issue-4 figures still measured), as
# benchmarks/report.py orders them: each must come out of a smoke run with a goal and a verdict.
ROWS = {
    "dbt-processes", "e2e-script-large", "e2e-unorchestrated", "e2e-script-small",
    "incremental", "incremental-vs-idle", "incremental-equals-full-refresh", "ingestion",
    "dbt-overhead", "load-time-1000", "load-time-5000", "scale-time", "scale-memory",
    "sensor-tick", "sensor-tick-scaling", "ingest-memory",
}


def test_every_benchmark_row_in_smoke_mode(tmp_path: Path):
    results = tmp_path / "smoke.json"
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--smoke",
         "--work-dir", str(tmp_path / "work"), "--results", str(results)],
        cwd=REPO_ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
    )
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-3000:]

    data = json.loads(results.read_text())
    assert data["mode"] == "smoke"
    assert data["errors"] == {}
    rows = {f["row"]: f for f in data["figures"]}
    assert set(rows) == set(ROWS), f"missing rows {set(ROWS) - set(rows)}, unknown {set(rows) - set(ROWS)}"
    for figure in data["figures"]:
        assert figure["value"]["median"] is not None, figure["id"]
        assert figure["goal"], figure["id"]
        assert isinstance(figure["goal_met"], bool), figure["id"]
        assert figure["command"], figure["id"]
    assert data["machine"]["cores"] and data["machine"]["memory_gib"]
    # The smoke run still checks the answers, not just that something ran.
    assert rows["incremental-equals-full-refresh"]["goal_met"], rows["incremental-equals-full-refresh"]["details"]
    script = rows["e2e-script-large"]["details"]["gold_equal_to_script"]
    assert script["all_equal"], script
    replay = rows["e2e-unorchestrated"]["details"]
    assert replay["gold_equal_to_platform"]["all_equal"], replay
    assert not replay["replay"]["failed"], replay["replay"]["failed"]
    # A landing run (the job or the sensor's) starts one dbt process: the most in any run is 1.
    assert rows["dbt-processes"]["goal_met"], rows["dbt-processes"]
